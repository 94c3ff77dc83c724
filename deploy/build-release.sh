#!/usr/bin/env bash
# Builds the binary users run and deploy/ installs: the release configuration with the Swift
# runtime linked in statically (--static-swift-stdlib: no /opt/swift or other toolchain needed on
# the server; glibc, libcurl, libssl, libsqlite3, libxml2 and zlib come from Debian), stripped.
# Prints the path of the stripped binary (.build/dist/ischedule-gateway) as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ischedule-gateway --static-swift-stdlib >&2
built="$(swift build -c release --static-swift-stdlib --show-bin-path)/ischedule-gateway"
mkdir -p .build/dist
strip --strip-all -o .build/dist/ischedule-gateway.new "$built"
mv .build/dist/ischedule-gateway.new .build/dist/ischedule-gateway
echo "$(pwd)/.build/dist/ischedule-gateway"
