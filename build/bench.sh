#!/usr/bin/env bash
# Benchmarks of Fugue.Hosting (Release build, loopback only, every run bounded). Prints a table per scenario.
#   build/bench.sh                  all scenarios
#   build/bench.sh restarts [n]     the master's fds and RSS over n worker restarts (default 500)
#   build/bench.sh throughput [r]   wrk req/s and p99: plain Kestrel vs Fugue with 2 and 4 workers, r rounds (default 3)
#   build/bench.sh reloads [n]      n HUP then n USR2 under wrk (keep-alive) and hey (no keep-alive): failures, p99
#   build/bench.sh balance          connections each worker holds under wrk keep-alive -c64, 2 and 4 workers
#   build/bench.sh startup [r]      start to all workers ready (1, 2, 4) and resuscitation vs the app's cold start
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk hey >/dev/null
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release test/Fugue.Hosting.Benchmarks -v quiet -nologo >/dev/null
bench=test/Fugue.Hosting.Benchmarks/bin/Release/net10.0/Fugue.Hosting.Benchmarks
if [ $# -eq 0 ]; then
  "$bench" throughput
  "$bench" reloads
  "$bench" balance
  "$bench" startup
  "$bench" restarts
else
  "$bench" "$@"
fi
