//! Signs model manifests into OpenSSF Model Signing (OMS) bundles.
#![forbid(unsafe_code)]
