#!/usr/bin/env bash
# Debian packages for the shell suites in .ci/suites: podman and runc (the
# container image test), prometheus for `promtool` (metrics), file, binutils
# (readelf) and gcc with the static libc (the static binary and the image's
# stand-in server). Idempotent: installs only what is missing (.ci/lib/apt.sh).
set -euo pipefail
source "$(dirname "$0")/../lib/apt.sh"
apt_install_missing packaging-deps podman runc prometheus file binutils gcc libc6-dev
