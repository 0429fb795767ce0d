"""modelseal.open_model: verified bytes only, for in-process loaders."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import modelseal
from conftest import KEYS, Signed, private, sign, tensors, write_model


def _open(signed: Signed, **kw: object) -> modelseal.Model:
    return modelseal.open_model(signed.model, signature=signed.key_sig, public_key=signed.pub, **kw)


def test_load_read_open(signed: Signed) -> None:
    with _open(signed) as model:
        assert model.files == ["config.json", "model.safetensors", "sub/tokenizer.txt"]
        checks = {c.name: c.status for c in model.verification.checks}
        assert checks["signature"] == "pass" and checks["files"] == "pass"
        assert "digests" not in checks

        got = model.load_safetensors("model.safetensors")
        want = load_file(str(signed.model / "model.safetensors"))
        assert sorted(got) == sorted(want)
        for name, array in want.items():
            assert got[name].dtype == array.dtype and got[name].shape == array.shape
            assert np.array_equal(got[name], array)
        got["embed.weight"][0, 0] = 1.0  # writable, like safetensors' own arrays
        assert model.safetensors_metadata("model.safetensors") == {"format": "np"}

        config = signed.model / "config.json"
        assert model.read("config.json") == config.read_bytes()
        with model.open("sub/tokenizer.txt") as f:
            assert isinstance(f, io.BufferedIOBase)
            assert f.read(6) == b"a b c\n"
            f.seek(0)
            assert f.read() == (signed.model / "sub" / "tokenizer.txt").read_bytes()
            with pytest.raises(io.UnsupportedOperation):
                f.write(b"x")
        assert model.sealed_bytes == 0
    assert model.closed
    with pytest.raises(modelseal.InputError) as e:
        model.read("config.json")
    assert e.value.kind == "closed"


def test_path_is_a_sealed_directory(signed: Signed) -> None:
    with _open(signed) as model:
        root = Path(model.path)
        assert model.path == str(root)  # the same directory every time
        listed = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        assert listed == model.files
        for name in model.files:
            assert (root / name).read_bytes() == (signed.model / name).read_bytes()
        arrays = load_file(str(root / "model.safetensors"))
        assert np.array_equal(arrays["layer.0.index"], np.arange(100))
        total = sum((signed.model / n).stat().st_size for n in model.files)
        assert model.sealed_bytes == total
        # The copies are immune to the store: rewrite every file on disk.
        for name in model.files:
            (signed.model / name).write_bytes(b"tampered")
        assert (root / "config.json").read_bytes() != b"tampered"
        assert model.read("config.json") != b"tampered"
        assert len(model.load_safetensors("model.safetensors")) == len(tensors())
        with pytest.raises(OSError):
            with open(root / "config.json", "r+b") as f:
                f.write(b"x")
    assert not root.exists()


def test_tampered_after_open_never_reaches_the_caller(signed: Signed) -> None:
    with _open(signed) as model:
        st = signed.model / "model.safetensors"
        data = bytearray(st.read_bytes())
        data[-1] ^= 1  # same size, last tensor byte flipped
        st.write_bytes(bytes(data))
        with pytest.raises(modelseal.VerificationError) as e:
            model.load_safetensors("model.safetensors")
        assert e.value.check == "digests" and e.value.kind == "digest_mismatch"
        assert "model.safetensors" in e.value.reason
        with pytest.raises(modelseal.VerificationError):
            model.read("model.safetensors")
        with pytest.raises(modelseal.VerificationError):
            model.open("model.safetensors")
        with pytest.raises(modelseal.VerificationError):
            model.path  # noqa: B018 (sealing hashes every file)
        assert model.read("config.json") == (signed.model / "config.json").read_bytes()


def test_open_refuses_what_verify_refuses(signed: Signed) -> None:
    (signed.model / "extra.bin").write_bytes(b"x")
    with pytest.raises(modelseal.VerificationError) as e:
        _open(signed)
    assert e.value.check == "files" and "extra.bin" in e.value.reason
    os.unlink(signed.model / "extra.bin")
    (signed.model / "config.json").unlink()
    with pytest.raises(modelseal.VerificationError) as e:
        _open(signed)
    assert e.value.check == "files" and "config.json" in e.value.reason
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.open_model(
            signed.model,
            signature=signed.cert_sig,
            trust_root=signed.root,
            identity="email:release-b@modelseal.test",
        )
    assert e.value.check == "identity"
    with pytest.raises(modelseal.VerificationError):
        modelseal.open_model(
            signed.model, signature=signed.key_sig, public_key=KEYS / "p384.pub.pem"
        )


def test_size_change_after_open(signed: Signed) -> None:
    with _open(signed) as model:
        (signed.model / "config.json").write_text("{}")
        with pytest.raises(modelseal.VerificationError) as e:
            model.read("config.json")
        assert "config.json" in e.value.reason


def test_names_and_formats(signed: Signed) -> None:
    with _open(signed) as model:
        with pytest.raises(modelseal.VerificationError) as e:
            model.read("nope.bin")
        assert e.value.kind == "not_signed"
        with pytest.raises(modelseal.InputError):
            model.read("../etc/passwd")
        with pytest.raises(modelseal.InputError) as e:
            model.load_safetensors("config.json")
        assert e.value.kind == "malformed_safetensors"
        assert "config.json" in e.value.reason
        with pytest.raises(modelseal.InputError):
            model.load_safetensors("model.safetensors", framework="jax")


def test_single_file_model(tmp_path: Path) -> None:
    src = write_model(tmp_path / "m")
    single = tmp_path / "weights.safetensors"
    shutil.copyfile(src / "model.safetensors", single)
    sig = sign(single, tmp_path / "w.sig", private(tmp_path, KEYS / "p256.pkcs8.pem"))
    with modelseal.open_model(single, signature=sig, public_key=KEYS / "p256.pub.pem") as m:
        assert m.files == ["weights.safetensors"]
        got = m.load_safetensors("weights.safetensors")
        assert np.array_equal(got["layer.0.index"], np.arange(100))
        assert os.listdir(m.path) == ["weights.safetensors"]


def _rewriter(path: Path, variants: "list[bytes]", stop: threading.Event) -> None:
    """Rewrite `path` in place, chunk by chunk, alternating the variants;
    leave the last one in place."""
    i = 0
    with open(path, "r+b", buffering=0) as f:
        while not stop.is_set():
            data = variants[i % len(variants)]
            for off in range(0, len(data), 64 * 1024):
                f.seek(off)
                f.write(data[off : off + 64 * 1024])
            i += 1
            time.sleep(0.001)
        f.seek(0)
        f.write(variants[-1])


def test_concurrent_writer_never_yields_a_mix(tmp_path: Path) -> None:
    model = write_model(tmp_path / "model", seed=1, scale=256)  # ~2 MiB of tensors
    st = model / "model.safetensors"
    signed_bytes = st.read_bytes()
    from safetensors.numpy import save_file

    other = tmp_path / "other.safetensors"
    save_file(tensors(seed=2, scale=256), str(other), metadata={"format": "np"})
    other_bytes = other.read_bytes()
    assert len(other_bytes) == len(signed_bytes) and other_bytes != signed_bytes
    sig = sign(model, tmp_path / "m.sig", private(tmp_path, KEYS / "p256.pkcs8.pem"))
    want = tensors(seed=1, scale=256)

    stop = threading.Event()
    writer = threading.Thread(target=_rewriter, args=(st, [other_bytes, signed_bytes], stop))
    accepted = rejected = 0
    deadline = time.monotonic() + 3
    writer.start()
    try:
        while time.monotonic() < deadline:
            try:
                with modelseal.open_model(
                    model, signature=sig, public_key=KEYS / "p256.pub.pem"
                ) as m:
                    raw = m.read("model.safetensors")
                    assert raw == signed_bytes  # never the other file, never a mix
                    got = m.load_safetensors("model.safetensors")
                    for name, array in want.items():
                        assert np.array_equal(got[name], array)
                    sealed = Path(m.path) / "model.safetensors"
                    assert sealed.read_bytes() == signed_bytes
                    accepted += 1
            except modelseal.VerificationError as e:
                assert e.check == "digests", e
                assert e.kind in ("digest_mismatch", "model_rejected"), e
                rejected += 1
    finally:
        stop.set()
        writer.join()
    assert rejected > 0, "the writer never disturbed a read: the test proves nothing"
    assert st.read_bytes() == signed_bytes
    with modelseal.open_model(model, signature=sig, public_key=KEYS / "p256.pub.pem") as m:
        assert m.read("model.safetensors") == signed_bytes


def test_open_under_a_policy(tmp_path: Path) -> None:
    from conftest import PKI, policy_file

    model = write_model(tmp_path / "models" / "prod" / "bert")
    a = sign(model, tmp_path / "a.sig", private(tmp_path, PKI / "leaf.key"), PKI / "leaf.pem")
    b = sign(model, tmp_path / "b.sig", private(tmp_path, PKI / "leaf-b.key"), PKI / "leaf-b.pem")
    policy = policy_file(tmp_path, 2)
    want = (model / "model.safetensors").read_bytes()
    with modelseal.open_model(model, signature=[a, b], policy=policy) as m:
        assert m.verification.signer_kind == "policy" and m.verification.policy == "production"
        # Sealed while the policy decided: the store is not read again.
        assert m.sealed_bytes == sum((model / n).stat().st_size for n in m.files)
        (model / "model.safetensors").write_bytes(b"x" * len(want))
        assert m.read("model.safetensors") == want
        got = m.load_safetensors("model.safetensors")
        assert np.array_equal(got["layer.0.index"], np.arange(100))
        assert (Path(m.path) / "model.safetensors").read_bytes() == want
    (model / "model.safetensors").write_bytes(want)
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.open_model(model, signature=[a], policy=policy)
    assert e.value.check == "quorum" and e.value.kind == "policy_rejected"
    (model / "config.json").write_text("{}")
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.open_model(model, signature=[a, b], policy=policy)
    assert "config.json" in e.value.reason


def _sharded(tmp: Path, shards: int = 4) -> "tuple[Path, Path, dict]":
    """A model of `shards` safetensors files (distinct tensor names), signed."""
    model = tmp / "sharded"
    model.mkdir()
    want = {}
    for i in range(shards):
        part = {f"{k}.{i}": v for k, v in tensors(seed=i, scale=8).items()}
        save_file(part, str(model / f"model-{i:05d}-of-{shards:05d}.safetensors"))
        want.update(part)
    (model / "config.json").write_text("{}")
    sig = sign(model, tmp / "sharded.sig", private(tmp, KEYS / "p256.pkcs8.pem"))
    return model, sig, want


def test_load_every_safetensors_file_at_once(tmp_path: Path) -> None:
    model, sig, want = _sharded(tmp_path)
    files = sorted(f.name for f in model.glob("*.safetensors"))
    for threads in (None, 1, 3):
        with modelseal.open_model(
            model, signature=sig, public_key=KEYS / "p256.pub.pem", threads=threads
        ) as m:
            for got in (m.load_safetensors(), m.load_safetensors(files)):
                assert sorted(got) == sorted(want)
                for name, array in want.items():
                    assert got[name].dtype == array.dtype and np.array_equal(got[name], array)
            # Through the sealed copies too.
            m.path
            assert sorted(m.load_safetensors()) == sorted(want)


def test_load_at_once_refuses_the_whole_set_for_one_bad_file(tmp_path: Path) -> None:
    model, sig, _want = _sharded(tmp_path)
    victim = model / "model-00002-of-00004.safetensors"
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1  # the last byte of the last tensor
    victim.write_bytes(bytes(data))
    with modelseal.open_model(model, signature=sig, public_key=KEYS / "p256.pub.pem") as m:
        with pytest.raises(modelseal.VerificationError) as e:
            m.load_safetensors()
        assert e.value.check == "digests"
        assert victim.name in e.value.reason
        # The good files still load one by one.
        assert m.load_safetensors("model-00000-of-00004.safetensors")


def test_load_at_once_input_errors(tmp_path: Path, signed: Signed) -> None:
    model, sig, _want = _sharded(tmp_path, shards=2)
    dup = model / "model-00001-of-00002.safetensors"
    save_file({"embed.weight.0": np.zeros(3, dtype=np.float32)}, str(dup))
    sig = sign(model, tmp_path / "dup.sig", private(tmp_path, KEYS / "p256.pkcs8.pem"))
    with modelseal.open_model(model, signature=sig, public_key=KEYS / "p256.pub.pem") as m:
        with pytest.raises(modelseal.InputError) as e:
            m.load_safetensors()
        assert e.value.kind == "duplicate_tensor" and "embed.weight.0" in e.value.reason
        with pytest.raises(modelseal.InputError) as e:
            m.load_safetensors(["model-00000-of-00002.safetensors", 3])  # type: ignore[list-item]
        assert e.value.kind == "usage"
        with pytest.raises(modelseal.VerificationError) as e:
            m.load_safetensors(["model-00000-of-00002.safetensors", "absent.safetensors"])
        assert e.value.check == "files"
    only_json = tmp_path / "json"
    only_json.mkdir()
    (only_json / "config.json").write_text("{}")
    sig = sign(only_json, tmp_path / "json.sig", private(tmp_path, KEYS / "p256.pkcs8.pem"))
    with modelseal.open_model(only_json, signature=sig, public_key=KEYS / "p256.pub.pem") as m:
        with pytest.raises(modelseal.InputError) as e:
            m.load_safetensors()
        assert e.value.kind == "usage" and "no .safetensors" in e.value.reason


def test_each_tensor_owns_its_memory(signed: Signed) -> None:
    # Each array views its own buffer (the one its bytes were read and
    # hashed into): writing one tensor leaves the others, and a second
    # load, untouched.
    with _open(signed) as model:
        got = model.load_safetensors("model.safetensors")
        again = model.load_safetensors("model.safetensors")
    bases = [a.base for a in got.values()]
    assert all(b is not None for b in bases)
    assert len({id(b) for b in bases}) == len(bases)
    name, other = "embed.weight", "layer.0.bias"
    before = got[other].copy()
    got[name].fill(7)
    assert np.array_equal(got[other], before)
    assert not np.array_equal(again[name], got[name])


def test_load_without_numpy_is_an_input_error(signed: Signed) -> None:
    # numpy hides behind an import that fails: a clear InputError, never a
    # crash of the interpreter.
    import sys

    saved = sys.modules.get("numpy")
    sys.modules["numpy"] = None  # type: ignore[assignment]
    try:
        with _open(signed) as model:
            with pytest.raises(modelseal.InputError) as e:
                model.load_safetensors("model.safetensors")
            assert e.value.kind == "missing_dependency" and "numpy" in e.value.reason
            # The native module itself refuses before reading, not with a panic.
            with pytest.raises(ImportError):
                model._native.load_safetensors(["model.safetensors"])
            assert model.read("config.json") == (signed.model / "config.json").read_bytes()
    finally:
        sys.modules["numpy"] = saved  # type: ignore[assignment]
