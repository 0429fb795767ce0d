"""modelseal.verify: verdicts, checks, exceptions and messages."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest

import modelseal
from conftest import KEYS, PKI, Signed, names, policy_file, private, sign, write_model

ALL_CHECKS = ["bundle", "trust", "signature", "statement", "identity", "files", "digests"]


def test_key_mode_verifies(signed: Signed) -> None:
    v = modelseal.verify(signed.model, signature=signed.key_sig, public_key=signed.pub)
    assert isinstance(v, modelseal.Verification)
    assert v.signer_kind == "key"
    assert v.signer.startswith("public key sha256:")
    assert v.algorithm == "ecdsa-p256-sha256"
    assert v.identity is None and v.policy is None
    assert names(v.checks) == ALL_CHECKS
    assert {c.name: c.status for c in v.checks}["identity"] == "skipped"
    assert all(c.status == "pass" for c in v.checks if c.name != "identity")
    data = (signed.model / "model.safetensors").read_bytes()
    assert v.files["model.safetensors"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert sorted(v.files) == ["config.json", "model.safetensors", "sub/tokenizer.txt"]
    total = sum(p.stat().st_size for p in signed.model.rglob("*") if p.is_file())
    assert v.bytes == total
    assert v.subject_digest.startswith("sha256:")


def test_certificate_mode_with_identity(signed: Signed) -> None:
    v = modelseal.verify(
        signed.model,
        signature=signed.cert_sig,
        trust_root=signed.root,
        identity=["email:nobody@example.com", "email:release-a@modelseal.test"],
    )
    assert v.signer_kind == "certificate"
    assert "release-a@modelseal.test" in v.signer
    assert v.identity == "email:release-a@modelseal.test"


def test_wrong_identity_is_refused(signed: Signed) -> None:
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(
            signed.model,
            signature=signed.cert_sig,
            trust_root=signed.root,
            identity="email:release-b@modelseal.test",
        )
    assert e.value.check == "identity"
    assert e.value.kind == "identity_mismatch"
    assert "release-a@modelseal.test" in e.value.reason
    assert "release-b@modelseal.test" in e.value.reason
    assert str(e.value).startswith("identity: ")
    assert isinstance(e.value, modelseal.ModelsealError)


def test_wrong_key_is_refused(signed: Signed) -> None:
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(signed.model, signature=signed.key_sig, public_key=KEYS / "p384.pub.pem")
    assert e.value.check in ("trust", "signature")
    assert e.value.kind in ("wrong_key", "invalid_signature", "signature_algorithm")
    assert e.value.reason


def test_wrong_root_is_refused(signed: Signed) -> None:
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(
            signed.model,
            signature=signed.cert_sig,
            trust_root=PKI.parent / "p384" / "root.pem",
            identity="*",
        )
    assert e.value.check == "trust"
    assert e.value.kind == "untrusted_certificate"


def test_tampered_file_is_refused(signed: Signed) -> None:
    p = signed.model / "config.json"
    p.write_bytes(p.read_bytes().replace(b"32", b"33"))
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(signed.model, signature=signed.key_sig, public_key=signed.pub)
    assert e.value.check == "digests"
    assert e.value.kind == "digest_mismatch"
    assert "config.json" in e.value.reason
    assert {c.name: c.status for c in e.value.checks}["digests"] == "fail"


def test_extra_file_is_refused(signed: Signed) -> None:
    (signed.model / "sub" / "evil.py").write_text("import os\n")
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(signed.model, signature=signed.key_sig, public_key=signed.pub)
    assert e.value.check == "files"
    assert "extra" in e.value.reason and "sub/evil.py" in e.value.reason


def test_missing_file_is_refused(signed: Signed) -> None:
    (signed.model / "sub" / "tokenizer.txt").unlink()
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(signed.model, signature=signed.key_sig, public_key=signed.pub)
    assert e.value.check == "files"
    assert "missing" in e.value.reason and "sub/tokenizer.txt" in e.value.reason


def test_input_errors(signed: Signed, tmp_path: Path) -> None:
    with pytest.raises(modelseal.InputError) as e:
        modelseal.verify(signed.model, signature=tmp_path / "nope.sig", public_key=signed.pub)
    assert e.value.kind == "unreadable_input" and "nope.sig" in e.value.reason
    assert not isinstance(e.value, modelseal.VerificationError)

    bad = tmp_path / "bad.sig"
    bad.write_text("{not json")
    with pytest.raises(modelseal.InputError) as e:
        modelseal.verify(signed.model, signature=bad, public_key=signed.pub)
    assert e.value.kind == "malformed_bundle" and e.value.check == "bundle"

    with pytest.raises(modelseal.InputError) as e:
        modelseal.verify(
            signed.model, signature=signed.key_sig, public_key=signed.pub, trust_root=signed.root
        )
    assert e.value.kind == "usage"
    with pytest.raises(modelseal.InputError, match="trust_root"):
        modelseal.verify(signed.model, signature=signed.key_sig)
    # A root certifies many signers: who must have signed is never implicit.
    with pytest.raises(modelseal.InputError, match="needs identity") as e:
        modelseal.verify(signed.model, signature=signed.cert_sig, trust_root=signed.root)
    assert e.value.kind == "usage"
    with pytest.raises(modelseal.InputError, match="cannot be combined") as e:
        modelseal.verify(
            signed.model,
            signature=signed.cert_sig,
            trust_root=signed.root,
            identity=["*", "email:release-a@modelseal.test"],
        )
    with pytest.raises(modelseal.InputError, match="RFC 3339"):
        modelseal.verify(signed.model, signature=signed.key_sig, public_key=signed.pub, at="soon")
    with pytest.raises(modelseal.InputError, match="timezone"):
        modelseal.verify(
            signed.model, signature=signed.key_sig, public_key=signed.pub, at=dt.datetime(2026, 1, 1)
        )
    with pytest.raises(modelseal.InputError) as e:
        modelseal.verify(tmp_path / "no-model", signature=signed.key_sig, public_key=signed.pub)
    assert e.value.kind == "unreadable_model"


def test_certificate_time(signed: Signed) -> None:
    late = dt.datetime(2200, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(
            signed.model, signature=signed.cert_sig, trust_root=signed.root, identity="*", at=late
        )
    assert e.value.check == "trust" and "expired" in e.value.reason


def _prod_model(tmp: Path) -> Path:
    return write_model(tmp / "models" / "prod" / "bert")


def test_policy_quorum(tmp_path: Path) -> None:
    model = _prod_model(tmp_path)
    a = sign(model, tmp_path / "a.sig", private(tmp_path, PKI / "leaf.key"), PKI / "leaf.pem")
    b = sign(model, tmp_path / "b.sig", private(tmp_path, PKI / "leaf-b.key"), PKI / "leaf-b.pem")
    policy = policy_file(tmp_path, 2)

    v = modelseal.verify(model, signature=[a, b], policy=policy)
    assert v.signer_kind == "policy" and v.policy == "production"
    assert "2 of 2" in v.signer
    assert "release-a@modelseal.test" in v.signer and "release-b@modelseal.test" in v.signer
    assert "model.safetensors" in v.files
    assert "quorum" in names(v.checks)

    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(model, signature=[a], policy=policy)
    assert e.value.check == "quorum"
    assert e.value.kind == "policy_rejected"
    assert "1 of 2" in e.value.reason or "2" in e.value.reason

    # The same signer twice is one signer.
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(model, signature=[a, a], policy=policy)
    assert e.value.check == "quorum"

    # Quorum met, but a file changed: the files check fails.
    p = model / "config.json"
    p.write_text(p.read_text() + " ")
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(model, signature=[a, b], policy=policy)
    assert e.value.kind == "policy_rejected"
    assert "config.json" in e.value.reason

    with pytest.raises(modelseal.InputError):
        modelseal.verify(model, signature=[a, b], policy=policy, public_key=KEYS / "p256.pub.pem")


def test_policy_outside_every_scope(tmp_path: Path) -> None:
    model = write_model(tmp_path / "elsewhere")
    a = sign(model, tmp_path / "a.sig", private(tmp_path, PKI / "leaf.key"), PKI / "leaf.pem")
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(model, signature=a, policy=policy_file(tmp_path, 1))
    assert e.value.check == "policy"
    assert e.value.kind == "no_policy"


def test_several_signatures_need_a_policy(signed: Signed) -> None:
    with pytest.raises(modelseal.InputError, match="policy"):
        modelseal.verify(
            signed.model, signature=[signed.key_sig, signed.key_sig], public_key=signed.pub
        )


def test_single_file_model(tmp_path: Path) -> None:
    src = write_model(tmp_path / "m")
    single = tmp_path / "weights.safetensors"
    shutil.copyfile(src / "model.safetensors", single)
    sig = sign(single, tmp_path / "w.sig", private(tmp_path, KEYS / "p256.pkcs8.pem"))
    v = modelseal.verify(single, signature=sig, public_key=KEYS / "p256.pub.pem")
    assert v.bytes == single.stat().st_size


def test_a_fifo_in_place_of_a_key_does_not_hang(signed: Signed, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "key.pem"
    os.mkfifo(fifo)
    with pytest.raises(modelseal.InputError) as e:
        modelseal.verify(signed.model, signature=signed.key_sig, public_key=fifo)
    assert e.value.kind == "unreadable_input" and "not a regular file" in e.value.reason
