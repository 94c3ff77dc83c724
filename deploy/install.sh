#!/usr/bin/env bash
# Installs ischedule-gateway the way packagers expect:
#   [DESTDIR=/staging] [PREFIX=/usr/local] deploy/install.sh [BINARY]
# BINARY defaults to a fresh deploy/build-release.sh build (static Swift runtime, stripped).
# Installs $PREFIX/bin/ischedule-gateway, the systemd unit (pointing at that binary), a
# configuration skeleton in /etc/ischedule-gateway (never replacing an existing gateway.yaml), the
# keys directory, the docs, the man pages and certbot's deploy hook. Without DESTDIR, as root, it also creates the system user and group
# ischedule-gateway and gives them the configuration (root:ischedule-gateway, 0750/0640); with
# DESTDIR (a package being staged) that is left to the package's postinst, and the modes are set.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
binary="${1:-}"
[ -n "$binary" ] || binary="$(deploy/build-release.sh | tail -n 1)"
[ -x "$binary" ] || { echo "install: $binary is not an executable" >&2; exit 1; }
case "$PREFIX" in
  /usr) unitdir=/lib/systemd/system ;;
  *) unitdir=/etc/systemd/system ;;
esac
config=/etc/ischedule-gateway

install -D -m 0755 "$binary" "$DESTDIR$PREFIX/bin/ischedule-gateway"
install -d -m 0755 "$DESTDIR$unitdir"
sed -e "s|/usr/local/bin/ischedule-gateway|$PREFIX/bin/ischedule-gateway|g" \
    -e "s|/usr/local/share/doc/ischedule-gateway|$PREFIX/share/doc/ischedule-gateway|g" \
    deploy/ischedule-gateway.service > "$DESTDIR$unitdir/ischedule-gateway.service"
chmod 0644 "$DESTDIR$unitdir/ischedule-gateway.service"
install -d -m 0750 "$DESTDIR$config" "$DESTDIR$config/keys"
if [ ! -e "$DESTDIR$config/gateway.yaml" ]; then
  install -m 0640 config/gateway.example.yaml "$DESTDIR$config/gateway.yaml"
else
  echo "install: keeping the existing $DESTDIR$config/gateway.yaml" >&2
fi
install -D -m 0644 config/gateway.example.yaml "$DESTDIR$PREFIX/share/doc/ischedule-gateway/gateway.example.yaml"
# The manual as the repository lays it out, so that its relative links hold: README.md, docs/,
# deploy/README.md with the Postfix lines and the monitoring rules and dashboard.
doc="$DESTDIR$PREFIX/share/doc/ischedule-gateway"
install -D -m 0644 README.md "$doc/README.md"
for page in docs/*.md deploy/README.md deploy/postfix/* deploy/monitoring/*; do
  install -D -m 0644 "$page" "$doc/$page"
done
# certbot's deploy hook (deploy/certbot/deploy-hook.sh): installs a renewed certificate for the
# gateway and reloads it.
install -D -m 0755 deploy/certbot/deploy-hook.sh "$DESTDIR$PREFIX/lib/ischedule-gateway/certbot-deploy-hook"
# The man pages of the binary being installed (deploy/build-manpages.sh; MAN_DIR: pages made
# already, as build-deb.sh does), gzipped as Debian wants.
man="${MAN_DIR:-}"
if [ -z "$man" ]; then
  man="$(mktemp -d)"
  trap 'rm -rf "$man"' EXIT
  if ! MAN_OUT="$man" deploy/build-manpages.sh "$binary" >/dev/null 2>&1; then
    # A prebuilt binary installed on a host without the Swift toolchain: no pages, said so.
    echo "install: man pages not built (deploy/build-manpages.sh needs the Swift toolchain); installing without them" >&2
    man=""
  fi
fi
if [ -n "$man" ]; then
  install -d -m 0755 "$DESTDIR$PREFIX/share/man/man1"
  for page in "$man"/*.1; do
    [ -e "$page" ] || { echo "install: no man pages in $man" >&2; exit 1; }
    gzip -9nc "$page" > "$DESTDIR$PREFIX/share/man/man1/$(basename "$page").gz"
    chmod 0644 "$DESTDIR$PREFIX/share/man/man1/$(basename "$page").gz"
  done
fi

if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ]; then
  getent group ischedule-gateway >/dev/null || groupadd --system ischedule-gateway
  getent passwd ischedule-gateway >/dev/null || useradd --system --gid ischedule-gateway \
      --home-dir /var/lib/ischedule-gateway --no-create-home --shell /usr/sbin/nologin ischedule-gateway
  chown root:ischedule-gateway "$config" "$config/keys" "$config/gateway.yaml"
  echo "install: next: edit $config/gateway.yaml; keys: ischedule-gateway dkim keygen ... --out $config/keys --owner root:ischedule-gateway;" \
       "then: systemctl daemon-reload && systemctl enable --now ischedule-gateway" >&2
fi
echo "installed $DESTDIR$PREFIX/bin/ischedule-gateway and $DESTDIR$unitdir/ischedule-gateway.service"
