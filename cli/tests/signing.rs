//! Production signing end to end: a signer that cannot hurt its user
//! (`safety`), RFC 3161 timestamps with a real local TSA (`tsa`), keys in a
//! real SoftHSM2 token (`hsm`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "signing/hsm.rs"]
mod hsm;
#[path = "signing/keygen.rs"]
mod keygen;
#[path = "signing/safety.rs"]
mod safety;
#[path = "signing/tsa.rs"]
mod tsa;
