#!/usr/bin/env bash
# Builds the man pages from the command definitions, with swift-argument-parser's own
# generate-manual tool (what its generate-manual plugin runs; built once into .build/tools, not
# a second release build of the gateway): one page per command, named as man expects them,
#   ischedule-gateway.1, ischedule-gateway-queue.1, ischedule-gateway-queue-list.1, ...
#   [MAN_OUT=DIR] deploy/build-manpages.sh [BINARY]
# BINARY defaults to the release binary (deploy/build-release.sh); pages go to DIR (default
# .build/man), dated by the last commit (reproducible); prints DIR. deploy/install.sh installs
# them (gzipped) into PREFIX/share/man/man1, and the Debian package carries them.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-}"
[ -n "$binary" ] || binary="$(deploy/build-release.sh | tail -n 1)"
swift build -c release --package-path .build/checkouts/swift-argument-parser --scratch-path .build/tools \
    --product generate-manual >&2 2>/dev/null || {
  swift package resolve >&2
  swift build -c release --package-path .build/checkouts/swift-argument-parser --scratch-path .build/tools --product generate-manual >&2
}
date="$(git log -1 --format=%cs 2>/dev/null || date -u +%Y-%m-%d)"
raw="$(mktemp -d)"
trap 'rm -rf "$raw"' EXIT
.build/tools/release/generate-manual "$binary" --multi-page --date "$date" --output-directory "$raw" >&2
out="${MAN_OUT:-$(pwd)/.build/man}"
mkdir -p "$out"
rm -f "$out"/ischedule-gateway*.1
for page in "$raw"/*.1; do
  name="$(basename "$page" .1)"
  # `ischedule-gateway help` only repeats --help.
  [ "$name" = "ischedule-gateway.help" ] && continue
  target="${name//./-}"
  # The page's own name and its cross-references as man finds them: dots become dashes.
  sed -e "s/^\.Dt .* 1$/.Dt $(echo "$target" | tr '[:lower:]' '[:upper:]') 1/" \
      -e '/^\.Xr ischedule-gateway\.help 1/d' \
      -e '/^\.Xr /{s/ischedule-gateway\.\([a-z-]*\)\.\([a-z-]*\)/ischedule-gateway-\1-\2/; s/ischedule-gateway\.\([a-z-]*\)/ischedule-gateway-\1/}' \
      -e "s/^'/\\\\\&'/" \
      "$page" | awk -v name="$target" '
        # NAME gives the page name (as whatis and lintian want it); the synopsis keeps the command.
        /^\.Nm "/ && !named { command = substr($0, 5); print ".Nm " name; named = 1; next }
        /^\.Nm$/ && named { print ".Nm " command; next }
        { print }' > "$out/$target.1"
done
echo "$out"
