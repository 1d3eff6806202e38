#!/usr/bin/env bash
# Benchmarks of Fugue.Hosting (Release build, loopback only, every run bounded). Prints a table per scenario.
#   build/bench.sh                  all scenarios
#   build/bench.sh restarts [n]     the master's fds and RSS over n worker restarts (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release test/Fugue.Hosting.Benchmarks -v quiet -nologo >/dev/null
bench=test/Fugue.Hosting.Benchmarks/bin/Release/net10.0/Fugue.Hosting.Benchmarks
if [ $# -eq 0 ]; then
  "$bench" restarts
else
  "$bench" "$@"
fi
