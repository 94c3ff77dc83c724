#!/usr/bin/env bash
# Prints the gateway's footprint: binary size (stripped, as deploy/build-release.sh makes it, and
# the unstripped build), and resident memory when idle: after start, and after 200 requests
# (capabilities, health, key records) have warmed it up. A figure to compare, never a test.
# Usage: Benchmarks/footprint/run.sh [BINARY]   (default: a fresh deploy/build-release.sh build)
# Everything listens on 127.0.0.1 at a port chosen here; the gateway is ended by its PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:-}"
[ -n "$binary" ] || binary="$(deploy/build-release.sh | tail -n 1)"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import random,socket
for _ in range(200):
    p=random.randrange(10000,32000); s=socket.socket()
    try: s.bind(("127.0.0.1",p)); print(p); break
    except OSError: pass')
cat > "$work/gateway.yaml" <<YAML
listeners:
  - url: http://127.0.0.1:$port
domains:
  example.com:
    dkim-keys:
      - selector: gw
        private-key: keys/example.pem
        create-if-missing: true
    upstream: http://127.0.0.1:9/
log-level: warning
YAML
"$binary" serve --config "$work/gateway.yaml" > "$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do grep -q "listening on" "$work/out.log" && break; sleep 0.05; done
grep -q "listening on" "$work/out.log" || { cat "$work/out.log"; exit 1; }
sleep 2
rss() { awk '/^VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$pid/status"; }
idle=$(rss)
for i in $(seq 1 200); do
  curl -s -o /dev/null "http://127.0.0.1:$port/.well-known/ischedule?action=capabilities"
done
sleep 2
warm=$(rss)
size() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }
echo "binary: $binary"
echo "binary size, stripped:              $(size "$binary")"
unstripped="$(dirname "$binary")/../release/ischedule-gateway"
[ -f "$unstripped" ] && echo "binary size, unstripped build:      $(size "$unstripped")"
echo "RSS idle after start:               $idle"
echo "RSS idle after 200 requests:        $warm   (target <= 40 MB)"
# What the resident memory is: anonymous (heap, stacks) against file-backed (code and data of the
# binary and its libraries, clean pages the kernel can drop), and the largest mappings.
kb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
echo "  of which anonymous:               $(kb "$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status")")"
echo "  of which file-backed:             $(kb "$(awk '/^RssFile/ { print $2 }' "/proc/$pid/status")")"
python3 - "$pid" <<'PY'
import collections, re, sys
resident, current = collections.Counter(), None
for line in open(f"/proc/{sys.argv[1]}/smaps"):
    fields = line.split()
    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
        current = (fields[5] if len(fields) > 5 else "[anonymous]") + ("  (code)" if "x" in fields[1] else "")
    elif fields[0] == "Rss:":
        resident[current] += int(fields[1])
for name, size in resident.most_common(6):
    print(f"    {size / 1024:5.1f} MB  {name}")
PY
