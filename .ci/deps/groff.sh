#!/usr/bin/env bash
# groff (Debian groff-base), for cli/tests/completions.rs: `modelseal man`
# must render without warnings. Idempotent: installs only when missing.
set -euo pipefail
if command -v groff >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends groff-base
