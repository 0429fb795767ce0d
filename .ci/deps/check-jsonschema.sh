#!/usr/bin/env bash
# check-jsonschema, for the JSON contract test (cli/tests/json_contract.rs):
# every command's --json output is validated against docs/schemas/v1 by an
# independent validator. Own venv; idempotent.
set -euo pipefail
VENV=${MODELSEAL_JSONSCHEMA_VENV:-$PWD/.venv-jsonschema}
if [ ! -x "$VENV/bin/check-jsonschema" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check check-jsonschema==0.33.0
fi
