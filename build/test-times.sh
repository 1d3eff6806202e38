#!/usr/bin/env bash
# Where the test suite's time goes: runs the README's test command with a trx log, then prints the wall time, the
# summed test time, and the slowest tests and classes, with the classes that run alone (collections with
# DisableParallelization, after the others) marked. For the suite's time budget; asserts nothing.
#   build/test-times.sh [how many rows, default 25]
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
rows=${1:-25}
results=$(mktemp -d /tmp/fugue-test-times-XXXXXX)
trap 'rm -rf "$results"' EXIT
start=$(date +%s)
status=0
dotnet test --logger "trx;LogFileName=times.trx" --results-directory "$results" || status=$?
echo "wall: $(( $(date +%s) - start )) s (build included), exit $status"
alone=$(grep -rlE "DisableParallelization = true" test/Fugue.Hosting.Tests --include=*.cs | xargs grep -hoE "CollectionDefinition\((nameof\()?\"?[A-Za-z ]+" \
    | sed -E 's/CollectionDefinition\((nameof\()?"?//' | sort -u | paste -sd'|')
serial=$(grep -rlE "\[Collection\((nameof\()?\"?($alone)" test/Fugue.Hosting.Tests --include=*.cs | xargs -n1 basename | sed 's/\.cs$//' | paste -sd' ')
python3 - "$results/times.trx" "$rows" "$serial" <<'PY'
import sys, xml.etree.ElementTree as ET
trx, rows, serial = sys.argv[1], int(sys.argv[2]), set(sys.argv[3].split())
ns = '{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}'
tests = []
for r in ET.parse(trx).getroot().iter(ns + 'UnitTestResult'):
    h, m, s = r.get('duration').split(':')
    name = r.get('testName').split('(')[0]
    tests.append((int(h) * 3600 + int(m) * 60 + float(s), name, r.get('outcome')))
classes = {}
for seconds, name, _ in tests:
    cls = name.rsplit('.', 1)[0].rsplit('.', 1)[-1]
    classes[cls] = classes.get(cls, 0) + seconds
alone = sum(v for k, v in classes.items() if k in serial)
print(f"tests: {len(tests)}, summed {sum(t[0] for t in tests):.0f} s, of which {alone:.0f} s in classes that run alone")
print(f"\n| class | s | alone |\n|---|---|---|")
for cls, seconds in sorted(classes.items(), key=lambda c: -c[1])[:rows]:
    print(f"| {cls} | {seconds:.1f} | {'yes' if cls in serial else ''} |")
print(f"\n| test | s | outcome |\n|---|---|---|")
for seconds, name, outcome in sorted(tests, reverse=True)[:rows]:
    print(f"| {name.rsplit('.', 2)[-2]}.{name.rsplit('.', 1)[-1][:90]} | {seconds:.1f} | {outcome} |")
PY
exit $status
