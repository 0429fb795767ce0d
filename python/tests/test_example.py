"""examples/python/load_safetensors.py runs as documented."""

from __future__ import annotations

import subprocess
import sys

from conftest import KEYS, REPO, Signed

EXAMPLE = REPO / "examples" / "python" / "load_safetensors.py"


def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *map(str, args)], capture_output=True, text=True
    )


def test_example_loads_and_refuses(signed: Signed) -> None:
    r = run(signed.model, "-s", signed.key_sig, "--public-key", signed.pub)
    assert r.returncode == 0, r.stderr
    assert "model.safetensors: 5 tensors" in r.stdout and "digest verified" in r.stdout
    assert "embed.weight: float32 (64, 32)" in r.stdout

    r = run(signed.model, "-s", signed.key_sig, "--public-key", KEYS / "p384.pub.pem")
    assert r.returncode == 1 and "refused:" in r.stderr

    r = run(signed.model, "-s", signed.model / "missing.sig", "--public-key", signed.pub)
    assert r.returncode == 2 and "error:" in r.stderr and "missing.sig" in r.stderr
