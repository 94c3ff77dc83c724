#!/usr/bin/env bash
# Builds the binary users run and deploy/ installs: the release configuration with the Swift
# runtime linked in statically (--static-swift-stdlib: no /opt/swift or other toolchain needed on
# the server; glibc, libcurl, libssl, libsqlite3, libxml2 and zlib come from Debian), stripped.
# Prints the path of the stripped binary (.build/dist/ischedule-gateway) as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
# --no-export-dynamic: SwiftPM exports every symbol of an executable (so that tests can link
# against it); the shipped binary needs none, and without them it is 4.7 MB smaller and starts
# with 4 MB less resident (no 4 MB dynamic symbol table for the loader to walk).
swift build -c release --product ischedule-gateway --static-swift-stdlib -Xlinker --no-export-dynamic >&2
built="$(swift build -c release --static-swift-stdlib --show-bin-path)/ischedule-gateway"
mkdir -p .build/dist
strip --strip-all -o .build/dist/ischedule-gateway.new "$built"
mv .build/dist/ischedule-gateway.new .build/dist/ischedule-gateway
echo "$(pwd)/.build/dist/ischedule-gateway"
