#!/usr/bin/env bash
# Build the modelseal container image with podman.
#
#   packaging/build-image.sh [TAG]        (default TAG: localhost/modelseal:latest)
#
# Builds the static binary (packaging/build-static.sh), then the image from
# packaging/Containerfile: FROM scratch, the binary as /modelseal (the
# entrypoint), numeric non-root USER 65532. No registry is contacted.
#
# Environment:
#   MODELSEAL_STATIC_DIR  a directory that already holds a static `modelseal`
#                         (from build-static.sh): it is used as is, nothing is
#                         rebuilt (the tests build the binary once).
#   MODELSEAL_PROFILE, MODELSEAL_STATIC_TARGET: passed to build-static.sh.
#   CONTAINERS_CONF etc.: podman's own settings, as usual.
set -euo pipefail

if [ "$#" -gt 1 ]; then
  echo "usage: $0 [TAG]" >&2
  exit 2
fi
tag=${1:-localhost/modelseal:latest}
here=$(cd "$(dirname "$0")" && pwd)

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
if [ -n "${MODELSEAL_STATIC_DIR:-}" ]; then
  if [ ! -x "$MODELSEAL_STATIC_DIR/modelseal" ]; then
    echo "build-image: no executable $MODELSEAL_STATIC_DIR/modelseal" >&2
    exit 2
  fi
  (cd "$MODELSEAL_STATIC_DIR" && sha256sum -c --quiet SHA256SUMS) >&2
  cp "$MODELSEAL_STATIC_DIR/modelseal" "$ctx/modelseal"
else
  "$here/build-static.sh" "$ctx/bin"
  mv "$ctx/bin/modelseal" "$ctx/modelseal"
fi
mkdir -p "$ctx/rootfs/tmp"
chmod 1777 "$ctx/rootfs/tmp"

podman build --quiet -f "$here/Containerfile" -t "$tag" "$ctx" >/dev/null
echo "build-image: built $tag" >&2
