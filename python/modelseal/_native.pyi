"""Type hints for the native module; use :mod:`modelseal` itself."""

import os
from typing import Any, Dict, List, Optional, Tuple

__version__: str

class Check:
    """One check of a verification and how it went."""

    @property
    def name(self) -> str:
        """``bundle``, ``trust``, ``signature``, ``statement``, ``identity``,
        ``files``, ``digests``; under a policy also ``chain``, ``algorithm``,
        ``expiry``, ``revocation``, ``quorum``."""
    @property
    def status(self) -> str:
        """``pass``, ``fail``, ``skipped`` or ``not run``."""
    @property
    def detail(self) -> str:
        """What held, or why not."""
    @property
    def signature(self) -> Optional[int]:
        """Under a policy: the index of the signature it is about."""

class Verification:
    """A model that verified: who signed it, with what, and every file."""

    @property
    def path(self) -> str: ...
    @property
    def signer_kind(self) -> str:
        """``certificate``, ``key`` or ``policy``."""
    @property
    def signer(self) -> str:
        """The certificate subject and SANs, the key's SHA-256, or the
        signers a policy accepted."""
    @property
    def identity(self) -> Optional[str]:
        """The required identity the signer matched."""
    @property
    def algorithm(self) -> Optional[str]:
        """The signature algorithm, e.g. ``ecdsa-p256-sha256``."""
    @property
    def policy(self) -> Optional[str]:
        """The policy that accepted the model."""
    @property
    def subject_digest(self) -> Optional[str]:
        """The signed manifest's subject digest, ``sha256:<hex>``."""
    @property
    def files(self) -> Dict[str, str]:
        """Every signed resource and its digest (``sha256:<hex>``)."""
    @property
    def bytes(self) -> Optional[int]:
        """Bytes hashed (``None`` under a policy and for ``open_model``)."""
    @property
    def checks(self) -> List[Check]:
        """Every check, in order."""

class Model:
    @property
    def verification(self) -> Verification: ...
    @property
    def files(self) -> List[str]: ...
    def read(self, name: str) -> bytes: ...
    def load_safetensors(
        self, names: List[str]
    ) -> List[Tuple[Optional[Dict[str, str]], List[Tuple[str, str, List[int], Any]]]]: ...
    @property
    def path(self) -> str: ...
    @property
    def sealed_bytes(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...

def verify(request: Dict[str, Any]) -> Verification: ...
def open_model(request: Dict[str, Any], tmpdir: Optional[str]) -> Model: ...
