#!/usr/bin/env python3
"""In-process load benchmark: modelseal.open_model vs unverified safetensors vs model_signing.

usage: bench/python_load.py [--python VENV/bin/python] [--sizes 1,4] [--runs 3]
                            [--dir DIR] [--quick] [--ways W,W,...]
                            [--before OTHER_VENV/bin/python]

For each model size (GiB of float32 safetensors, in 512 MiB files; made once
and signed with the release `modelseal` CLI, key mode), each way of loading
runs in a fresh interpreter, alternating, warm page cache (one untimed
warm-up of each first), and the median wall time, the child's CPU time
(user + sys, all threads) and its peak RSS are reported. On a shared machine
the wall time follows the scheduler; CPU time is the work each way does:

- `unverified`: `safetensors.numpy.load_file` on every file (no check).
- `open_model`: `with modelseal.open_model(...) as m: m.load_safetensors()`:
  every file read once straight into its arrays and hashed there, several
  files at once (one per core).
- `open_model (file by file)`: `m.load_safetensors(f)` for each file in turn
  (one core hashing at a time).
- `open_model.path`: `safetensors.numpy.load_file(m.path + f)`: the whole
  model sealed into memory first (its size in shared memory, reported as
  `+ sealed`), then loaded from the copies.
- `verify+load`: `modelseal.verify` then `load_file` (two passes).
- `model_signing+load`: model_signing 1.1.1's Python `verify` (key mode) then
  `load_file`, the usual way today.
- `open_model (before)`, with `--before PY`: `open_model` run by another
  interpreter (a venv holding an older wheel), for a before/after in the
  same run.

`--ways` picks ways by number (1-6 as listed above; `unverified`, the
baseline, always runs): fewer ways, more runs in the same time.

Needs a Python with the modelseal wheel (release build: `maturin build
--release -m python/Cargo.toml`), numpy, safetensors and model-signing==1.1.1
(+ pyopenssl); `target/release/modelseal` signs the models.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 1 << 20
GiB = 1 << 30
FILE = 512 * MiB
TENSOR = 64 * MiB

CHILD = r"""
import os, pathlib, resource, sys, time
import numpy
from safetensors.numpy import load_file
import modelseal
mode, model, sig, pub = sys.argv[1:5]
if mode == "model_signing+load":
    import model_signing
files = sorted(f for f in os.listdir(model) if f.endswith(".safetensors"))
# Imports are not timed: each way pays only for its own work.
def cpu_seconds():
    # This process's threads and any worker processes a way starts.
    return sum(
        r.ru_utime + r.ru_stime
        for r in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )
cpu0 = cpu_seconds()
t0 = time.perf_counter()
extra = 0
if mode == "unverified":
    out = [load_file(os.path.join(model, f)) for f in files]
elif mode == "open_model":
    with modelseal.open_model(model, signature=sig, public_key=pub) as m:
        out = [m.load_safetensors()]
elif mode == "open_model (file by file)":
    with modelseal.open_model(model, signature=sig, public_key=pub) as m:
        out = [m.load_safetensors(f) for f in files]
elif mode == "open_model.path":
    with modelseal.open_model(model, signature=sig, public_key=pub) as m:
        out = [load_file(os.path.join(m.path, f)) for f in files]
        extra = m.sealed_bytes
elif mode == "verify+load":
    modelseal.verify(model, signature=sig, public_key=pub)
    out = [load_file(os.path.join(model, f)) for f in files]
elif mode == "model_signing+load":
    model_signing.verifying.Config().use_elliptic_key_verifier(
        public_key=pathlib.Path(pub)
    ).verify(pathlib.Path(model), pathlib.Path(sig))
    out = [load_file(os.path.join(model, f)) for f in files]
else:
    raise SystemExit("unknown mode " + mode)
