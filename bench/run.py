#!/usr/bin/env python3
"""modelseal hashing benchmark: modelseal vs openssl, sha256sum, b3sum and model_signing.

usage: bench/run.py [--dir DIR] [--layouts big,four,small,mix] [--runs 3] [--cold]
                    [--quick] [--out bench/out/results.md]

Makes the model layouts itself (pseudo-random bytes, reused between runs), then
runs every tool side by side on each layout and prints a markdown table of
seconds (best of --runs, warm page cache after one warm-up run), GB/s, ratios
to one core of `openssl dgst -sha256`, to the two-core SHA-256 bound (2 x that)
and to model_signing in the same mode, and peak RSS (GNU time).

Needs: a release build (`cargo build --release -p modelseal`), openssl,
sha256sum, GNU time (/usr/bin/time); optional: b3sum (`cargo install b3sum`),
model_signing (`pip install model-signing==1.1.1 pyopenssl`; point --oms-venv
at its virtualenv). --cold drops the page cache before every run (needs root
and a writable /proc/sys/vm/drop_caches) and does one run per command.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

GiB = 1 << 30
MiB = 1 << 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LAYOUTS = {
    # name: (description, [(relative path, size)])
    "big": ("one 4 GiB file", [("model.safetensors", 4 * GiB)]),
    "four": ("4 x 1 GiB", [(f"model-0000{i}-of-00004.safetensors", GiB) for i in range(1, 5)]),
    "small": ("10,000 x 64 KiB", [(f"shard/{i // 100:03d}/part-{i:05d}.bin", 64 * 1024) for i in range(10_000)]),
    "mix": ("realistic mix (2 x 1.5 GiB + 1 GiB + 12 small)", [
        ("model-00001-of-00003.safetensors", 3 * GiB // 2),
        ("model-00002-of-00003.safetensors", 3 * GiB // 2),
        ("model-00003-of-00003.safetensors", GiB),
        ("model.safetensors.index.json", 40 * 1024),
        ("config.json", 700),
        ("generation_config.json", 180),
        ("tokenizer.json", 9 * MiB),
        ("tokenizer_config.json", 50 * 1024),
        ("special_tokens_map.json", 500),
        ("vocab.txt", 230 * 1024),
        ("merges.txt", 450 * 1024),
        ("README.md", 12 * 1024),
        ("LICENSE", 11 * 1024),
        ("chat_template.jinja", 4 * 1024),
        ("onnx/model.onnx_data", 32 * MiB),
    ]),
}
QUICK = {  # small sizes to test the script itself
    "big": ("one 64 MiB file", [("model.safetensors", 64 * MiB)]),
    "four": ("4 x 16 MiB", [(f"model-{i}.safetensors", 16 * MiB) for i in range(4)]),
    "small": ("500 x 64 KiB", [(f"s/part-{i:05d}.bin", 64 * 1024) for i in range(500)]),
    "mix": ("mix", [("a.safetensors", 24 * MiB), ("config.json", 700), ("tok.json", MiB)]),
}


def make_layout(base, files):
    """Create files of pseudo-random bytes (AES-CTR keystream via openssl) once."""
    stamp = os.path.join(base, ".complete")
    if os.path.exists(stamp):
        return
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    block = None
    for rel, size in files:
        path = os.path.join(base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if size >= 16 * MiB:
            with open(path, "wb") as out:
                gen = subprocess.Popen(
                    ["openssl", "enc", "-aes-128-ctr", "-nosalt", "-pass", f"pass:{rel}", "-in", "/dev/zero"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                left = size
                while left:
                    chunk = gen.stdout.read(min(left, 8 * MiB))
                    out.write(chunk)
                    left -= len(chunk)
                gen.kill()
                gen.wait()
        else:
            if block is None:
                block = os.urandom(MiB)
            with open(path, "wb") as out:
                out.write((rel.encode() + block)[:size])
    open(stamp, "w").close()


def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def timed(cmd, cwd, cold):
    """Run cmd under GNU time; return (seconds, peak RSS KiB)."""
    if cold:
        drop_caches()
    with tempfile.NamedTemporaryFile("r") as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", "%M"] + cmd, cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode()[-500:]}")
        rss = int(tf.read().strip().splitlines()[-1])
    return dt, rss


def best(cmd, cwd, runs, cold):
    if cold:
        return timed(cmd, cwd, True)
    timed(cmd, cwd, False)  # warm-up: page cache, binaries
    results = [timed(cmd, cwd, False) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "modelseal-bench"))
    ap.add_argument("--layouts", default="big,four,small,mix")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--quick", action="store_true", help="tiny layouts, to test the script")
    ap.add_argument("--shard-size", type=int, default=256 * MiB)
    ap.add_argument("--oms-venv", default=os.environ.get("MODELSEAL_OMS_VENV", os.path.join(ROOT, ".venv-oms")))
    ap.add_argument("--modelseal", default=os.path.join(ROOT, "target/release/modelseal"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/out/results.md"))
    a = ap.parse_args()

    ms = a.modelseal
    if not os.access(ms, os.X_OK):
        sys.exit(f"{ms} not found: run `cargo build --release -p modelseal` first")
    oms = os.path.join(a.oms_venv, "bin/model_signing")
    have_oms = os.access(oms, os.X_OK)
    b3 = shutil.which("b3sum") or os.path.expanduser("~/.cargo/bin/b3sum")
    have_b3 = os.access(b3, os.X_OK)

    work = tempfile.mkdtemp(prefix="ms-bench-")
    key = os.path.join(work, "bench.key")
    pub = os.path.join(work, "bench.pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", key], check=True, capture_output=True)
    os.chmod(key, 0o600)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    sig = lambda name: os.path.join(work, name + ".sig")

    layouts = QUICK if a.quick else LAYOUTS
    cores = os.cpu_count()
    lines = [f"# modelseal benchmark\n",
             f"{cores} cores, {'cold' if a.cold else 'warm'} page cache, "
             f"{'1 run' if a.cold else f'best of {a.runs} after a warm-up'}; "
             f"shards of {a.shard_size // MiB} MiB; GB = 10^9 bytes.\n"]
    for name in a.layouts.split(","):
        desc, files = layouts[name]
        base = os.path.join(a.dir, ("quick-" if a.quick else "") + name)
        make_layout(base, files)
        total = sum(s for _, s in files)
        paths = [os.path.join(base, r) for r, _ in files]
        rows = []

        def run(label, cmd, mode):
            try:
                sec, rss = best(cmd, a.dir, a.runs, a.cold)
            except RuntimeError as e:
                print(f"  {label}: FAILED {e}", file=sys.stderr)
                return
            rows.append((label, mode, sec, rss))
            print(f"  {label:42s} {sec:8.3f} s {total / sec / 1e9:7.2f} GB/s {rss / 1024:8.1f} MiB", file=sys.stderr)

        print(f"{name}: {desc}, {total / 1e9:.2f} GB", file=sys.stderr)
        run("openssl dgst -sha256 (1 core)", ["openssl", "dgst", "-sha256"] + paths, "ref")
        run("sha256sum", ["sha256sum"] + paths, "ref")
        if have_b3:
            run("b3sum", [b3] + paths, "ref")
        for mode, extra in [("files", []), ("shards", ["--shard-size", str(a.shard_size)]),
                            ("blake3", ["--hash", "blake3"])]:
            s = sig(f"{name}-{mode}")
            run(f"modelseal sign ({mode})", [ms, "sign", base, "--key", key, "-s", s, "-q"] + extra, mode)
            run(f"modelseal verify ({mode})", [ms, "verify", base, "--public-key", pub, "-s", s, "-q"], mode)
        if have_oms:
            s = sig(f"{name}-oms")
            run("model_signing sign (files)", [oms, "sign", "key", base, "--signature", s, "--private_key", key], "oms")
            run("model_signing verify (files)",
                [oms, "verify", "key", base, "--signature", s, "--public_key", pub], "oms")

        ossl = next((r for r in rows if r[0].startswith("openssl")), None)
        oms_rows = {r[0].split()[1]: r for r in rows if r[0].startswith("model_signing")}
        lines.append(f"\n## {name}: {desc} ({total / 1e9:.2f} GB)\n")
        lines.append("| command | s | GB/s | vs openssl 1 core | vs 2-core bound | vs model_signing (same op, files/sha256) | peak RSS MiB |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, mode, sec, rss in rows:
            gbs = total / sec / 1e9
            v1 = f"{ossl[2] / sec:.2f}x" if ossl else "-"
            v2 = f"{ossl[2] / sec / min(2, cores):.2f}x" if ossl else "-"
            op = "sign" if " sign" in label else "verify" if " verify" in label else None
            ref = oms_rows.get(op) if op else None
            vo = f"{ref[2] / sec:.2f}x" if ref and mode != "oms" else "-"
            lines.append(f"| {label} | {sec:.3f} | {gbs:.2f} | {v1} | {v2} | {vo} | {rss / 1024:.1f} |")
    if not have_oms:
        lines.append("\nmodel_signing not found (--oms-venv): its rows are missing.")
    if not have_b3:
        lines.append("\nb3sum not installed: its rows are missing.")
    report = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(report)
    print(report)
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
