"""The GIL is released while hashing; calls from several threads work."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import modelseal
from conftest import KEYS, Signed, private, sign, write_model


def test_verify_from_many_threads(signed: Signed) -> None:
    def one(i: int) -> str:
        if i % 3 == 0:
            v = modelseal.verify(
                signed.model, signature=signed.cert_sig, trust_root=signed.root, identity="*"
            )
        else:
            v = modelseal.verify(signed.model, signature=signed.key_sig, public_key=signed.pub)
        return v.subject_digest

    with ThreadPoolExecutor(max_workers=6) as pool:
        digests = set(pool.map(one, range(24)))
    assert len(digests) == 1


def test_one_model_read_from_many_threads(signed: Signed) -> None:
    want = (signed.model / "model.safetensors").read_bytes()
    with modelseal.open_model(
        signed.model, signature=signed.key_sig, public_key=signed.pub
    ) as model:

        def one(i: int) -> bool:
            if i % 2:
                return model.read("model.safetensors") == want
            got = model.load_safetensors("model.safetensors")
            return bool(np.array_equal(got["layer.0.index"], np.arange(100)))

        with ThreadPoolExecutor(max_workers=4) as pool:
            assert all(pool.map(one, range(16)))


def test_gil_is_released_while_hashing(tmp_path: Path) -> None:
    model = tmp_path / "big"
    model.mkdir()
    (model / "weights.bin").write_bytes(np.random.default_rng(0).bytes(96 << 20))
    sig = sign(model, tmp_path / "big.sig", private(tmp_path, KEYS / "p256.pkcs8.pem"))
    done = threading.Event()
    errors = []

    def work() -> None:
        try:
            modelseal.verify(model, signature=sig, public_key=KEYS / "p256.pub.pem", threads=1)
            with modelseal.open_model(
                model, signature=sig, public_key=KEYS / "p256.pub.pem"
            ) as m:
                m.read("weights.bin")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            done.set()

    t = threading.Thread(target=work)
    spins = 0
    t.start()
    # This thread runs Python code while the other one hashes 192 MiB: with
    # the GIL held throughout, it could not count at all until the end.
    while not done.is_set():
        spins += 1
    t.join()
    assert not errors, errors
    assert spins > 100_000, f"only {spins} iterations ran while hashing: GIL held?"


def test_errors_cross_threads(signed: Signed) -> None:
    (signed.model / "config.json").write_text("{}")

    def one(_: int) -> str:
        try:
            modelseal.verify(signed.model, signature=signed.key_sig, public_key=signed.pub)
        except modelseal.VerificationError as e:
            return e.check or ""
        return "accepted"

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(one, range(8))) == {"digests"}
    with pytest.raises(modelseal.VerificationError):
        one_more = modelseal.verify
        one_more(signed.model, signature=signed.key_sig, public_key=signed.pub)
