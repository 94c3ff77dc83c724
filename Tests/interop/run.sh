#!/usr/bin/env bash
# The interop suite: the gateway's release binary against the real iSchedule servers Debian 12
# packages, everything on loopback at ports chosen at run time and stopped by PID afterwards:
# NSD (zones for alpha.test, beta.test, gamma.test, ...; on a port-53 loopback address for the
# servers that resolve through glibc), Cyrus IMAP 3.6 (CalDAV + iSchedule httpd), DAViCal 1.1
# (Apache + mod_php + its own PostgreSQL cluster), Xandikos 0.4.10 and Radicale 3.9.0 (PyPI, the
# tests' virtual environment), Postfix, an SMTP sink, and two or more gateways.
# Installs what is missing (deploy/install-deps.sh), builds the release binary
# (deploy/build-release.sh), runs the scenarios and prints one line per scenario, then
# "N passed, N failed"; exits non-zero when any failed. The full log is kept in $INTEROP_LOG
# (default /tmp/ischedule-interop.log).
#
# Needs root: NSD binds port 53 of a 127.x address, Cyrus and Apache drop to their own users.
# The same scenarios also run in the project's test command (Tests/run-tests.sh, both groups).
set -uo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "interop: run as root (NSD on port 53, Cyrus and Apache as their users)" >&2; exit 2; }
log="${INTEROP_LOG:-/tmp/ischedule-interop.log}"
suites='CyrusInteropTests|DAViCalInteropTests|MailToDAViCalTests|MailFilterTests|TLSOnlyProfileTests|FreeBusyBridgeTests|TodaysServersBedTests|TodaysServersThroughTheFilterTests|XandikosInboundTests|TodaysServersFreeBusyTests|TodaysServersRoundTripTests|XandikosDAViCalRoundTripTests|XandikosRadicaleRoundTripTests'

deploy/install-deps.sh >&2 || exit 1
release="$(deploy/build-release.sh | tail -n 1)" || exit 1
echo "interop: gateway binary $release; building the tests" >&2
swift build --build-tests >"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
echo "interop: running $suites (log: $log)" >&2
ISCHEDULE_GATEWAY_BINARY="$release" swift test --skip-build --filter "$suites" >>"$log" 2>&1
status=$?
python3 - "$log" "$status" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
text = re.sub(r"\x1b\[[0-9;]*m", "", text)
results = {}
for quoted, bare, verdict in re.findall(r'^[✔✘] Test (?:"(.+?)"|(\S+\(\))) (passed|failed)', text, re.M):
    results[quoted or bare] = verdict
for name, verdict in results.items():
    print(("PASS  " if verdict == "passed" else "FAIL  ") + name)
passed = sum(1 for v in results.values() if v == "passed")
failed = len(results) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 and sys.argv[2] == "0" else 1)
PY
