#!/usr/bin/env bash
# Benchmarks of Fugue.Hosting (Release build, loopback only, every run bounded). Prints a table per scenario.
#   build/bench.sh                  every scenario (about 40 minutes), then the summary against the targets;
#                                   writes docs/benchmarks/results.md (tables, raw numbers) and reloads.svg
#   build/bench.sh throughput [r]   wrk req/s and p99: plain Kestrel vs Fugue with 2 and 4 workers, r rounds (default 5)
#   build/bench.sh counting [r]     wrk req/s and p99 of 2 workers counting requests (the default) and not, r rounds
#   build/bench.sh reloads [n]      n HUP then n USR2 under wrk (keep-alive) and hey (no keep-alive): failures, p99
#   build/bench.sh timeline         req/s and p99 over time across one HUP and one USR2 (hey keep-alive): reloads.svg
#   build/bench.sh balance          connections each worker holds under wrk keep-alive -c64, 2 and 4 workers, balance off/on
#   build/bench.sh affinity [r]     hub affinity on/off: wrk on a non-hub path (keep-alive, new connections), and the
#                                   first response to a hub WebSocket upgrade on a new connection; r rounds (default 3)
#   build/bench.sh startup [r]      start to all workers ready (1, 2, 4) and resuscitation vs the app's cold start,
#                                   JIT and (with clang) Native AOT
#   build/bench.sh restarts [n]     the master's fds and memory over n worker restarts (default 500)
#   build/bench.sh recycling [n] [load]  n recycles by MaxRequests (default 100) under wrk (keep-alive) and hey (no
#                                   keep-alive), with and without a spare, under hey at a fixed rate, and with Native
#                                   AOT: failures, p99 against a steady cluster, the CPU, the master's fds and RSS along
#                                   the way; load: only one of wrk, hey, wrk-spare, hey-spare, rate, rate-sparse,
#                                   rate-idle (ReplacementIdleTime=10s), rate-spaced and rate-idle-spaced
#                                   (MaxRequests=100000, without and with it), wrk-aot, rate-aot, rate-aot-idle (3s)
#   build/bench.sh memory [m]       MemoryLimit against TestApp leaking 5 MiB/s for m minutes (default 10), and against
#                                   a 512 MiB mapped file (at most 2 minutes): private memory, recycles, failures
#   build/bench.sh peers [pairs] [s] [Key=Value ...]
#                                   recycling against Gunicorn (installed if missing): each at half its own saturation
#                                   (hey, with and without keep-alive), steady and recycling a worker every 5 s, in
#                                   pairs of s-second runs (default 5 pairs of 120 s): p99 ratio, recycles, failures;
#                                   Key=Value: settings of Fugue's runs (e.g. Fugue__SpareWorkers=1)
#   build/bench.sh resuscitation [n] [Key=Value ...]
#                                   n SIGKILLs of a worker of 2 under load, each kill's figures (startup's last rows),
#                                   with settings given as environment variables (e.g. Fugue__BalanceConnections=false)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null || ! command -v hey >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk hey >/dev/null
fi
if [ "${1:-}" = peers ] && ! command -v gunicorn >/dev/null; then
  apt-get update -qq && apt-get install -y -qq gunicorn >/dev/null
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if ! out=$(dotnet build -c Release test/Fugue.Hosting.Benchmarks -v quiet -nologo 2>&1); then echo "$out"; exit 1; fi
# The Native AOT rows (startup) need HelloAot published, which needs clang.
if command -v clang >/dev/null; then
  if ! out=$(dotnet publish samples/HelloAot -c Release -o samples/HelloAot/bin/aot -v quiet -nologo 2>&1); then echo "$out"; exit 1; fi
fi
bench=test/Fugue.Hosting.Benchmarks/bin/Release/net10.0/Fugue.Hosting.Benchmarks
"$bench" "${@:-all}"
