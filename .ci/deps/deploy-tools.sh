#!/usr/bin/env bash
# Python tools that validate offline, in one venv: kubernetes-validate
# (Kubernetes schemas shipped in the package) and check-jsonschema (GitHub
# Actions/workflow and GitLab CI schemas vendored in the package; also the
# independent validator of every --json document against docs/schemas in
# cli/tests/interfaces/json_contract.rs). Idempotent. Used by .ci/suites/deploy.sh,
# .ci/suites/ci-templates.sh and the JSON contract test.
set -euo pipefail
VENV=${MODELSEAL_DEPLOY_VENV:-$PWD/.venv-deploy}
if [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -x "$VENV/bin/check-jsonschema" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    kubernetes-validate==1.37.0 check-jsonschema==0.39.0
fi
