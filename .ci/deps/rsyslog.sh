#!/usr/bin/env bash
# Debian packages the audit tests need: rsyslog with its GnuTLS stream driver
# (the syslog-over-TLS integration test starts a private rsyslogd) and the
# openssl CLI (test certificates). Idempotent: installs only what is missing
# (.ci/lib/apt.sh). Called by ./test.sh; the test fails (never skips) without
# them.
set -euo pipefail
source "$(dirname "$0")/../lib/apt.sh"
apt_install_missing audit-deps rsyslog rsyslog-gnutls openssl
