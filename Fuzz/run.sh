#!/usr/bin/env bash
# Long fuzzing run of one parser with libFuzzer:
#   Fuzz/run.sh fuzz-dkim-tags|fuzz-header-canonicalization|fuzz-icalendar|fuzz-xml|fuzz-mail|fuzz-address|fuzz-freebusy [SECONDS] [RUNS]
# (RUNS: stop after that many inputs, e.g. 10000000, whichever comes first)
# Builds the target with -sanitize=fuzzer,address in .build-fuzz, fuzzes from the committed seeds
# (new corpus entries and crash files stay under .build-fuzz/), and exits non-zero on a crash.
# Replay a saved crash without the fuzzer: swift run fuzz-xml .build-fuzz/artifacts/fuzz-xml-crash-…
set -euo pipefail
target=${1:?usage: Fuzz/run.sh TARGET [SECONDS]}
seconds=${2:-600}
runs=${3:--1}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$target" in
  fuzz-dkim-tags|fuzz-header-canonicalization|fuzz-icalendar|fuzz-xml|fuzz-mail|fuzz-address|fuzz-freebusy) ;;
  *) echo "unknown target '$target'" >&2; exit 2 ;;
esac
cd "$root"
swift build --scratch-path .build-fuzz -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product "$target"
mkdir -p ".build-fuzz/corpus/$target" .build-fuzz/artifacts
exec ".build-fuzz/release/$target" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
  -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=4096 -artifact_prefix=".build-fuzz/artifacts/$target-"