dt = time.perf_counter() - t0
n = sum(a.nbytes for d in out for a in d.values())
cpu = cpu_seconds() - cpu0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"{dt:.4f} {rss} {n} {extra} {cpu:.4f}")
"""

MODES = [
    "unverified",
    "open_model",
    "open_model (file by file)",
    "open_model.path",
    "verify+load",
    "model_signing+load",
]


def make_model(root: str, total: int, cli: str, key: str) -> tuple:
    model = os.path.join(root, f"model-{total >> 20}m")
    sig = os.path.join(root, f"model-{total >> 20}m.sig")
    if not os.path.exists(sig):
        import numpy as np
        from safetensors.numpy import save_file

        os.makedirs(model, exist_ok=True)
        rng = np.random.default_rng(total >> 20)
        for i in range(max(1, total // FILE)):
            tensors = {
                f"layer.{i}.{j}.weight": rng.standard_normal(TENSOR // 4, dtype=np.float32).reshape(-1, 1024)
                for j in range(min(FILE, total) // TENSOR)
            }
            save_file(tensors, os.path.join(model, f"model-{i:05d}.safetensors"))
        subprocess.run([cli, "sign", model, "--key", key, "-s", sig, "-q"], check=True)
    return model, sig


def warm(model: str) -> None:
    for f in os.listdir(model):
        with open(os.path.join(model, f), "rb") as fh:
            while fh.read(64 * MiB):
                pass


BEFORE = "open_model (before)"


def run(python: str, mode: str, model: str, sig: str, pub: str, before: str = "") -> tuple:
    if mode == BEFORE:
        python, mode = before, "open_model"
    r = subprocess.run([python, "-c", CHILD, mode, model, sig, pub], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{r.stderr}")
    dt, rss, n, extra, cpu = r.stdout.split()
    return float(dt), int(rss), int(n), int(extra), float(cpu)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--sizes", default="1,4")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "modelseal-bench-py"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "target", "release", "modelseal"))
    ap.add_argument("--quick", action="store_true", help="64 MiB model, one run")
    ap.add_argument("--ways", default="", help="ways to run, by number (1-6), e.g. 2,6")
    ap.add_argument("--before", default="", help="another python whose open_model is compared")
    args = ap.parse_args()
    modes = list(MODES)
    if args.ways:
        picked = {int(w) for w in args.ways.split(",")}
        modes = [m for i, m in enumerate(MODES, 1) if i in picked or m == "unverified"]
    if args.before:
        modes.insert(modes.index("open_model") + 1 if "open_model" in modes else 1, BEFORE)
    os.makedirs(args.dir, exist_ok=True)
    key = os.path.join(args.dir, "p256.key")
    with open(os.path.join(ROOT, "fixtures", "keys", "p256.pkcs8.pem"), "rb") as src:
        data = src.read()
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, data)
    os.close(fd)
    pub = os.path.join(ROOT, "fixtures", "keys", "p256.pub.pem")
    global FILE, TENSOR
    sizes = [(f"{s} GiB", int(s) * GiB) for s in args.sizes.split(",")]
    if args.quick:
        FILE, TENSOR, args.runs = 32 * MiB, 8 * MiB, 1
        sizes = [("64 MiB", 64 * MiB)]
    print(
        f"| model | way | seconds (median of {args.runs}) | x unverified | "
        "CPU seconds (user+sys) | peak RSS | x unverified RSS |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, total in sizes:
        model, sig = make_model(args.dir, total, args.cli, key)
        warm(model)
        for mode in modes:  # warm-up: page cache, imports
            run(args.python, mode, model, sig, pub, args.before)
        results = {m: [] for m in modes}
        for _ in range(args.runs):
            for mode in modes:
                results[mode].append(run(args.python, mode, model, sig, pub, args.before))
        base_t = statistics.median(r[0] for r in results["unverified"])
        base_m = max(r[1] for r in results["unverified"])
        for mode in modes:
            t = statistics.median(r[0] for r in results[mode])
            m = max(r[1] for r in results[mode])
            extra = max(r[3] for r in results[mode])
            cpu = statistics.median(r[4] for r in results[mode])
            sealed = f" (+ {extra / GiB:.2f} GiB sealed)" if extra else ""
            print(
                f"| {label} | {mode} | {t:.2f} | {t / base_t:.2f} | {cpu:.2f} | "
                f"{m / GiB:.2f} GiB{sealed} | {m / base_m:.2f} |"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
