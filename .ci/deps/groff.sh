#!/usr/bin/env bash
# groff (Debian groff-base), for cli/tests/interfaces/completions.rs: `modelseal man` must
# render without warnings. Idempotent: installs only what is missing
# (.ci/lib/apt.sh).
set -euo pipefail
source "$(dirname "$0")/../lib/apt.sh"
apt_install_missing groff-deps groff-base
