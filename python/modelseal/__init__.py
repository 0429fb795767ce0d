"""Verify a signed ML model and load it in-process from verified bytes only.

modelseal checks OpenSSF Model Signing bundles (``model.sig``, as the
``modelseal`` CLI and ``model_signing`` write them) with the same Rust
verifier as the ``modelseal`` command line tool::

    import modelseal

    v = modelseal.verify("my-model", signature="model.sig",
                         trust_root="root.pem", identity="email:release@example.com")

    with modelseal.open_model("my-model", signature="model.sig",
                              public_key="release.pub.pem") as model:
        tensors = model.load_safetensors("model.safetensors")   # numpy arrays
        config = model.read("config.json")                       # bytes

Every byte ``open_model`` hands out went through the hash that matched its
signed digest; a file changed on disk after the check never reaches the
caller. See docs/python.md.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import _native
from ._errors import InputError, ModelsealError, VerificationError
from ._native import Check, Verification

__all__ = [
    "Check",
    "InputError",
    "Model",
    "ModelsealError",
    "Verification",
    "VerificationError",
    "open_model",
    "verify",
]

__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]
Paths = Union[PathLike, Sequence[PathLike]]


def _paths(value: Optional[Paths], what: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        value = [value]
    out = []
    for v in value:
        try:
            out.append(os.fsdecode(os.fspath(v)))
        except TypeError as e:
            raise InputError(f"{what}: {e}", "usage") from None
    return out


def _one_path(value: Optional[PathLike], what: str) -> Optional[str]:
    paths = _paths(value, what)
    if len(paths) > 1:
        raise InputError(f"{what}: one path expected", "usage")
    return paths[0] if paths else None


def _strings(value: Union[None, str, Iterable[str]], what: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    out = list(value)
    if not all(isinstance(s, str) for s in out):
        raise InputError(f"{what}: strings expected", "usage")
    return out


def _time(at: Union[None, str, _dt.datetime]) -> Optional[str]:
    if at is None or isinstance(at, str):
        return at
    if isinstance(at, _dt.datetime):
        if at.tzinfo is None:
            raise InputError("at: a timezone-aware datetime is required", "usage")
        return at.astimezone(_dt.timezone.utc).isoformat()
    raise InputError("at: a datetime or an RFC 3339 string is expected", "usage")


def _threads(threads: Optional[int]) -> Optional[int]:
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise InputError("threads: a positive integer is expected", "usage")
    return threads


def _max_bytes(value: Optional[int]) -> Optional[int]:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64
    ):
        raise InputError("max_sealed_bytes: a non-negative integer is expected", "usage")
    return value


Match = Union[str, "re.Pattern[str]"]


def _exact_or_pattern(value: Any, what: str) -> "tuple[Optional[str], Optional[str]]":
    if value is None:
        return None, None
    if isinstance(value, re.Pattern):
        if not isinstance(value.pattern, str):
            raise InputError(f"{what}: a str pattern is expected", "usage")
        return None, value.pattern
    if isinstance(value, str):
        return value, None
    raise InputError(f"{what}: a string or a re.Pattern is expected", "usage")


def _request(
    path: PathLike,
    signature: Paths,
    trust_root: Optional[Paths],
    public_key: Optional[PathLike],
    policy: Optional[PathLike],
    identity: Union[None, Match, Iterable[str]],
    trusted_root: Optional[PathLike],
    oidc_issuer: Optional[Match],
    at: Union[None, str, _dt.datetime],
    threads: Optional[int],
    model_name: Union[None, str, Iterable[str]] = None,
    max_sealed_bytes: Optional[int] = None,
) -> Dict[str, Any]:
    """The arguments of :func:`verify` and :func:`open_model`, checked and
    normalised, as the native module takes them (one dict)."""
    if isinstance(identity, re.Pattern):
        identities: List[str] = []
        _exact, identity_regexp = _exact_or_pattern(identity, "identity")
    else:
        identities = _strings(identity, "identity")
        identity_regexp = None
    oidc_issuer_exact, oidc_issuer_regexp = _exact_or_pattern(oidc_issuer, "oidc_issuer")
    return {
        "model": os.fsdecode(os.fspath(path)),
        "signatures": _paths(signature, "signature"),
        "trust_roots": _paths(trust_root, "trust_root"),
        "public_key": _one_path(public_key, "public_key"),
        "policy": _one_path(policy, "policy"),
        "identities": identities,
        "identity_regexp": identity_regexp,
        "trusted_root": _one_path(trusted_root, "trusted_root"),
        "oidc_issuer": oidc_issuer_exact,
        "oidc_issuer_regexp": oidc_issuer_regexp,
        "at": _time(at),
        "threads": _threads(threads),
        "model_names": _strings(model_name, "model_name"),
        "max_sealed_bytes": _max_bytes(max_sealed_bytes),
    }


def verify(
    path: PathLike,
    *,
    signature: Paths,
    trust_root: Optional[Paths] = None,
    public_key: Optional[PathLike] = None,
    policy: Optional[PathLike] = None,
    identity: Union[None, Match, Iterable[str]] = None,
    trusted_root: Optional[PathLike] = None,
    oidc_issuer: Optional[Match] = None,
    at: Union[None, str, _dt.datetime] = None,
    threads: Optional[int] = None,
    model_name: Union[None, str, Iterable[str]] = None,
) -> Verification:
    """Verify the model at ``path`` (a directory or a single file).

    Exactly one source of trust:

    - ``trust_root``: PEM file(s) of trusted root certificates; the bundle's
      certificate chain must lead to one of them (code signing), at ``at``.
    - ``public_key``: the PEM public key the model must be signed with.
    - ``oidc_issuer`` and ``identity`` (Sigstore keyless): the Fulcio
      certificate must name this OIDC issuer and this identity (its SAN:
      an email or a workflow URI), each exactly or, given as a compiled
      ``re.Pattern``, matching it whole; the certificate chains to the
      Fulcio CA of ``trusted_root`` (a ``trusted_root.json``; default: the
      Sigstore public-good root built in), checked at the time the
      transparency log or a timestamp proves.
    - ``policy``: a trust policy file (``modelseal policy``): it chooses
      roots, identities, algorithms, revocation and how many distinct
      signers (``signature`` may then list several bundles).

    ``identity``: required signer identity or identities (any of them
    matches): a SAN (``email:``, ``uri:``, ``dns:``, ``ip:``) or a subject
    DN (``CN=...,O=...``). Required with ``trust_root`` (a root certifies
    many signers): ``identity="*"`` accepts any signer the roots certify.
    Transparency-log entries in the bundle are checked against the Sigstore
    root in every mode (``trusted_root``, or the built-in one). ``at``:
    check certificates at this time (an aware ``datetime`` or an RFC 3339
    string) instead of now. ``threads``: hashing threads (default: one per
    core). ``model_name``: the model's signed name (the statement's subject
    name; by default the signed directory's name) must be this one (or one
    of a list), as ``modelseal verify --model-name``: another model signed
    by the same signer in this one's place raises :class:`VerificationError`
    (kind ``model_name_mismatch``). Under a policy, a scope's
    ``modelNames`` pins names instead.

    The GIL is released while the model is hashed: other threads run, and
    several models can be verified at once from several threads.

    Returns a :class:`Verification`. Raises :class:`VerificationError`
    when the model is refused (with the failing ``check`` and ``reason``)
    and :class:`InputError` when no decision could be made.
    """
    return _native.verify(
        _request(
            path, signature, trust_root, public_key, policy, identity, trusted_root,
            oidc_issuer, at, threads, model_name,
        )
    )


class _VerifiedFile(io.BytesIO):
    """A read-only in-memory file over one verified file's bytes."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name

    def writable(self) -> bool:
        return False

    def write(self, b: Any) -> int:
        raise io.UnsupportedOperation("a verified model file is read-only")

    def writelines(self, lines: Any) -> None:
        raise io.UnsupportedOperation("a verified model file is read-only")

    def truncate(self, size: Optional[int] = None) -> int:
        raise io.UnsupportedOperation("a verified model file is read-only")


