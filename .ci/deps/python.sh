#!/usr/bin/env bash
# The venv for the Python package suite (.ci/suites/python.sh): maturin builds
# the wheel from python/, pytest runs python/tests against it (numpy and
# safetensors make and compare the test models). Idempotent: creates or
# completes the venv only when a tool is missing.
set -euo pipefail
VENV=${MODELSEAL_PY_VENV:-$PWD/.venv-py}
tools=(maturin pytest)
modules=(numpy safetensors)
ok=1
for t in "${tools[@]}"; do [ -x "$VENV/bin/$t" ] || ok=0; done
if [ "$ok" = 1 ]; then
  for m in "${modules[@]}"; do "$VENV/bin/python" -c "import $m" 2>/dev/null || ok=0; done
fi
if [ "$ok" = 1 ]; then
  echo "python-deps: $VENV ready"
  exit 0
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  'maturin>=1.9,<2' 'pytest>=7' 'numpy>=1.24' 'safetensors>=0.4'
