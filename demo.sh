#!/usr/bin/env bash
# modelseal demo: sign the fixtures demo model, verify it, then show that a
# tampered copy is rejected. Uses the committed TEST PKI (fixtures/pki/p256),
# never production keys. Runs from any directory; writes only to a temp dir.
set -euo pipefail
cd "$(dirname "$0")"

echo "==> building modelseal"
cargo build -q -p modelseal
ms=$PWD/target/debug/modelseal

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/models/demo "$work/model"
# Private keys must not be readable by others: git checks them out 0644.
install -m 600 fixtures/pki/p256/leaf.key "$work/signer.key"

step() { printf '\n==> %s\n$ %s\n' "$1" "${*:2}"; }

step "sign the demo model (ECDSA P-256, certificate chain in the bundle)" \
  modelseal sign model --key signer.key --cert leaf.pem --chain chain.pem --signature model.sig
"$ms" sign "$work/model" --key "$work/signer.key" \
  --cert fixtures/pki/p256/leaf.pem --chain fixtures/pki/p256/chain.pem \
  --signature "$work/model.sig"

step "verify it against the trusted root, pinning the release identity" \
  modelseal verify model --signature model.sig --trust-root root.pem --identity email:release-a@modelseal.test
"$ms" verify "$work/model" --signature "$work/model.sig" \
  --trust-root fixtures/pki/p256/root.pem --identity email:release-a@modelseal.test

step "tamper: flip one byte of the weights, verify again (must fail with exit 1)" \
  modelseal verify model --signature model.sig --trust-root root.pem --identity email:release-a@modelseal.test
python3 - "$work/model/model.safetensors" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "wb").write(bytes(b))
PY
set +e
"$ms" verify "$work/model" --signature "$work/model.sig" --trust-root fixtures/pki/p256/root.pem \
  --identity email:release-a@modelseal.test
code=$?
set -e
echo "exit code: $code"
if [ "$code" -ne 1 ]; then
  echo "demo FAILED: the tampered model was not rejected with exit code 1" >&2
  exit 1
fi
echo
echo "demo OK: signed, verified, and the tampered copy was rejected."
