"""The exceptions modelseal raises (re-exported by :mod:`modelseal`)."""

from __future__ import annotations

from typing import Any, List, Optional


class ModelsealError(Exception):
    """Base class: verification did not succeed.

    Attributes:
        reason: one line, as the ``modelseal`` CLI prints it.
        kind: a stable identifier for programs (``digest_mismatch``,
            ``invalid_signature``, ``untrusted_certificate``, ...), the same
            as the CLI's ``--json`` ``error.kind``.
        check: the check that failed (``bundle``, ``trust``, ``signature``,
            ``statement``, ``identity``, ``files``, ``digests``; under a
            policy also ``chain``, ``algorithm``, ``expiry``,
            ``revocation``, ``quorum``, ``policy``), or ``None``.
        checks: every check that ran, as :class:`modelseal.Check` objects.
    """

    def __init__(
        self,
        reason: str,
        kind: str = "error",
        check: Optional[str] = None,
        checks: Optional[List[Any]] = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.check = check
        self.checks = list(checks or [])

    def __str__(self) -> str:
        if self.check:
            return f"{self.check}: {self.reason}"
        return self.reason


class VerificationError(ModelsealError):
    """The model was checked and refused (the CLI's exit code 1): a bad
    signature, an untrusted signer, a wrong identity, a missing, extra or
    changed file, a policy not met."""


class InputError(ModelsealError):
    """No decision could be made (the CLI's exit code 2): unreadable or
    malformed input (bundle, key, roots, policy, model), or options that do
    not fit together."""
