"""Signed test models for the modelseal Python package tests.

The models are signed with the ``modelseal`` CLI of this repository
(``MODELSEAL_BIN``, set by .ci/suites/python.sh) and the test keys and PKI in
``fixtures/``. Missing tools fail the tests; nothing is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pytest
from safetensors.numpy import save_file

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
PKI = FIXTURES / "pki" / "p256"
KEYS = FIXTURES / "keys"


def _bin() -> str:
    path = os.environ.get("MODELSEAL_BIN") or str(REPO / "target" / "debug" / "modelseal")
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"the modelseal CLI is needed to sign test models: {path} is missing "
            "(build it with `cargo build -p modelseal` or set MODELSEAL_BIN)"
        )
    return path


def private(tmp: Path, src: Path) -> Path:
    """A copy of a test key that the signer accepts (mode 0600)."""
    dst = tmp / (src.parent.name + "-" + src.name)
    shutil.copyfile(src, dst)
    dst.chmod(0o600)
    return dst


def sign(model: Path, sig: Path, key: Path, cert: Optional[Path] = None) -> Path:
    args = [_bin(), "sign", str(model), "--key", str(key), "-s", str(sig), "-q"]
    if cert is not None:
        args += ["--cert", str(cert), "--chain", str(PKI / "chain.pem")]
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, f"sign failed: {r.stderr}"
    return sig


def tensors(seed: int = 0, scale: int = 1) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "embed.weight": rng.standard_normal((64 * scale, 32), dtype=np.float32),
        "layer.0.bias": rng.standard_normal(32).astype(np.float16),
        "layer.0.index": np.arange(100, dtype=np.int64),
        "mask": np.array([True, False, True]),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }


def write_model(root: Path, seed: int = 0, scale: int = 1) -> Path:
    root.mkdir(parents=True)
    save_file(tensors(seed, scale), str(root / "model.safetensors"), metadata={"format": "np"})
    (root / "config.json").write_text(json.dumps({"model_type": "test", "hidden": 32}))
    (root / "sub").mkdir()
    (root / "sub" / "tokenizer.txt").write_bytes(b"a b c\n" * 100)
    return root


class Signed:
    """A model directory and its bundles."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.model = write_model(tmp / "model")
        self.key = private(tmp, KEYS / "p256.pkcs8.pem")
        self.pub = KEYS / "p256.pub.pem"
        self.key_sig = sign(self.model, tmp / "key.sig", self.key)
        self.leaf_key = private(tmp, PKI / "leaf.key")
        self.cert_sig = sign(self.model, tmp / "cert.sig", self.leaf_key, PKI / "leaf.pem")
        self.root = PKI / "root.pem"


@pytest.fixture
def signed(tmp_path: Path) -> Signed:
    return Signed(tmp_path)


def policy_file(tmp: Path, required: int) -> Path:
    """A policy whose `models/prod/**` scope needs `required` release signers."""
    doc = {
        "version": "1",
        "trustStores": {"release": {"certificates": [str(PKI / "root.pem")]}},
        "policies": [
            {
                "name": "production",
                "scopes": ["models/prod/**"],
                "level": "strict",
                "trustStores": ["release"],
                "trustedIdentities": [
                    "email:release-a@modelseal.test",
                    "email:release-b@modelseal.test",
                ],
                "requiredSignatures": required,
                "revocation": {
                    "crls": [str(FIXTURES / "pki" / "bad" / "revoked.crl.pem")],
                    "crlCoverage": "leaf",
                },
            }
        ],
    }
    path = tmp / f"policy-{required}.json"
    path.write_text(json.dumps(doc))
    return path


def names(checks: List[object]) -> List[str]:
    return [c.name for c in checks]  # type: ignore[attr-defined]
