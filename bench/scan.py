#!/usr/bin/env python3
"""Content-scanner benchmark: `modelseal scan` vs picklescan and modelscan, side by side.

usage: bench/scan.py [--dir DIR] [--size-gib 1] [--runs 3] [--venv DIR] [--quick]
                     [--out bench/out/scan.md]

1. Detection: every sample of scan/tests/samples/make_samples.py (benign and
   malicious pickles, archives, hostile headers) through each tool: which
   malicious ones each catches or misses, which benign ones each flags.
2. Throughput: a pickle checkpoint of --size-gib GiB (a state dict of NumPy
   arrays, written by pickle with the array payloads inline) and a model
   directory (a PyTorch zip checkpoint, safetensors, a small pickle,
   tokenizer and config files), each tool timed on the same files (best of
   --runs after a warm-up run, warm page cache) with peak RSS (GNU time).

Needs a release build (`cargo build --release -p modelseal`), python3 and GNU
time; picklescan 1.0.5 and modelscan 0.8.8 are installed from PyPI into
--venv on first use. Prints a markdown report and writes it to --out.
"""
import argparse
import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MiB = 1 << 20
GiB = 1 << 30
PICKLESCAN = "picklescan==1.0.5"
MODELSCAN = "modelscan==0.8.8"


def load_samples_module():
    path = os.path.join(ROOT, "scan", "tests", "samples", "make_samples.py")
    spec = importlib.util.spec_from_file_location("make_samples", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def ensure_venv(venv):
    exe = os.path.join(venv, "bin")
    if not (os.path.exists(os.path.join(exe, "picklescan")) and os.path.exists(os.path.join(exe, "modelscan"))):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(exe, "pip"), "install", "-q", "--disable-pip-version-check",
                        PICKLESCAN, MODELSCAN], check=True)
    return {"picklescan": os.path.join(exe, "picklescan"), "modelscan": os.path.join(exe, "modelscan")}


def commands(modelseal, tools, path):
    return {
        "modelseal": [modelseal, "scan", "-q", path],
        "picklescan": [tools["picklescan"], "-p", path],
        "modelscan": [tools["modelscan"], "-p", path],
    }


def outcome(tool, rc):
    """'flagged', 'clean' or 'error' from a tool's exit code."""
    if rc == 1:
        return "flagged"
    if rc == 0:
        return "clean"
    if tool == "modelscan" and rc == 3:
        return "skipped"  # "no supported files"
    return f"error ({rc})"


def detection(modelseal, tools, workdir):
    samples = os.path.join(workdir, "samples")
    shutil.rmtree(samples, ignore_errors=True)
    script = os.path.join(ROOT, "scan", "tests", "samples", "make_samples.py")
    subprocess.run([sys.executable, script, samples], check=True)
    with open(os.path.join(samples, "expected.json")) as f:
        expected = [e for e in json.load(f) if e["verdict"] in ("clean", "unsafe")]
    rows, score = [], {t: {"missed": 0, "false": 0, "errors": 0} for t in ("modelseal", "picklescan", "modelscan")}
    for e in expected:
        path = os.path.join(samples, e["file"])
        row = [e["file"], e["verdict"]]
        for tool, cmd in commands(modelseal, tools, path).items():
            p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=workdir, timeout=600)
            got = outcome(tool, p.returncode)
            if e["verdict"] == "unsafe":
                ok = got == "flagged"
                if not ok:
                    score[tool]["missed"] += 1
                cell = "caught" if ok else f"**MISSED** ({got})"
            else:
                ok = got in ("clean", "skipped")
                if got == "flagged":
                    score[tool]["false"] += 1
                elif not ok:
                    score[tool]["errors"] += 1
                cell = "clean" if ok else f"**{got.upper()}**"
            row.append(cell)
        rows.append(row)
    return rows, score, len([e for e in expected if e["verdict"] == "unsafe"]), len(expected)


