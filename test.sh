#!/usr/bin/env bash
# The one test command (README, `.ci/run`): installs what the tests need, then
# runs every test: formatting, lints, the Rust workspace and the extra suites.
#
#   .ci/deps/*.sh    idempotent installers (Debian packages, Python venvs)
#   .ci/suites/*.sh  suites outside `cargo test` (pytest, container, ...)
#
# Tests that need an external tool fail when it is missing; none skips itself.
set -euo pipefail
cd "$(dirname "$0")"

for deps in .ci/deps/*.sh; do
  echo "==> $deps"
  bash "$deps"
done

export MODELSEAL_OMS_VENV=${MODELSEAL_OMS_VENV:-$PWD/.venv-oms}
export MODELSEAL_SIGSTORE_ASSETS=${MODELSEAL_SIGSTORE_ASSETS:-$PWD/.sigstore-assets}
export MODELSEAL_JSONSCHEMA_VENV=${MODELSEAL_JSONSCHEMA_VENV:-${MODELSEAL_DEPLOY_VENV:-$PWD/.venv-deploy}}

echo "==> cargo fmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cargo test"
cargo test --workspace --locked

shopt -s nullglob
for suite in .ci/suites/*.sh; do
  echo "==> $suite"
  bash "$suite"
done
