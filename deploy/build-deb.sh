#!/usr/bin/env bash
# Builds a Debian package from the release binary with deploy/install.sh (DESTDIR, PREFIX=/usr):
#   [DEB_OUT=DIR] deploy/build-deb.sh [BINARY]
# prints the path of DIR/ischedule-gateway_<version>_<arch>.deb (DIR defaults to .build/dist;
# dpkg-deb's DPKG_DEB_COMPRESSOR_TYPE/_LEVEL choose the compression, xz by default).
# The package installs the binary, the systemd unit (not enabled: configure first), the
# configuration skeleton (a conffile, root:ischedule-gateway 0640), the docs and the man pages; its postinst
# creates the system user and group. Depends only on Debian 12's runtime libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-}"
[ -n "$binary" ] || binary="$(deploy/build-release.sh | tail -n 1)"
version="$("$binary" --version)"
arch="$(dpkg --print-architecture)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# The man pages of this very binary (deploy/build-manpages.sh), installed with it.
MAN_OUT="$stage.man" deploy/build-manpages.sh "$binary" >/dev/null
trap 'rm -rf "$stage" "$stage.man"' EXIT
DESTDIR="$stage" PREFIX=/usr MAN_DIR="$stage.man" deploy/install.sh "$binary" >/dev/null
# A native package's changelog: the version and the commit it was built from.
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
when="$(git log -1 --format=%cD 2>/dev/null || date -uR)"
printf 'ischedule-gateway (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- ischedule-gateway maintainers <maintainers@ischedule-gateway.invalid>  %s\n' \
    "$version" "$commit" "$when" | gzip -9n > "$stage/usr/share/doc/ischedule-gateway/changelog.gz"
chmod 0644 "$stage/usr/share/doc/ischedule-gateway/changelog.gz"
install -d -m 0755 "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: ischedule-gateway
Version: $version
Architecture: $arch
Maintainer: ischedule-gateway maintainers <maintainers@ischedule-gateway.invalid>
Depends: libc6 (>= 2.36), libssl3, libcurl4, libsqlite3-0, libxml2, libstdc++6, libgcc-s1, adduser
Section: net
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Description: standalone iSchedule gateway for CalDAV servers
 Real-time iTIP scheduling between calendar domains over DKIM-signed HTTPS:
 verifies and forwards inbound iSchedule to the local CalDAV server, discovers,
 signs and delivers its outbound messages, with a durable queue and an iMIP
 (e-mail) fallback.
CONTROL
echo "/etc/ischedule-gateway/gateway.yaml" > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  getent group ischedule-gateway >/dev/null || addgroup --system ischedule-gateway
  getent passwd ischedule-gateway >/dev/null || adduser --system --ingroup ischedule-gateway \
      --home /var/lib/ischedule-gateway --no-create-home --shell /usr/sbin/nologin ischedule-gateway
  chown root:ischedule-gateway /etc/ischedule-gateway /etc/ischedule-gateway/keys /etc/ischedule-gateway/gateway.yaml
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
  echo "ischedule-gateway: edit /etc/ischedule-gateway/gateway.yaml, create keys (ischedule-gateway dkim keygen --owner root:ischedule-gateway), then: systemctl enable --now ischedule-gateway" >&2
fi
POSTINST
chmod 0755 "$stage/DEBIAN/postinst"
out="${DEB_OUT:-$(pwd)/.build/dist}"
mkdir -p "$out"
package="$out/ischedule-gateway_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$package" >/dev/null
echo "$package"