_NUMPY_DTYPES = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "U16": "uint16",
    "I16": "int16",
    "F16": "float16",
    "U32": "uint32",
    "I32": "int32",
    "F32": "float32",
    "U64": "uint64",
    "I64": "int64",
    "F64": "float64",
    "C64": "complex64",
}

_TORCH_DTYPES = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "U16": "uint16",
    "I16": "int16",
    "F16": "float16",
    "BF16": "bfloat16",
    "U32": "uint32",
    "I32": "int32",
    "F32": "float32",
    "U64": "uint64",
    "I64": "int64",
    "F64": "float64",
    "C64": "complex64",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
}


class Model:
    """A model opened by :func:`open_model`.

    Its signature, trust, identity and exact file list were checked when it
    was opened; each file's digest is checked as the file is read, before
    any of its bytes are returned. Use it as a context manager: on exit the
    sealed copies behind :attr:`path` are dropped and reads fail.
    """

    def __init__(self, native: "_native.Model") -> None:
        self._native = native

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<modelseal.Model {self.verification.path} {state}>"

    @property
    def verification(self) -> Verification:
        """What was checked when the model was opened (no ``digests`` check:
        digests are checked per file, as files are read)."""
        return self._native.verification

    @property
    def files(self) -> List[str]:
        """The signed files: paths inside the model, ``/``-separated (for a
        single-file model, its file name)."""
        return self._native.files

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.closed

    def read(self, name: str) -> bytes:
        """The bytes of file ``name``, returned only if they matched its
        signed digest. The file is read from disk once, hashed as it is
        read, into the returned object (the GIL is released meanwhile)."""
        return self._native.read(name)

    def open(self, name: str) -> io.BufferedIOBase:
        """A read-only, seekable binary file object over the verified bytes
        of file ``name`` (held in memory: the file's size)."""
        return _VerifiedFile(self._native.read(name), name)

    def load_safetensors(
        self,
        name: Union[None, str, Sequence[str]] = None,
        framework: str = "numpy",
    ) -> Dict[str, Any]:
        """Load safetensors file(s): a dict of tensor name to array.

        ``name``: one file, a list of files, or ``None`` for every
        ``*.safetensors`` file of the model (a sharded checkpoint), whose
        tensors are merged into one dict (a tensor name in two files is an
        :class:`InputError`). Each file is read once, straight into its
        tensors' own buffers, and hashed there; several files are loaded at
        once, one per thread (``threads`` of :func:`open_model`, default one
        per core). The arrays are returned only if every file matched its
        signed digest. ``framework``: ``"numpy"`` (``"np"``) for numpy
        arrays, ``"torch"`` (``"pt"``) for torch tensors (CPU).

        Raises :class:`VerificationError` for a file that does not verify,
        :class:`InputError` for one that is not valid safetensors.
        """
        if name is None:
            names = [f for f in self.files if f.endswith(".safetensors")]
            if not names:
                raise InputError("the model holds no .safetensors file", "usage")
        elif isinstance(name, str):
            names = [name]
        else:
            names = list(name)
            if not all(isinstance(n, str) for n in names):
                raise InputError("name: a file name or a list of file names is expected", "usage")
        try:
            # The native module hands each tensor's bytes over as a numpy
            # array (no copy), for either framework.
            import numpy as np
        except ImportError:
            raise InputError(
                "load_safetensors needs numpy (pip install 'modelseal[numpy]')",
                "missing_dependency",
            ) from None
        if framework in ("numpy", "np"):

            def make(file: str, dtype: str, shape: List[int], buf: Any) -> Any:
                np_dtype = _NUMPY_DTYPES.get(dtype)
                if np_dtype is None:
                    raise InputError(
                        f"{file}: dtype {dtype} has no numpy equivalent (use framework='torch')",
                        "unsupported_dtype",
                    )
                return np.frombuffer(buf, dtype=np_dtype).reshape(shape)

        elif framework in ("torch", "pt"):
            import torch

            def make(file: str, dtype: str, shape: List[int], buf: Any) -> Any:
                t_dtype = _TORCH_DTYPES.get(dtype)
                if t_dtype is None or not hasattr(torch, t_dtype):
                    raise InputError(
                        f"{file}: dtype {dtype} is not supported by this torch",
                        "unsupported_dtype",
                    )
                if len(buf) == 0:
                    return torch.empty(shape, dtype=getattr(torch, t_dtype))
                return torch.frombuffer(buf, dtype=getattr(torch, t_dtype)).reshape(shape)

        else:
            raise InputError(f"framework {framework!r}: use 'numpy' or 'torch'", "usage")
        out: Dict[str, Any] = {}
        for file, (_metadata, tensors) in zip(names, self._native.load_safetensors(names)):
            for t_name, dtype, shape, buf in tensors:
                if t_name in out:
                    raise InputError(
                        f"tensor {t_name!r} is in more than one file ({file})",
                        "duplicate_tensor",
                    )
                out[t_name] = make(file, dtype, shape, buf)
        return out

    def safetensors_metadata(self, name: str) -> Optional[Dict[str, str]]:
        """The ``__metadata__`` of safetensors file ``name`` (verified: the
        whole file is read and hashed)."""
        [(metadata, _tensors)] = self._native.load_safetensors([name])
        return metadata

    @property
    def path(self) -> str:
        """A directory that any loader expecting files can read
        (``transformers.AutoModel.from_pretrained(model.path)``).

        On first use every file is hashed into a sealed in-memory copy
        (memfd: nobody can change it, the model's size in shared memory);
        the directory holds links to those copies, and from then on every
        read of this model is served from them. Valid until the model is
        closed (the end of the ``with`` block)."""
        return self._native.path

    @property
    def sealed_bytes(self) -> int:
        """Bytes held in sealed copies (0 until :attr:`path` is used)."""
        return self._native.sealed_bytes

    def close(self) -> None:
        """Drop the sealed copies and their directory; later reads raise
        :class:`InputError` (kind ``closed``)."""
        self._native.close()


