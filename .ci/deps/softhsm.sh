#!/usr/bin/env bash
# Debian packages the PKCS#11 tests need: SoftHSM2 (a software token; each test
# makes its own with its own SOFTHSM2_CONF) and OpenSC's pkcs11-tool (creates
# keys in it, reads public keys out). Idempotent: installs only what is missing
# (.ci/lib/apt.sh). Called by test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib/apt.sh"
apt_install_missing softhsm-deps softhsm2 opensc openssl
