#!/usr/bin/env bash
# Chaos under load: HelloWeb (Release) behind wrk (keep-alive) and hey (no keep-alive) on loopback, while a random
# mix of operator events hits the master: HUP, USR2, TTIN, TTOU, WINCH (then TTIN), a HUP and a USR2 with a broken
# appsettings.json, and SIGSTOP to a HUP's replacement while it starts. Prints what failed (must be 0), how many
# masters died (must be 0) and the final state (every slot ready), and exits non-zero if any is off.
#   build/chaos.sh [seconds]     default 300; every load tool and wait is bounded by it
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-300}
port=5300
if ! command -v wrk >/dev/null || ! command -v hey >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk hey >/dev/null
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! out=$(dotnet build -c Release samples/HelloWeb -v quiet -nologo 2>&1); then echo "$out"; exit 1; fi

dir=$(mktemp -d /tmp/fugue-chaos-XXXXXX)
cp -r samples/HelloWeb/bin/Release/net10.0/. "$dir/"
cd "$dir"
good=$(cat appsettings.json)
export Fugue__Listen__0=http://127.0.0.1:$port Fugue__PidFile=$dir/app.pid Fugue__WorkerBootTimeout=00:00:10 Fugue__TempPath=$dir
./HelloWeb >master.log 2>&1 &
first=$!
cleanup() {
  kill -9 $(pgrep -f "$dir/HelloWeb" 2>/dev/null) "${loads[@]:-}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_for() { # wait_for <what> <seconds> <command...>
  local what=$1 limit=$2 start=$SECONDS
  shift 2
  until "$@"; do
    if (( SECONDS - start > limit )); then echo "chaos: gave up waiting for $what"; return 1; fi
    sleep 0.2
  done
}
master() { cat app.pid 2>/dev/null || cat app.pid.oldbin; }
count() { grep -c "$1" master.log || true; }
# The master's own word (its control socket): how many of its workers are ready, and none starting.
ready() {
  local pid sock
  pid=$(cat app.pid 2>/dev/null) || return 1
  [ -f app.pid.oldbin ] && return 1
  sock=$(grep -o "Master $pid control socket at .*" master.log | sed 's/.* at //') || return 1
  python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect('$sock'); print(s.recv(65536).decode())" 2>/dev/null \
    | awk -v n="$1" '/ starting/ { bad = 1 } / ready/ { r++ } END { exit !(r == n && !bad) }'
}
grows() { (( $(count "$1") > $2 )); }

wait_for "the first master" 60 ready 2
workers=2
loads=()
wrk -t2 -c32 -d"${duration}s" --timeout 30s "http://127.0.0.1:$port/" >wrk.txt 2>&1 & loads+=($!)
hey -z "${duration}s" -c 8 -disable-keepalive -t 30 "http://127.0.0.1:$port/" >hey.txt 2>&1 & loads+=($!)

declare -A done_count=()
end=$((SECONDS + duration - 15))
while (( SECONDS < end )); do
  sleep "$(( RANDOM % 4 + 2 ))"
  pid=$(master)
  rolls=$(count "Rolling restart to generation .* \(done\|aborted\)")
  aborts=$(count "Rolling restart to generation .* aborted")
  refusals=$(count "Reload refused")
  rollbacks=$(count "Re-exec rolled back")
  case $(( RANDOM % 8 )) in
    0) event=hup; kill -HUP "$pid"; workers=2; wait_for "the roll" 60 grows "Rolling restart to generation .* \(done\|aborted\)" "$rolls" ;;
    1) event=usr2; kill -USR2 "$pid"; workers=2; wait_for "the handover" 60 bash -c "! kill -0 $pid 2>/dev/null" ;;
    2) event=ttin; (( workers < 4 )) || continue; kill -TTIN "$pid"; workers=$((workers + 1)) ;;
    3) event=ttou; (( workers > 1 )) || continue; kill -TTOU "$pid"; workers=$((workers - 1)) ;;
    4) event=winch; kill -WINCH "$pid"; sleep 0.5; for ((i = 0; i < workers; i++)); do kill -TTIN "$pid"; done ;;
    5) event=bad-hup; echo '{ "Fugue": { "Workers": 3 ' >appsettings.json; kill -HUP "$pid"
       wait_for "the refusal" 30 grows "Reload refused" "$refusals"; echo "$good" >appsettings.json ;;
    6) event=bad-usr2; echo '{ "Fugue": { "Workers": 3 ' >appsettings.json; kill -USR2 "$pid"
       wait_for "the rollback" 60 grows "Re-exec rolled back" "$rollbacks"; echo "$good" >appsettings.json ;;
    7) event=stop-replacement; starts=$(count "started to replace"); kill -HUP "$pid"; workers=2
       wait_for "a replacement" 30 grows "started to replace" "$starts"
       new=$(grep -o 'Worker [0-9]* (pid [0-9]*) started to replace' master.log | tail -n 1 | grep -o 'pid [0-9]*' | cut -d' ' -f2)
       kill -STOP "$new" 2>/dev/null || true
       if grep -q "(pid $new) ready" master.log; then kill -CONT "$new"; continue; fi # too late: it serves already
       wait_for "the abort" 60 grows "Rolling restart to generation .* aborted" "$aborts" ;;
  esac
  done_count[$event]=$(( ${done_count[$event]:-0} + 1 ))
  wait_for "$workers workers ready after $event" 60 ready "$workers"
done
wait "${loads[@]}" || true
loads=()

pid=$(master)
wait_for "the final state" 60 ready "$workers"
final="$workers of $workers workers ready"
hey_total=$(grep -o '\[200\][[:space:]]*[0-9]* responses' hey.txt | grep -o '[0-9]* responses' | cut -d' ' -f1)
hey_other=$(sed -n '/Status code distribution/,/^$/p' hey.txt | grep -v '\[200\]' | grep -o '[0-9]* responses' | awk '{ n += $1 } END { print n + 0 }')
hey_errors=$(sed -n '/Error distribution/,$p' hey.txt | grep -o '^ *\[[0-9]*\]' | tr -d ' []' | awk '{ n += $1 } END { print n + 0 }')
wrk_total=$(grep -o '[0-9]* requests in' wrk.txt | cut -d' ' -f1)
wrk_errors=$(grep -o 'Socket errors: .*' wrk.txt || echo "Socket errors: none")
wrk_non2xx=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' wrk.txt | grep -o '[0-9]*$' || echo 0)
deaths=$(grep -c 'Fugue master [0-9]* failed\|Supervisor\[27\]\|Supervisor\[40\]' master.log || true)

echo "chaos: ${duration}s, events: $(for k in "${!done_count[@]}"; do printf '%s=%s ' "$k" "${done_count[$k]}"; done)"
echo "wrk: ${wrk_total:-0} requests, ${wrk_non2xx} non-2xx, ${wrk_errors}"
echo "hey: ${hey_total:-0} responses 200, ${hey_other:-0} other, ${hey_errors:-0} errors"
echo "masters that failed: $deaths; final: master $pid, $final, $(pgrep -P "$pid" | wc -l) workers running"
echo "log: $dir/master.log"
[ "${wrk_non2xx}" = 0 ] && [ "$wrk_errors" = "Socket errors: none" ] && [ "${hey_other:-0}" = 0 ] && [ "${hey_errors:-0}" = 0 ] && [ "$deaths" = 0 ]
