#!/usr/bin/env bash
# Fuzzes what crosses a trust boundary into the master: every worker's control channel (random datagrams as fast as
# the master reads them), the control socket (random bytes, cut lines, silent clients, a thousand at once), the shared
# request table (random values in every cell while the loop, status and the meter read it) and a HUP's configuration
# (random values for random options). Each fuzzer is a test of the suite, run here for longer; prints one table row
# per boundary (inputs, crashes, hangs, memory before and after) and exits non-zero if any fuzzer failed. A row is
# written only by a fuzzer that passed: its master never died nor failed a step and answered status throughout.
#   build/fuzz.sh [seconds per fuzzer] [seed]     default 120 s, a random seed (printed in each row)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export FUGUE_FUZZ_SECONDS=${1:-120}
[ -n "${2:-}" ] && export FUGUE_FUZZ_SEED=$2
report=$(mktemp /tmp/fugue-fuzz-XXXXXX.md)
trap 'rm -f "$report"' EXIT
export FUGUE_FUZZ_REPORT=$report
status=0
timeout $((FUGUE_FUZZ_SECONDS * 4 + 600)) dotnet test test/Fugue.Hosting.Tests --filter "FullyQualifiedName~Fugue.Hosting.Tests.Fuzz" -nologo || status=$?
echo
echo "| boundary | run | inputs | crashes | hangs | memory before | memory after |"
echo "|---|---|---|---|---|---|---|"
cat "$report"
exit $status
