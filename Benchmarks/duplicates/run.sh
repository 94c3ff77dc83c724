#!/usr/bin/env bash
# Duplicates at a slow receiver (issue 22, "Duplicates are not harmless"). Prints figures; it is
# never a test and asserts nothing about time.
#
# 1. MESSAGES outbound messages (default 400) through one gateway towards a receiver that holds
#    SLOW_SHARE of its answers (default 20 %) for 3 s, longer than the gateway's
#    timeouts.remote-request (2 s), and delivers them all the same, as real receivers (Cyrus) do
#    when the client has given up; it also answers 503 now and then and is down for a second every
#    few seconds. No restarts: the target is 0 recipients arriving twice.
# 2. The same with the gateway killed (SIGKILL) KILLS times (default 10) and restarted: only an
#    attempt in flight at a kill may arrive twice.
# Both runs are Tests/Helpers/crash_safety.py (which also fails if anything answered 1.0/1.1/1.2 is
# lost). Usage: Benchmarks/duplicates/run.sh [GATEWAY_BINARY]   (default: the release build)
set -uo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-$(deploy/build-release.sh | tail -n 1)}"
messages="${MESSAGES:-400}"
share="${SLOW_SHARE:-0.2}"
kills="${KILLS:-10}"
work="$(mktemp -d /tmp/duplicates-XXXXXX)"
python3 -c "import aiosmtpd" 2>/dev/null || { echo "duplicates: needs aiosmtpd (deploy/install-deps.sh)" >&2; exit 1; }

run() {
  local name="$1"; shift
  local output
  output="$(python3 Tests/Helpers/crash_safety.py "$binary" "$work/$name" "$messages" --slow-share "$share" --slow-seconds 3 "$@" 2>&1)"
  local status=$?
  echo "$output" | sed 's/^/  /'
  echo "$output" | grep -oE "arrived twice or more: [0-9]+" | grep -oE "[0-9]+$" > "$work/$name.duplicates"
  [ "$status" -eq 0 ] || echo "  (crash_safety.py exited $status: see above)"
}

echo "duplicates: $messages messages, $(awk "BEGIN { print $share * 100 }") % of the receiver's answers after 3 s (remote-request 2 s)"
echo "run 1: no restarts"
run steady --kills 0
echo "run 2: gateway killed with SIGKILL $kills times"
run killed --kills "$kills"
echo "duplicates at the receiver: without restarts $(cat "$work/steady.duplicates" 2>/dev/null || echo '?') (target 0);" \
     "with $kills kill -9 $(cat "$work/killed.duplicates" 2>/dev/null || echo '?')"
echo "work directory (gateway logs): $work"
