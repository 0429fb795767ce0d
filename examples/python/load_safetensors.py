#!/usr/bin/env python3
"""Load a signed safetensors model in-process, from verified bytes only.

    python examples/python/load_safetensors.py MODEL_DIR --signature model.sig \
        (--public-key PUB.pem | --trust-root ROOT.pem --identity ID, '*' for any signer)

Exit codes as the modelseal CLI: 0 loaded, 1 refused, 2 could not decide.
Needs the `modelseal` package (pip install a wheel built by `maturin build`
in python/) and numpy.
"""

from __future__ import annotations

import argparse
import sys

import modelseal


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--signature", "-s", required=True)
    ap.add_argument("--public-key")
    ap.add_argument("--trust-root", action="append")
    ap.add_argument("--identity", action="append")
    ap.add_argument("--framework", default="numpy", choices=["numpy", "torch"])
    args = ap.parse_args()
    try:
        with modelseal.open_model(
            args.model,
            signature=args.signature,
            public_key=args.public_key,
            trust_root=args.trust_root,
            identity=args.identity,
        ) as model:
            print(f"signed by {model.verification.signer} ({model.verification.algorithm})")
            for name in model.files:
                if not name.endswith(".safetensors"):
                    continue
                tensors = model.load_safetensors(name, framework=args.framework)
                size = sum(t.nbytes if hasattr(t, "nbytes") else t.numel() * t.element_size()
                           for t in tensors.values())
                print(f"{name}: {len(tensors)} tensors, {size} bytes, digest verified")
                for tname, t in sorted(tensors.items())[:5]:
                    print(f"  {tname}: {t.dtype} {tuple(t.shape)}")
    except modelseal.VerificationError as e:
        print(f"refused: {e}", file=sys.stderr)
        return 1
    except modelseal.InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
