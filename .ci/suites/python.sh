#!/usr/bin/env bash
# The `modelseal` Python package: build the wheel with maturin from this
# repository, install it into the suite's venv (.ci/deps/python.sh) and run
# pytest on python/tests. The tests sign their models with this repository's
# CLI. Any failure (a missing tool included) fails the suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
VENV=${MODELSEAL_PY_VENV:-$root/.venv-py}
for t in python maturin pytest; do
  if [ ! -x "$VENV/bin/$t" ]; then
    echo "python suite: $VENV/bin/$t is missing: run .ci/deps/python.sh" >&2
    exit 1
  fi
done
cargo build --locked -q -p modelseal
out=target/python-wheels
rm -rf "$out"
"$VENV/bin/maturin" build --locked -q -m python/Cargo.toml -i "$VENV/bin/python" --out "$out"
wheels=("$out"/modelseal-*.whl)
if [ "${#wheels[@]}" != 1 ] || [ ! -f "${wheels[0]}" ]; then
  echo "python suite: maturin built no single wheel in $out" >&2
  exit 1
fi
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "${wheels[0]}"
# From python/tests, so that `import modelseal` is the installed wheel and
# not python/modelseal (which has no native module).
cd python/tests
MODELSEAL_BIN="$root/target/debug/modelseal" "$VENV/bin/python" -m pytest -p no:cacheprovider -q .
