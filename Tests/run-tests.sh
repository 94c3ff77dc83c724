#!/usr/bin/env bash
# The project's test command (docs/testing.md, "Tests"). Two groups, each saying which gateway binary it ran:
#   1. the whole suite (`swift test`, debug build): unit tests, and the service and CLI tests
#      against the debug binary;
#   2. the service, CLI and crash-safety tests again against the release binary, the one users run
#      and deploy/ installs (Swift 6.3.1 -O once broke outbound delivery while debug stayed green):
#      deploy/build-release.sh's static, stripped build.
# Exits non-zero when either group fails.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "tests: building the release binary (deploy/build-release.sh: static Swift runtime, stripped)"
release="$(deploy/build-release.sh | tail -n 1)" || exit 1
[ -x "$release" ] || { echo "tests: no release binary at '$release'" >&2; exit 1; }
debug="$(swift build --show-bin-path)/ischedule-gateway"

echo "tests: group 1 of 2: the whole suite; gateway binary: $debug (debug)"
swift test
first=$?

echo "tests: group 2 of 2: ServiceTests and CLITests; gateway binary: $release (release)"
ISCHEDULE_GATEWAY_BINARY="$release" swift test --skip-build --filter 'ServiceTests|CLITests'
second=$?

echo "tests: group 1 (debug binary) exit $first; group 2 (release binary) exit $second"
[ "$first" -eq 0 ] && [ "$second" -eq 0 ]
