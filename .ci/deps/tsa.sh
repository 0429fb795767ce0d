#!/usr/bin/env bash
# Debian packages the RFC 3161 tests need: the openssl CLI (`openssl ts -reply`
# is the test TSA) and python3 (fixtures/tsa/serve.py puts it behind HTTP on
# 127.0.0.1). Idempotent: installs only what is missing (.ci/lib/apt.sh). Called
# by test.sh.
set -euo pipefail
source "$(dirname "$0")/../lib/apt.sh"
apt_install_missing tsa-deps openssl python3
