#!/usr/bin/env bash
# Debian packages the PKCS#11 tests need: SoftHSM2 (a software token; each test
# makes its own with its own SOFTHSM2_CONF) and OpenSC's pkcs11-tool (creates
# keys in it, reads public keys out). Idempotent: installs only what is missing.
# Called by test.sh.
set -euo pipefail

packages=(softhsm2 opensc openssl)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "softhsm-deps: already installed: ${packages[*]}"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "softhsm-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
