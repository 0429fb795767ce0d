#!/usr/bin/env bash
# Build a fully static x86_64 Linux `modelseal` into OUT_DIR, with OUT_DIR/SHA256SUMS.
#
#   packaging/build-static.sh OUT_DIR
#
# The binary links glibc statically (`-C target-feature=+crt-static`, a
# static-pie executable without an interpreter or shared libraries), so it runs
# in an empty container (FROM scratch) and on any x86_64 Linux kernel >= 3.2.
# `--target` is required for crt-static: without it the flag would also reach
# proc-macro crates, which cannot be static.
#
# Environment:
#   MODELSEAL_PROFILE        cargo profile (default: release). The tests use
#                            `ci-static` (Cargo.toml): no LTO, more codegen units,
#                            same code, several times faster to build on 2 cores.
#   MODELSEAL_STATIC_TARGET  target triple (default x86_64-unknown-linux-gnu);
#                            x86_64-unknown-linux-musl works where that target and
#                            a musl C compiler are installed (not needed otherwise).
#   CARGO_TARGET_DIR         honoured as usual.
set -euo pipefail

if [ "$#" -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
profile=${MODELSEAL_PROFILE:-release}
target=${MODELSEAL_STATIC_TARGET:-x86_64-unknown-linux-gnu}
target_dir=${CARGO_TARGET_DIR:-$root/target}

echo "build-static: cargo build --profile $profile --target $target (crt-static)" >&2
(
  cd "$root"
  cargo build --locked -q -p modelseal --profile "$profile" --target "$target" \
    --config "target.$target.rustflags=[\"-C\", \"target-feature=+crt-static\"]"
)

# cargo names the `dev` profile's directory `debug`.
dir=$profile
[ "$profile" = dev ] && dir=debug
bin=$target_dir/$target/$dir/modelseal

# Refuse to ship a binary that still needs a dynamic loader or shared libraries.
if readelf -l "$bin" | grep -q 'INTERP'; then
  echo "build-static: $bin has a program interpreter: not static" >&2
  exit 1
fi
if readelf -d "$bin" | grep -q '(NEEDED)'; then
  echo "build-static: $bin needs shared libraries: not static" >&2
  readelf -d "$bin" | grep '(NEEDED)' >&2
  exit 1
fi

mkdir -p "$out"
install -m 0755 "$bin" "$out/modelseal.tmp"
mv -f "$out/modelseal.tmp" "$out/modelseal"
(cd "$out" && sha256sum modelseal > SHA256SUMS.tmp && mv -f SHA256SUMS.tmp SHA256SUMS)
echo "build-static: wrote $out/modelseal and $out/SHA256SUMS" >&2
