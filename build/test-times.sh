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
python3 - "$results/times.trx" "$rows" <<'PY'
import glob, re, sys, xml.etree.ElementTree as ET
trx, rows = sys.argv[1], int(sys.argv[2])
# The classes in a collection that runs alone: its definition says DisableParallelization = true.
sources = [open(f).read() for f in glob.glob('test/Fugue.Hosting.Tests/**/*.cs', recursive=True) if '/bin/' not in f and '/obj/' not in f]
name = r'(?:nameof\()?"?([A-Za-z ]+)"?\)+'
alone_collections = {m for src in sources for m in re.findall(r'CollectionDefinition\(' + name[:-3] + r'\)?, DisableParallelization = true', src)}
serial = {c for src in sources for coll, c in re.findall(r'\[Collection\(' + name + r'\]\s*(?:\[[^\]]*\]\s*)*public sealed (?:partial )?class (\w+)', src) if coll in alone_collections}
ns = '{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}'
tests = []
for r in ET.parse(trx).getroot().iter(ns + 'UnitTestResult'):
    h, m, s = r.get('duration').split(':')
    name = r.get('testName').split('(')[0]
    tests.append((int(h) * 3600 + int(m) * 60 + float(s), name, r.get('outcome'), r.get('startTime')))
classes = {}
from datetime import datetime
begin = min(datetime.fromisoformat(t[3]) for t in tests)
starts = {}
for seconds, name, _, at in tests:
    cls = name.rsplit('.', 1)[0].rsplit('.', 1)[-1]
    starts[cls] = min(starts.get(cls, 1e9), (datetime.fromisoformat(at) - begin).total_seconds())
for seconds, name, _, _ in tests:
    cls = name.rsplit('.', 1)[0].rsplit('.', 1)[-1]
    classes[cls] = classes.get(cls, 0) + seconds
alone = sum(v for k, v in classes.items() if k in serial)
print(f"tests: {len(tests)}, summed {sum(t[0] for t in tests):.0f} s, of which {alone:.0f} s in classes that run alone")
print(f"\n| class | s | alone | started at s |\n|---|---|---|---|")
for cls, seconds in sorted(classes.items(), key=lambda c: -c[1])[:rows]:
    print(f"| {cls} | {seconds:.1f} | {'yes' if cls in serial else ''} | {starts[cls]:.0f} |")
print(f"\n| test | s | outcome |\n|---|---|---|")
for seconds, name, outcome, _ in sorted(tests, reverse=True)[:rows]:
    print(f"| {name.rsplit('.', 2)[-2]}.{name.rsplit('.', 1)[-1][:90]} | {seconds:.1f} | {outcome} |")
PY
exit $status
