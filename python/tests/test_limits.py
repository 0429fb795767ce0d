"""`model_name=` (the signed model name) and `max_sealed_bytes=` (what a
Model may hold in memory), as `modelseal verify/gate --model-name` and
`gate --max-sealed-bytes`."""

from __future__ import annotations

import os
import resource
import shutil
from pathlib import Path

import pytest

import modelseal
from conftest import KEYS, Signed, policy_file, private, sign, write_model

GIB = 1 << 30


def test_model_name_is_checked(signed: Signed) -> None:
    # The CLI signed the directory "model" under its name.
    trust = {"signature": signed.key_sig, "public_key": signed.pub}
    assert modelseal.verify(signed.model, model_name="model", **trust).files
    assert modelseal.verify(signed.model, model_name=["other", "model"], **trust).files
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(signed.model, model_name="other", **trust)
    assert e.value.kind == "model_name_mismatch"
    assert "other" in e.value.reason and "model" in e.value.reason
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.open_model(signed.model, model_name=["a", "b"], **trust)
    assert e.value.kind == "model_name_mismatch"
    with modelseal.open_model(signed.model, model_name="model", **trust) as model:
        assert model.read("config.json")


def test_model_name_usage(signed: Signed, tmp_path: Path) -> None:
    with pytest.raises(modelseal.InputError) as e:
        modelseal.verify(
            signed.model,
            signature=signed.cert_sig,
            policy=policy_file(tmp_path, 1),
            model_name="model",
        )
    assert e.value.kind == "usage" and "modelNames" in e.value.reason
    with pytest.raises(modelseal.InputError) as e:
        modelseal.verify(
            signed.model, signature=signed.key_sig, public_key=signed.pub, model_name=[1]
        )
    assert e.value.kind == "usage"


def test_max_sealed_bytes(signed: Signed) -> None:
    size = (signed.model / "model.safetensors").stat().st_size
    trust = {"signature": signed.key_sig, "public_key": signed.pub}
    with modelseal.open_model(signed.model, max_sealed_bytes=size - 1, **trust) as model:
        assert model.read("config.json")
        for attempt in (
            lambda: model.read("model.safetensors"),
            lambda: model.load_safetensors("model.safetensors"),
            lambda: model.path,
        ):
            with pytest.raises(modelseal.InputError) as e:
                attempt()
            assert e.value.kind == "too_large", e.value
            assert "nothing was read" in e.value.reason
        assert model.sealed_bytes == 0
    # The whole model fits: sealed, then served from the copies.
    total = sum(p.stat().st_size for p in signed.model.rglob("*") if p.is_file())
    with modelseal.open_model(signed.model, max_sealed_bytes=total, **trust) as model:
        assert os.path.isdir(model.path)
        assert model.sealed_bytes == total
    with pytest.raises(modelseal.InputError) as e:
        modelseal.open_model(signed.model, max_sealed_bytes=-1, **trust)
    assert e.value.kind == "usage"


def _available() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemAvailable in /proc/meminfo")


def test_sparse_file_is_refused_before_allocating(signed: Signed) -> None:
    # In files mode no signed size bounds a file: a sparse file in place of
    # a signed one (no disk used) is listed at its apparent size. Larger
    # than the memory available (the default limit), it is refused before
    # its buffer is allocated or a byte read.
    sparse = max(64 * GIB, 2 * _available())
    target = signed.model / "model.safetensors"
    target.unlink()
    target.touch()
    os.truncate(target, sparse)
    assert target.stat().st_blocks * 512 < GIB
    trust = {"signature": signed.key_sig, "public_key": signed.pub}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with modelseal.open_model(signed.model, **trust) as model:
        for attempt in (
            lambda: model.read("model.safetensors"),
            lambda: model.open("model.safetensors"),
            lambda: model.load_safetensors("model.safetensors"),
            lambda: model.load_safetensors(),
            lambda: model.path,
        ):
            with pytest.raises(modelseal.InputError) as e:
                attempt()
            assert e.value.kind == "too_large", e.value
            assert e.value.check == "digests"
            assert str(sparse) in e.value.reason or "add up to" in e.value.reason
            assert "nothing was read" in e.value.reason
        assert model.sealed_bytes == 0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert after - before < 256 << 20, f"peak RSS grew by {after - before} bytes"
    # Under the limit it is read, and refused at its digest (the signed
    # size never bounded it; the signed digest does).
    os.truncate(target, 1 << 20)
    with modelseal.open_model(signed.model, **trust) as model:
        with pytest.raises(modelseal.VerificationError) as e:
            model.read("model.safetensors")
        assert e.value.check == "digests"


def test_single_file_model_is_bounded_too(tmp_path: Path) -> None:
    src = write_model(tmp_path / "m")
    single = tmp_path / "weights.safetensors"
    shutil.copyfile(src / "model.safetensors", single)
    sig = sign(single, tmp_path / "w.sig", private(tmp_path, KEYS / "p256.pkcs8.pem"))
    size = single.stat().st_size
    for limit, ok in ((size, True), (size - 1, False)):
        with modelseal.open_model(
            single, signature=sig, public_key=KEYS / "p256.pub.pem", max_sealed_bytes=limit
        ) as m:
            for name in ("weights.safetensors", "."):
                if ok:
                    assert len(m.read(name)) == size
                else:
                    with pytest.raises(modelseal.InputError) as e:
                        m.read(name)
                    assert e.value.kind == "too_large", e.value
