#!/usr/bin/env bash
# Installs the Debian packages ischedule-gateway builds, runs and tests with, and the one Python
# test helper from PyPI (aiosmtpd). Idempotent: when everything is present it changes nothing and
# does not touch the network.
#   libssl-dev            OpenSSL libcrypto (RSA, SHA) for DKIM
#   libcurl4-openssl-dev  libcurl (HTTPS and SMTP) for the transport layer
#   libsqlite3-dev        SQLite for the durable delivery queue
#   libxml2-dev           libxml2's reader for the iSchedule XML documents (libxml2.so to link; the
#                         Swift toolchain lists it among its own Debian dependencies)
#   libc6-dev             glibc's resolver (libresolv) for SRV/TXT lookups
#   openssl               the openssl CLI: the tests cross-check signatures with it, the benchmark
#                         runs `openssl speed` beside our figures
#   nsd                   an authoritative DNS server the tests start on a loopback port
#   unbound, ldnsutils    DNSSEC tests: ldns-keygen/ldns-signzone sign the test zones NSD serves,
#                         unbound validates them (its own config and loopback port; no system service)
#   python3               runs the tests' HTTPS server (Tests/Helpers/https_server.py, standard library only)
#   python3-venv          the virtual environment of the calendar servers below
#   nghttp2-server        nghttpd, the HTTP/2 server the tests check ALPN against
#   iproute2, util-linux  ip, unshare and nsenter: tests make private network and mount namespaces
#                         (listeners on 10.0.0.1, a dead /etc/resolv.conf) without touching the machine
#   libxml2-utils         xmllint: a test validates deploy/apple-ccs-remoteservers.xml against Apple's DTD
#   postgresql            the server the shared-store tests start (initdb in a temporary directory, a
#                         loopback port chosen at run time); no system cluster is started
#   postfix               the MTA the mail-filter tests start (their own config_directory, loopback
#                         ports, in the foreground); installed unconfigured, no system service
#   cyrus-imapd, cyrus-caldav, sasl2-bin
#                         Cyrus IMAP 3.6 (CalDAV + iSchedule httpd), the real peer the interop tests
#                         put behind the gateway and send iMIP from (own config, loopback ports)
#   davical, apache2, libapache2-mod-php, php-cli, php-curl, php-pgsql
#                         DAViCal 1.1 (draft-01 iSchedule) under Apache with mod_php, with its own
#                         PostgreSQL cluster: the interop tests' other real peer (own config, loopback).
#                         It sends iSchedule with PHP's curl (php-curl: without it every DAViCal PUT
#                         that schedules fails); the tests sign as DAViCal with the PHP CLI.
#   prometheus            promtool: the tests check and unit-test deploy/monitoring's alert rules
#                         (installed, no service started)
#   man-db                man: a test reads the Debian package's man pages as `man` finds them
#   certbot, pebble       certificates that renew: certbot against pebble (an ACME test server) on
#                         loopback, the shipped deploy hook reloading the gateway (no timer, no service)
# Every test bed checks its own list of these at start (Tests/TestSupport/Prerequisites.swift) and
# names the missing package; PrerequisiteTests fails when a bed needs a package this list lacks.
set -euo pipefail
packages=(libssl-dev libcurl4-openssl-dev libsqlite3-dev libxml2-dev libc6-dev openssl pkg-config nsd unbound ldnsutils python3 python3-venv nghttp2-server iproute2 util-linux libxml2-utils postgresql postfix cyrus-imapd cyrus-caldav sasl2-bin davical apache2 libapache2-mod-php php-cli php-curl php-pgsql prometheus man-db certbot pebble)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
# Python test helpers from PyPI: the SMTP server the transport tests run, and the calendar servers
# of today (Xandikos, with aiosmtpd for its LMTP listener; Radicale), pinned, in a virtual
# environment of the tests: Tests/TestSupport/Prerequisites.swift names its programs.
test_venv=/opt/ischedule-gateway-tests/venv
calendar_servers=("xandikos==0.4.10" "radicale==3.9.0" "aiosmtpd==1.4.6")
python_helpers() {
  python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
  if [ "$(cat "$test_venv/pins" 2>/dev/null)" != "${calendar_servers[*]}" ]; then
    echo "install-deps: installing ${calendar_servers[*]} into $test_venv" >&2
    $sudo rm -rf "$test_venv"
    $sudo python3 -m venv "$test_venv"
    $sudo "$test_venv/bin/pip" install --quiet --disable-pip-version-check "${calendar_servers[@]}"
    echo "${calendar_servers[*]}" | $sudo tee "$test_venv/pins" >/dev/null
  fi
}
if [ ${#missing[@]} -eq 0 ]; then python_helpers; exit 0; fi
if [ -n "$sudo" ] && ! command -v sudo >/dev/null; then
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
# Packaged daemons (nsd, unbound, postgresql, postfix, cyrus, apache2, prometheus) must not start system-wide services: the tests run their own instances.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$guard" >/dev/null
  $sudo chmod 755 "$guard"
fi
trap '[ -n "$guard" ] && $sudo rm -f "$guard"' EXIT
# Postfix asks what kind of mail system this is: none (the tests configure their own instances).
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
python_helpers