def open_model(
    path: PathLike,
    *,
    signature: Paths,
    trust_root: Optional[Paths] = None,
    public_key: Optional[PathLike] = None,
    policy: Optional[PathLike] = None,
    identity: Union[None, Match, Iterable[str]] = None,
    trusted_root: Optional[PathLike] = None,
    oidc_issuer: Optional[Match] = None,
    at: Union[None, str, _dt.datetime] = None,
    threads: Optional[int] = None,
    tmpdir: Optional[PathLike] = None,
    model_name: Union[None, str, Iterable[str]] = None,
    max_sealed_bytes: Optional[int] = None,
) -> Model:
    """Open the model at ``path`` for loading from verified bytes only.

    With ``trust_root``, ``public_key`` or ``oidc_issuer`` (and
    ``identity``, ``trusted_root``, ``at`` as for :func:`verify`): checks the bundle ``signature`` and that the model
    holds exactly the signed files, without hashing them yet. Each file is
    hashed as it is read through the returned :class:`Model` (``read``,
    ``open``, ``load_safetensors``), and its bytes are returned only if they
    matched; ``Model.path`` seals the whole model into memory first.

    With ``policy`` (``signature`` may list several bundles): the policy
    decides, and the files it needs checked are hashed once into sealed
    in-memory copies while it decides; every read is then served from those
    copies (memory: the model's size, ``Model.sealed_bytes``).

    ``tmpdir``: where ``Model.path`` makes its directory of links (default:
    the system's temporary directory).

    ``model_name``: as for :func:`verify`. ``max_sealed_bytes``: the most
    bytes ``Model.path`` (or a policy) may seal in memory, and the largest
    file ``read``, ``open`` or ``load_safetensors`` reads into a buffer
    (default: the memory the kernel reports available, as ``modelseal gate
    --max-sealed-bytes``); more raises :class:`InputError` (kind
    ``too_large``) before anything is read or allocated.

    Use as ``with modelseal.open_model(...) as model:``. Raises
    :class:`VerificationError` or :class:`InputError` as :func:`verify`.
    """
    native = _native.open_model(
        _request(
            path, signature, trust_root, public_key, policy, identity, trusted_root,
            oidc_issuer, at, threads, model_name, max_sealed_bytes,
        ),
        _one_path(tmpdir, "tmpdir"),
    )
    return Model(native)
