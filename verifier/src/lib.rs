//! Verifies OMS bundles: signature, certificate chain, identity and every file digest.
#![forbid(unsafe_code)]
