#!/bin/sh
# certbot --deploy-hook for ischedule-gateway (deploy/README.md, "Certificates that renew"):
#   certbot certonly --standalone -d isched.example.com \
#       --deploy-hook /usr/lib/ischedule-gateway/certbot-deploy-hook
# After each issuance or renewal certbot runs it, as root, with RENEWED_LINEAGE set to
# /etc/letsencrypt/live/<name>. It copies that lineage's fullchain.pem and privkey.pem into the
# gateway's TLS directory (/etc/letsencrypt/live is root-only; the gateway runs as its own user):
# both copied first, then both moved into place (never a new chain with an old key), key mode
# 0640 for the service group; then the gateway is reloaded (SIGHUP: the new certificate from the
# next TLS handshake, nothing restarted or dropped; nothing when it is not running).
# Settings: certbot keeps only the hook's command line, so give them there, e.g.
#   --deploy-hook 'ISCHEDULE_TLS_DIR=/srv/gw/tls /usr/lib/ischedule-gateway/certbot-deploy-hook'
#   ISCHEDULE_TLS_DIR    the gateway's TLS directory (/etc/ischedule-gateway/tls); created
#                        root-owned 0750 when missing; refused when it is a symbolic link, not
#                        owned by root, or writable by anyone but root
#   ISCHEDULE_TLS_GROUP  the group that may read the copies (ischedule-gateway; empty: root's)
#   ISCHEDULE_CERT_NAME  only act for a lineage whose RENEWED_DOMAINS includes this name (for a
#                        hook in /etc/letsencrypt/renewal-hooks/deploy/, which runs for every one)
#   ISCHEDULE_RELOAD     how to reload (systemctl try-reload-or-restart ischedule-gateway)
set -eu
lineage="${RENEWED_LINEAGE:?certbot sets RENEWED_LINEAGE for a deploy hook}"
target="${ISCHEDULE_TLS_DIR:-/etc/ischedule-gateway/tls}"
group="${ISCHEDULE_TLS_GROUP-ischedule-gateway}"
reload="${ISCHEDULE_RELOAD:-systemctl try-reload-or-restart ischedule-gateway}"
if [ -n "${ISCHEDULE_CERT_NAME:-}" ]; then
  case " ${RENEWED_DOMAINS:-} " in
    *" $ISCHEDULE_CERT_NAME "*) ;;
    *) exit 0 ;;
  esac
fi
fail() { echo "ischedule-gateway deploy hook: $*" >&2; exit 1; }
if [ ! -e "$target" ] && [ ! -L "$target" ]; then
  (umask 027 && mkdir "$target")
  [ -z "$group" ] || chgrp "$group" "$target"
fi
# Root writes private keys here: a directory someone else controls could redirect the writes.
[ ! -L "$target" ] || fail "$target is a symbolic link"
[ -d "$target" ] || fail "$target is not a directory"
[ "$(stat -c %u "$target")" = 0 ] || fail "$target is not owned by root"
case "$(stat -c %A "$target")" in
  ?????w????|????????w?) fail "$target is writable by others than root" ;;
esac
new_chain="$(mktemp -p "$target" .fullchain.XXXXXX)"
new_key="$(mktemp -p "$target" .privkey.XXXXXX)"
trap 'rm -f "$new_chain" "$new_key"' EXIT
cat "$lineage/fullchain.pem" > "$new_chain"
cat "$lineage/privkey.pem" > "$new_key"
for file in "$new_chain" "$new_key"; do
  chmod 0640 "$file"
  [ -z "$group" ] || chgrp -h "$group" "$file"
done
mv -fT "$new_chain" "$target/fullchain.pem"
mv -fT "$new_key" "$target/privkey.pem"
trap - EXIT
sh -c "$reload"
echo "ischedule-gateway: installed $lineage into $target and reloaded" >&2
