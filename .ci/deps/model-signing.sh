#!/usr/bin/env bash
# The OpenSSF Model Signing reference tool, for the interop tests
# (cli/tests/interfaces/interop.rs), in its own venv: model-signing 1.1.1 needs pyopenssl,
# undeclared. Idempotent.
set -euo pipefail
VENV=${MODELSEAL_OMS_VENV:-$PWD/.venv-oms}
if [ ! -x "$VENV/bin/model_signing" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check model-signing==1.1.1 pyopenssl
fi
