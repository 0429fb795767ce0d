#!/usr/bin/env bash
# Sign a release directory made by packaging/build-static.sh, with modelseal itself.
#
#   packaging/sign-release.sh DIST_DIR --key KEY [--cert CERT.pem [--chain CHAIN.pem]...]
#                             [-- MORE_SIGN_OPTIONS...]
#
# Writes, next to DIST_DIR/modelseal and DIST_DIR/SHA256SUMS:
#   SHA256SUMS.sig  a detached signature over SHA256SUMS, what `openssl dgst
#                   -sha256 -sign` writes: checkable with openssl alone, before
#                   any modelseal is trusted (bootstrap);
#   modelseal.sig   an OMS bundle over the whole directory (modelseal, SHA256SUMS,
#                   SHA256SUMS.sig) with the certificate chain: checkable with a
#                   modelseal you already trust, identity pinned.
# MORE_SIGN_OPTIONS go to the bundle signing only (e.g. a timestamp authority,
# once `sign` has one). The binary that signs is DIST_DIR/modelseal unless
# $MODELSEAL names another. Verification commands: docs/deploy.md.
set -euo pipefail

usage() {
  echo "usage: $0 DIST_DIR --key KEY [--cert CERT.pem [--chain CHAIN.pem]...] [-- OPTIONS...]" >&2
  exit 2
}
[ "$#" -ge 1 ] || usage
dist=$1
shift
key="" cert_args=() more=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --key) [ "$#" -ge 2 ] || usage; key=$2; shift 2 ;;
    --cert | --chain) [ "$#" -ge 2 ] || usage; cert_args+=("$1" "$2"); shift 2 ;;
    --) shift; more=("$@"); break ;;
    *) usage ;;
  esac
done
[ -n "$key" ] || usage

ms=${MODELSEAL:-$dist/modelseal}
# Sign only what the checksums vouch for.
(cd "$dist" && sha256sum -c --quiet SHA256SUMS)
for f in "$dist"/*; do
  case "$(basename "$f")" in
    modelseal | SHA256SUMS | SHA256SUMS.sig | modelseal.sig) ;;
    *) echo "sign-release: unexpected file in $dist: $f" >&2; exit 2 ;;
  esac
done
rm -f "$dist/SHA256SUMS.sig" "$dist/modelseal.sig"

"$ms" sign "$dist/SHA256SUMS" --key "$key" --raw-signature "$dist/SHA256SUMS.sig" --quiet
"$ms" sign "$dist" --key "$key" "${cert_args[@]}" --signature "$dist/modelseal.sig" \
  --quiet "${more[@]}"
echo "sign-release: wrote $dist/SHA256SUMS.sig and $dist/modelseal.sig" >&2
