#!/usr/bin/env bash
# Debian packages the RFC 3161 tests need: the openssl CLI (`openssl ts -reply`
# is the test TSA) and python3 (fixtures/tsa/serve.py puts it behind HTTP on
# 127.0.0.1). Idempotent: installs only what is missing. Called by test.sh.
set -euo pipefail

packages=(openssl python3)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "tsa-deps: already installed: ${packages[*]}"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "tsa-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
