#!/usr/bin/env bash
# Real public Sigstore bundles and trusted roots for the Sigstore tests
# (sigstore/tests/sigstore/public_bundles.rs, cli/tests/signing/sigstore.rs), from PyPI, pinned
# by hash, unpacked into $MODELSEAL_SIGSTORE_ASSETS (default .sigstore-assets):
#
# - pypi-attestations 0.0.31 sdist: its test/assets hold Sigstore bundles
#   made by GitHub Actions, GitLab and Google Cloud Build identities on the
#   public-good instance (Fulcio, Rekor v1 dsse entries with SETs, inclusion
#   proofs and checkpoints, embedded SCTs) and on staging, with the artifacts
#   they sign.
# - sigstore 4.5.1 wheel: sigstore-python's copies of the production and
#   staging trusted_root.json.
#
# Nothing is fetched at verification time. Idempotent.
set -euo pipefail
DIR=${MODELSEAL_SIGSTORE_ASSETS:-$PWD/.sigstore-assets}
if [ -e "$DIR/.complete" ]; then
  echo "sigstore-assets: already in $DIR"
  exit 0
fi
mkdir -p "$DIR/dl"
fetch() { # name==version, file, sha256, extra pip args
  if ! echo "$3  $DIR/dl/$2" | sha256sum -c --quiet >/dev/null 2>&1; then
    python3 -m pip download -q --disable-pip-version-check --no-deps --no-build-isolation \
      -d "$DIR/dl" "${@:4}" "$1" 2>/dev/null || true
    [ -e "$DIR/dl/$2" ] || python3 -m pip download -q --disable-pip-version-check --no-deps -d "$DIR/dl" "${@:4}" "$1"
  fi
  echo "$3  $DIR/dl/$2" | sha256sum -c --quiet
}
fetch pypi-attestations==0.0.31 pypi_attestations-0.0.31.tar.gz \
  5a2473aca7d7f65caf2c3a985691c5cf9264a97fa68c98fbae6e96320bcc7c9a --no-binary :all:
fetch sigstore==4.5.1 sigstore-4.5.1-py3-none-any.whl \
  02e000197b34980f1d382741d6f83c2fecbcef7debf7304f36a5253f3c892cd9 --only-binary :all:
rm -rf "$DIR/pypi-attestations" "$DIR/roots"
mkdir -p "$DIR/pypi-attestations" "$DIR/roots"
tar -xzf "$DIR/dl/pypi_attestations-0.0.31.tar.gz" -C "$DIR/pypi-attestations" \
  --strip-components=3 pypi_attestations-0.0.31/test/assets
python3 - "$DIR" <<'PY'
import sys, zipfile
d = sys.argv[1]
z = zipfile.ZipFile(f"{d}/dl/sigstore-4.5.1-py3-none-any.whl")
for host, name in [("tuf-repo-cdn.sigstore.dev", "production"), ("tuf-repo-cdn.sigstage.dev", "staging")]:
    data = z.read(f"sigstore/_store/https%3A%2F%2F{host}/trusted_root.json")
    open(f"{d}/roots/{name}.json", "wb").write(data)
PY
touch "$DIR/.complete"
echo "sigstore-assets: ready in $DIR"
