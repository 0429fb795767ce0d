#!/usr/bin/env bash
# Benchmark of the pre-load gate (issue 6). Not a test: it prints a table.
#
#   bash bench/gate.sh [SIZES_GIB...]        (default: 1 4)
#
# For each size, a one-file safetensors model (plus config.json) is made in
# $BENCH_DIR (default: a temporary directory under /var/tmp), signed with the
# Ed25519 test key, then timed, warm page cache and (if this user may drop
# caches) cold:
#
#   hash          load-safetensors --mode hash: verification alone (the
#                 `modelseal verify` path, in process)
#   stream        load-safetensors --mode stream: the loader reads every
#                 byte into memory while it is hashed, parses after the verdict
#   stream-discard  the same pass, keeping nothing (a GPU-style sink)
#   read-only     baseline, no verification: python reads every file into
#                 memory (the cost of loading alone, for `stream`)
#   verify+cat    `modelseal verify` then `cat` of every file
#   gate+cat      `modelseal gate -- cat` of every file in $MODELSEAL_MODEL_DIR
#
# Each figure is the median of $REPS runs (default 3): wall seconds and the
# peak RSS (GNU time %M) of the measured process; for gate+cat also the
# shared memory the sealed copies hold (Shmem in /proc/meminfo while COMMAND
# runs, minus before). Large files are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZES=("${@:-1 4}")
# shellcheck disable=SC2206
SIZES=(${SIZES[*]})
REPS=${REPS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$CARGO_TARGET_DIR/release

if [ ! -x /usr/bin/time ]; then
  apt-get install -y -q time >/dev/null
fi
cargo build --release -q -p modelseal -p modelseal-example-safetensors
MS=$BIN/modelseal
LOADER=$BIN/load-safetensors

WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/modelseal-bench.XXXXXX)}
mkdir -p "$WORK"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

KEY=$WORK/key.pem
cp fixtures/keys/ed25519.pkcs8.pem "$KEY"
chmod 600 "$KEY"
PUB=$ROOT/fixtures/keys/ed25519.pub.pem

can_drop() { sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; }
if can_drop; then COLD=1; else COLD=0; echo "note: cannot drop page caches here: warm figures only"; fi

# make_model DIR GIB: one safetensors file of GIB GiB (4 F32 tensors of
# random bytes) and a config.json.
make_model() {
  python3 - "$1" "$2" <<'EOF'
import json, os, struct, sys
d, gib = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
total = gib << 30
n = 4
per = total // n
rows = per // (4 * 1024)
header, off = {}, 0
for i in range(n):
    size = rows * 1024 * 4
    header[f"layer.{i}.weight"] = {"dtype": "F32", "shape": [rows, 1024], "data_offsets": [off, off + size]}
    off += size
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)))
    f.write(h)
    left = off
    while left:
        chunk = min(left, 64 << 20)
        f.write(os.urandom(chunk))
        left -= chunk
with open(os.path.join(d, "config.json"), "w") as f:
    json.dump({"tensors": n}, f)
EOF
}

# measure COLD CMD...: prints "seconds rss_kib cpu_user+sys" (medians of
# REPS runs); warm runs get one untimed run first.
median() { sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
measure() {
  local cold=$1; shift
  local times=() rss=() cpu=() out
  [ "$cold" = 0 ] && "$@" >/dev/null 2>&1
  for _ in $(seq "$REPS"); do
    [ "$cold" = 1 ] && can_drop
    /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$@" >/dev/null 2>&1
    read -r e m u s < <(tail -1 "$WORK/time")
    times+=("$e"); rss+=("$m"); cpu+=("$(echo "$u $s" | awk '{printf "%.2f+%.2f", $1, $2}')")
  done
  echo "$(printf '%s\n' "${times[@]}" | median) $(printf '%s\n' "${rss[@]}" | median) $(printf '%s\n' "${cpu[@]}" | median)"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
printf '%-5s %-5s %-15s %8s %14s %12s %s\n' size cache mode wall_s peak_rss cpu_user+sys extra
for gib in "${SIZES[@]}"; do
  M=$WORK/m$gib
  make_model "$M" "$gib"
  SIG=$WORK/m$gib.sig
  "$MS" sign "$M" --key "$KEY" --signature "$SIG" -q
  caches=(0); [ "$COLD" = 1 ] && caches+=(1)
  for cold in "${caches[@]}"; do
    label=$([ "$cold" = 1 ] && echo cold || echo warm)
    row() { printf '%-5s %-5s %-15s %8s %10s KiB %12s %s\n' "${gib}G" "$label" "$1" "$2" "$3" "$4" "${5:-}"; }
    for mode in hash stream stream-discard; do
      read -r s r c < <(measure "$cold" "$LOADER" "$M" --signature "$SIG" --public-key "$PUB" --mode "$mode")
      row "$mode" "$s" "$r" "$c"
    done
    read -r s r c < <(measure "$cold" python3 -c 'import sys
for p in sys.argv[1:]:
    with open(p, "rb") as f: f.read()' "$M"/*)
    row read-only "$s" "$r" "$c" "(no verification)"
    read -r s r c < <(measure "$cold" "$MS" verify "$M" --signature "$SIG" --public-key "$PUB" -q)
    row verify "$s" "$r" "$c"
    read -r s r c < <(measure "$cold" sh -c "'$MS' verify '$M' --signature '$SIG' --public-key '$PUB' -q && cat '$M'/* >/dev/null")
    row verify+cat "$s" "$r" "$c" "(rss: largest process)"
    gate_cmd=("$MS" gate "$M" --signature "$SIG" --public-key "$PUB" -q -- sh -c 'cat "$MODELSEAL_MODEL_DIR"/* >/dev/null')
    read -r s r c < <(measure "$cold" "${gate_cmd[@]}")
    before=$(awk '/^Shmem:/ {print $2}' /proc/meminfo)
    during=$("$MS" gate "$M" --signature "$SIG" --public-key "$PUB" -q -- awk '/^Shmem:/ {print $2}' /proc/meminfo)
    row gate+cat "$s" "$r" "$c" "sealed copies: $(( (during - before) / 1024 )) MiB shmem"
  done
  rm -rf "$M" "$SIG"
done
