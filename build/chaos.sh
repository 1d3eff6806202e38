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
"$dir/HelloWeb" >master.log 2>&1 &
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
    if (( SECONDS - start > limit )); then echo "chaos: gave up waiting for $what"; stuck+=("$what"); return 1; fi
    sleep 0.2
  done
}
master() { cat app.pid 2>/dev/null || cat app.pid.oldbin; }
count() { grep -c "$1" master.log || true; }
# The master's own word (its control socket): how many of its workers are ready, and none starting.
ready() {
  local pid
  pid=$(cat app.pid 2>/dev/null) || return 1
  [ -f app.pid.oldbin ] && return 1
  grep -q "Master $pid control socket at " master.log || return 1
  "$dir/HelloWeb" fugue status 2>/dev/null \
    | awk -v n="$1" '/ starting/ { bad = 1 } / ready/ { r++ } END { exit !(r == n && !bad) }'
}
grows() { (( $(count "$1") > $2 )); }

wait_for "the first master" 60 ready 2
workers=2
loads=()
wrk -t2 -c32 -d"${duration}s" --timeout 30s "http://127.0.0.1:$port/" >wrk.txt 2>&1 & loads+=($!)
hey -z "${duration}s" -c 8 -disable-keepalive -t 30 "http://127.0.0.1:$port/" >hey.txt 2>&1 & loads+=($!)

declare -A done_count=()
stuck=()
end=$((SECONDS + duration - 15))
while (( SECONDS < end )); do
  sleep "$(( RANDOM % 4 + 2 ))"
  pid=$(master)
  rolls=$(count "Rolling restart to generation .* \(done\|aborted\)")
  aborts=$(count "Rolling restart to generation .* aborted")
  refusals=$(count "Reload refused")
  rollbacks=$(count "Re-exec rolled back")
  case $(( RANDOM % 8 )) in
    0) event=hup; kill -HUP "$pid"; workers=2; wait_for "the roll" 60 grows "Rolling restart to generation .* \(done\|aborted\)" "$rolls" || true ;;
    1) event=usr2; kill -USR2 "$pid"; workers=2; wait_for "the handover" 60 bash -c "! kill -0 $pid 2>/dev/null" || true ;;
    2) event=ttin; (( workers < 4 )) || continue; kill -TTIN "$pid"; workers=$((workers + 1)) ;;
    3) event=ttou; (( workers > 1 )) || continue; kill -TTOU "$pid"; workers=$((workers - 1)) ;;
    # Signals of one kind sent faster than the master takes them coalesce (the kernel keeps one pending): one at a time.
    4) event=winch; kill -WINCH "$pid"; for ((i = 0; i < workers; i++)); do sleep 0.3; kill -TTIN "$pid"; done ;;
    5) event=bad-hup; echo '{ "Fugue": { "Workers": 3 ' >appsettings.json; kill -HUP "$pid"
       wait_for "the refusal" 30 grows "Reload refused" "$refusals" || true ; echo "$good" >appsettings.json ;;
    6) event=bad-usr2; echo '{ "Fugue": { "Workers": 3 ' >appsettings.json; kill -USR2 "$pid"
       wait_for "the rollback" 60 grows "Re-exec rolled back" "$rollbacks" || true ; echo "$good" >appsettings.json ;;
    7) event=stop-replacement; starts=$(count "started to replace"); kill -HUP "$pid"; workers=2
       wait_for "a replacement" 30 grows "started to replace" "$starts" || continue
       new=$(grep -o 'Worker [0-9]* (pid [0-9]*) started to replace' master.log | tail -n 1 | grep -o 'pid [0-9]*' | cut -d' ' -f2)
       kill -STOP "$new" 2>/dev/null || true
       if grep -q "(pid $new) ready" master.log; then kill -CONT "$new"; continue; fi # too late: it serves already
       wait_for "the abort" 60 grows "Rolling restart to generation .* aborted" "$aborts" || true ;;
  esac
  done_count[$event]=$(( ${done_count[$event]:-0} + 1 ))
  wait_for "$workers workers ready after $event" 60 ready "$workers" || break
done
wait "${loads[@]}" || true
loads=()

pid=$(master)
wait_for "the final state" 60 ready "$workers" || true
final="$workers of $workers workers ready"
# Each figure from one awk over the tool's report (a figure that is absent is 0).
hey_total=$(awk '/^ *\[200\]/ { n += $2 } END { print n + 0 }' hey.txt)
hey_other=$(awk '/Status code distribution/ { on = 1; next } /^$/ { on = 0 } on && !/\[200\]/ { n += $2 } END { print n + 0 }' hey.txt)
hey_errors=$(awk '/Error distribution/ { on = 1; next } on && /^ *\[[0-9]+\]/ { gsub(/[][]/, "", $1); n += $1 } END { print n + 0 }' hey.txt)
wrk_total=$(awk '/requests in/ { print $1 }' wrk.txt)
wrk_errors=$(awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print; found = 1 } END { if (!found) print "none" }' wrk.txt)
wrk_non2xx=$(awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' wrk.txt)
deaths=$(grep -c 'Fugue master [0-9]* failed\|Supervisor\[27\]\|Supervisor\[40\]' master.log || true)

echo "chaos: ${duration}s, events: $(for k in "${!done_count[@]}"; do printf '%s=%s ' "$k" "${done_count[$k]}"; done)"
echo "wrk: ${wrk_total:-0} requests, ${wrk_non2xx} non-2xx, socket errors: ${wrk_errors}"
echo "hey: ${hey_total:-0} responses 200, ${hey_other:-0} other, ${hey_errors:-0} errors"
echo "masters that failed: $deaths; final: master $pid, $final, $(pgrep -P "$pid" | wc -l) workers running"
echo "waits that timed out: ${#stuck[@]} ${stuck[*]:-}"
echo "log: $dir/master.log"
[ "${wrk_non2xx}" = 0 ] && [ "$wrk_errors" = none ] && [ "${hey_other:-0}" = 0 ] && [ "${hey_errors:-0}" = 0 ] && [ "$deaths" = 0 ] && [ "${#stuck[@]}" = 0 ]
