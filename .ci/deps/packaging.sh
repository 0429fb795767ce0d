#!/usr/bin/env bash
# Debian packages for the shell suites in .ci/suites: podman and runc (the
# container image test), prometheus for `promtool` (metrics), file, binutils
# (readelf) and gcc with the static libc (the static binary and the image's
# stand-in server). Idempotent: installs only what is missing.
set -euo pipefail

packages=(podman runc prometheus file binutils gcc libc6-dev)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "packaging-deps: already installed: ${packages[*]}"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "packaging-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
# prometheus' maintainer scripts may try to start the service: harmless here,
# only promtool is used.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
