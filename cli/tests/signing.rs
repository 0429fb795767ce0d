//! Signing and verifying end to end, every trust source: keys and X.509
//! chains (`sign_verify`), a signer that cannot hurt its user (`safety`),
//! `--update` (`incremental`), secrets never printed (`secrets`),
//! `SHA256SUMS` and raw `openssl dgst` signatures (`checksums`), RFC 3161
//! timestamps with a real local TSA (`tsa`), keys in a real SoftHSM2 token
//! (`hsm`), `keygen`, and Sigstore bundles (`sigstore`).
//!
//! The CLI's integration tests are a few binaries grouped by theme (each
//! test binary links the whole dependency graph): `signing`, `decisions`,
//! `audit`, `hostile` and `interfaces`; each file under `cli/tests/<group>/`
//! is a module of its group, and `common` is shared.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "signing/checksums.rs"]
mod checksums;
mod common;
#[path = "signing/hsm.rs"]
mod hsm;
#[path = "signing/incremental.rs"]
mod incremental;
#[path = "signing/keygen.rs"]
mod keygen;
#[path = "signing/safety.rs"]
mod safety;
#[path = "signing/secrets.rs"]
mod secrets;
#[path = "signing/sign_verify.rs"]
mod sign_verify;
#[path = "signing/sigstore.rs"]
mod sigstore;
#[path = "signing/tsa.rs"]
mod tsa;
