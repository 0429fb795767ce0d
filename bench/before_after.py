#!/usr/bin/env python3
"""Two modelseal release binaries side by side in one run (e.g. before and
after a refactor), with one core of `openssl dgst -sha256` as the reference.
Reuses run.py's layouts and timing (best of RUNS after a warm-up, peak RSS
from GNU time).

usage: bench/before_after.py BEFORE_BIN AFTER_BIN RUNS LAYOUTS
       e.g. bench/before_after.py /tmp/ms-old target/release/modelseal 3 four,small
Build both with the same profile settings."""
import os, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as B

before, after, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
work = tempfile.mkdtemp(prefix="ms-ba-")
key, pub = os.path.join(work, "k.pem"), os.path.join(work, "k.pub")
subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], check=True, capture_output=True)
os.chmod(key, 0o600)
subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
d = os.path.join(tempfile.gettempdir(), "modelseal-bench")
print("| layout | command | before s | after s | after/before | openssl 1 core s | peak RSS before / after MiB |")
print("|---|---|---|---|---|---|---|")
for name in sys.argv[4].split(","):
    desc, files = B.LAYOUTS[name]
    base = os.path.join(d, name)
    B.make_layout(base, files)
    paths = [os.path.join(base, r) for r, _ in files]
    ossl, _ = B.best(["openssl", "dgst", "-sha256"] + paths, d, runs, False)
    for mode, extra in [("files", []), ("shards", ["--shard-size", str(256 << 20)])]:
        res = {}
        for label, ms in [("before", before), ("after", after)]:
            s = os.path.join(work, f"{name}-{mode}-{label}.sig")
            sign = B.best([ms, "sign", base, "--key", key, "-s", s, "-q"] + extra, d, runs, False)
            ver = B.best([ms, "verify", base, "--public-key", pub, "-s", s, "-q"], d, runs, False)
            res[label] = (sign, ver)
        for i, cmd in enumerate(["sign", "verify"]):
            b, a = res["before"][i], res["after"][i]
            print(f"| {desc} | {cmd} ({mode}) | {b[0]:.3f} | {a[0]:.3f} | {a[0]/b[0]:.2f} | {ossl:.3f} | {b[1]/1024:.1f} / {a[1]/1024:.1f} |", flush=True)
