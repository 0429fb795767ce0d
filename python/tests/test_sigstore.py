"""Sigstore keyless: modelseal.verify / open_model with oidc_issuer, identity
and trusted_root, on real public-good bundles (.ci/deps/sigstore-assets.sh:
pypi-attestations' test assets, sigstore-python's trusted roots). Verified
offline: the bundles carry their log entries and proofs."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import modelseal
from conftest import REPO

ARTIFACT = "pypi_attestation_models-0.0.4a2.tar.gz"
IDENTITY = (
    "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/"
    "release.yml@refs/tags/v0.0.4a2"
)
ISSUER = "https://token.actions.githubusercontent.com"


def _assets() -> Path:
    root = Path(os.environ.get("MODELSEAL_SIGSTORE_ASSETS") or REPO / ".sigstore-assets")
    if not (root / ".complete").exists():
        pytest.fail(
            f"the Sigstore test assets are missing in {root}: run .ci/deps/sigstore-assets.sh"
        )
    return root


@pytest.fixture
def keyless(tmp_path: Path) -> "tuple[Path, Path]":
    """The artifact (a one-file model) and its public-good bundle, copied."""
    src = _assets() / "pypi-attestations"
    model = tmp_path / ARTIFACT
    shutil.copyfile(src / ARTIFACT, model)
    sig = tmp_path / "artifact.sigstore.json"
    shutil.copyfile(src / (ARTIFACT + ".sigstore"), sig)
    return model, sig


def test_keyless_verifies_against_the_public_good_root(keyless: "tuple[Path, Path]") -> None:
    model, sig = keyless
    production = _assets() / "roots" / "production.json"
    for kw in (
        {"identity": IDENTITY, "oidc_issuer": ISSUER},
        {"identity": IDENTITY, "oidc_issuer": ISSUER, "trusted_root": production},
        {
            "identity": re.compile(r"https://github\.com/trailofbits/.*@refs/tags/v.*"),
            "oidc_issuer": re.compile(r"https://token\.actions\.githubusercontent\.com"),
        },
    ):
        v = modelseal.verify(model, signature=sig, **kw)  # type: ignore[arg-type]
        assert v.signer_kind == "keyless"
        assert IDENTITY in v.signer and ISSUER in v.signer
        checks = {c.name: c.status for c in v.checks}
        assert checks["tlog"] == "pass" and checks["identity"] == "pass"
        assert checks["digests"] == "pass"

    with modelseal.open_model(model, signature=sig, identity=IDENTITY, oidc_issuer=ISSUER) as m:
        assert m.verification.signer_kind == "keyless"
        assert m.read(ARTIFACT) == model.read_bytes()


def test_keyless_refusals(keyless: "tuple[Path, Path]", tmp_path: Path) -> None:
    model, sig = keyless
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(model, signature=sig, identity=IDENTITY, oidc_issuer="https://gitlab.com")
    assert e.value.check == "identity" and e.value.kind == "identity_mismatch"
    with pytest.raises(modelseal.VerificationError) as e:
        modelseal.verify(
            model, signature=sig, identity=IDENTITY + "x", oidc_issuer=ISSUER
        )
    assert e.value.check == "identity"
    # The staging root does not know the production log or CA.
    with pytest.raises(modelseal.VerificationError):
        modelseal.verify(
            model,
            signature=sig,
            identity=IDENTITY,
            oidc_issuer=ISSUER,
            trusted_root=_assets() / "roots" / "staging.json",
        )
    # Another file: not what the bundle signs.
    other = tmp_path / "other.tar.gz"
    other.write_bytes(model.read_bytes() + b"x")
    with pytest.raises(modelseal.VerificationError):
        modelseal.verify(other, signature=sig, identity=IDENTITY, oidc_issuer=ISSUER)


def test_keyless_input_errors(keyless: "tuple[Path, Path]", tmp_path: Path) -> None:
    model, sig = keyless
    cases = [
        ({"oidc_issuer": ISSUER}, "needs both"),
        ({"identity": re.compile("x")}, "needs both"),
        ({"oidc_issuer": ISSUER, "identity": "*"}, "not \"*\""),
        ({"oidc_issuer": ISSUER, "identity": [IDENTITY, "y"]}, "one identity"),
        ({"oidc_issuer": ISSUER, "identity": IDENTITY, "public_key": sig}, "takes the place"),
        # Python accepts look-ahead; the verifier's regular expressions do not.
        ({"oidc_issuer": re.compile("(?=x)x"), "identity": IDENTITY}, "pattern"),
        ({"oidc_issuer": 3, "identity": IDENTITY}, "re.Pattern"),
    ]
    for kw, message in cases:
        with pytest.raises(modelseal.InputError, match=re.escape(message)) as e:
            modelseal.verify(model, signature=sig, **kw)  # type: ignore[arg-type]
        assert e.value.kind == "usage", kw
    bad = tmp_path / "trusted_root.json"
    bad.write_text("{}")
    with pytest.raises(modelseal.InputError) as e:
        modelseal.verify(
            model, signature=sig, identity=IDENTITY, oidc_issuer=ISSUER, trusted_root=bad
        )
    assert e.value.kind == "invalid_trusted_root"
