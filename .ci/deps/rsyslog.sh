#!/usr/bin/env bash
# Debian packages the audit tests need: rsyslog with its GnuTLS stream driver
# (the syslog-over-TLS integration test starts a private rsyslogd) and the
# openssl CLI (test certificates). Idempotent: installs only what is missing.
# Called by ./test.sh; the test fails (never skips) without them.
set -euo pipefail

packages=(rsyslog rsyslog-gnutls openssl)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "audit-deps: already installed: ${packages[*]}"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "audit-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# rsyslog's maintainer scripts may try to start the system service; a private
# rsyslogd is what the test uses, so a refusal to start one is harmless.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
