#!/bin/sh
# certbot --deploy-hook for ischedule-gateway (deploy/README.md, "Certificates that renew"):
#   certbot certonly --standalone -d isched.example.com \
#       --deploy-hook /usr/lib/ischedule-gateway/certbot-deploy-hook
# After each issuance or renewal certbot runs it with RENEWED_LINEAGE=/etc/letsencrypt/live/<name>.
# It copies that lineage's fullchain.pem and privkey.pem to the gateway's TLS directory
# (/etc/letsencrypt/live is root-only; the gateway runs as its own user), each replaced
# atomically, key mode 0640 for the service group, then reloads the gateway (SIGHUP: the new
# certificate is shown from the next TLS handshake, nothing is restarted or dropped).
# Settings (environment, for other layouts):
#   ISCHEDULE_TLS_DIR    where the gateway's listener reads them (/etc/ischedule-gateway/tls)
#   ISCHEDULE_TLS_OWNER  owner of the copies (root:ischedule-gateway; empty: leave as created)
#   ISCHEDULE_RELOAD     how to reload (systemctl reload ischedule-gateway)
set -eu
lineage="${RENEWED_LINEAGE:?certbot sets RENEWED_LINEAGE for a deploy hook}"
target="${ISCHEDULE_TLS_DIR:-/etc/ischedule-gateway/tls}"
owner="${ISCHEDULE_TLS_OWNER-root:ischedule-gateway}"
reload="${ISCHEDULE_RELOAD:-systemctl reload ischedule-gateway}"
install -d -m 0750 "$target"
[ -z "$owner" ] || chown "$owner" "$target"
for file in fullchain.pem privkey.pem; do
  umask 077
  cp "$lineage/$file" "$target/.$file.new"
  chmod 0640 "$target/.$file.new"
  [ -z "$owner" ] || chown "$owner" "$target/.$file.new"
  mv -f "$target/.$file.new" "$target/$file"
done
sh -c "$reload"
echo "ischedule-gateway: installed $lineage into $target and reloaded" >&2
