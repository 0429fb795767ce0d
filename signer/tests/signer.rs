//! The signer, one test binary: interoperability with the `openssl` command
//! line (`openssl`) and sign/verify round trips with every key kind
//! (`roundtrip`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "signer/openssl.rs"]
mod openssl;
#[path = "signer/roundtrip.rs"]
mod roundtrip;