def write_pickle_checkpoint(path, size, ms):
    """A state dict of NumPy arrays (4 MiB each), pickled with protocol 4 by
    pickle itself; items are produced lazily so memory stays small."""
    n = max(1, size // (4 * MiB))

    class LazyDict:
        def __reduce__(self):
            items = ((f"layer.{i}.weight", ms.Array(os.urandom(4 * MiB), (MiB,))) for i in range(n))
            return (ms.OrderedDict, (), None, None, items)

    with open(path, "wb") as f:
        p = pickle.Pickler(f, protocol=4)
        p.fast = True  # no memo: each array is written and dropped
        p.dump(LazyDict())


def write_model_dir(path, size, ms):
    """A Hugging Face style directory: pytorch_model.bin (torch zip), model.safetensors,
    training_args.bin (a small pickle), config and tokenizer files."""
    os.makedirs(path, exist_ok=True)
    half = max(MiB, size // 2)
    n = max(1, half // (8 * MiB))
    storages = [ms.Storage(str(i), ms.FloatStorage, 2 * MiB, None) for i in range(n)]
    sd = ms.OrderedDict((f"layer.{i}.weight", ms.Tensor(s, (2 * MiB,))) for i, s in enumerate(storages))
    data, _ = ms.torch_pickle(sd)
    with zipfile.ZipFile(os.path.join(path, "pytorch_model.bin"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data)
        for s in storages:
            with z.open(f"archive/data/{s.key}", "w", force_zip64=True) as f:
                f.write(os.urandom(8 * MiB))
        z.writestr("archive/version", "3\n")
    header = {f"layer.{i}.weight": {"dtype": "F32", "shape": [2 * MiB], "data_offsets": [i * 8 * MiB, (i + 1) * 8 * MiB]}
              for i in range(n)}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(path, "model.safetensors"), "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h)
        for _ in range(n):
            f.write(os.urandom(8 * MiB))
    with open(os.path.join(path, "training_args.bin"), "wb") as f:
        pickle.dump({"lr": 1e-4, "epochs": 3, "names": ["a"] * 100}, f, protocol=4)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump({"architectures": ["Bert"], "hidden_size": 768}, f)
    with open(os.path.join(path, "tokenizer.json"), "w") as f:
        json.dump({"model": {"vocab": {f"tok{i}": i for i in range(100000)}}}, f)


def tree_size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def timed(cmd, cwd):
    with tempfile.NamedTemporaryFile() as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", "%M"] + cmd, cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        rss = int(open(tf.name).read().split()[-1])
    return dt, rss, p.returncode


def throughput(modelseal, tools, target, runs, workdir):
    size = tree_size(target)
    out = {}
    for tool, cmd in commands(modelseal, tools, target).items():
        timed(cmd, workdir)  # warm-up
        best = min((timed(cmd, workdir) for _ in range(runs)), key=lambda r: r[0])
        out[tool] = (best[0], size / best[0] / 1e9, best[1] / 1024, outcome(tool, best[2]))
    return size, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "modelseal-scan-bench"))
    ap.add_argument("--size-gib", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--venv", default=os.path.join(tempfile.gettempdir(), "modelseal-scan-venv"))
    ap.add_argument("--modelseal", default=os.path.join(ROOT, "target", "release", "modelseal"))
    ap.add_argument("--quick", action="store_true", help="64 MiB inputs, one run")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "scan.md"))
    a = ap.parse_args()
    if a.quick:
        a.size_gib, a.runs = 1 / 16, 1
    if not os.path.exists(a.modelseal):
        sys.exit(f"{a.modelseal} not found: cargo build --release -p modelseal")
    os.makedirs(a.dir, exist_ok=True)
    tools = ensure_venv(a.venv)
    ms = load_samples_module()

    lines = ["# Content scanners side by side", ""]
    versions = subprocess.run([tools["modelscan"], "--version"], capture_output=True, text=True).stdout.strip()
    lines.append(f"`{os.path.relpath(a.modelseal, ROOT)}`, {PICKLESCAN}, {MODELSCAN} ({versions}); "
                 f"{os.cpu_count()} cores. picklescan and modelscan do not check safetensors, GGUF or ONNX "
                 "headers (the `hostile_*` rows are outside their scope).")
    lines.append("")

    rows, score, n_bad, n_all = detection(a.modelseal, tools, a.dir)
    lines += ["## Detection", "", f"{n_all} samples, {n_bad} unsafe (scan/tests/samples/make_samples.py).", "",
              "| sample | expected | modelseal | picklescan | modelscan |", "| --- | --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "| tool | malicious missed | benign flagged | benign errors |", "| --- | --- | --- | --- |"]
    for tool, s in score.items():
        lines.append(f"| {tool} | {s['missed']} / {n_bad} | {s['false']} | {s['errors']} |")

    size = int(a.size_gib * GiB)
    ckpt = os.path.join(a.dir, f"checkpoint-{size >> 20}MiB.pkl")
    if not os.path.exists(ckpt):
        write_pickle_checkpoint(ckpt, size, ms)
    model = os.path.join(a.dir, f"model-{size >> 20}MiB")
    if not os.path.exists(model):
        write_model_dir(model, size, ms)
    lines += ["", "## Throughput (warm page cache, best of %d)" % a.runs, "",
              "| input | tool | seconds | GB/s | peak RSS MiB | verdict | vs picklescan |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for label, target in [("pickle checkpoint", ckpt), ("model directory", model)]:
        total, res = throughput(a.modelseal, tools, target, a.runs, a.dir)
        base = res["picklescan"][0]
        for tool, (secs, gbps, rss, verdict) in res.items():
            lines.append(f"| {label} ({total / GiB:.2f} GiB) | {tool} | {secs:.3f} | {gbps:.2f} | {rss:.0f} | "
                         f"{verdict} | {base / secs:.1f}x |")
    report = "\n".join(lines) + "\n"
    print(report)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(report)


if __name__ == "__main__":
    main()
