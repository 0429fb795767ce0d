//! Keys that live in a PKCS#11 token (an HSM, a smart card, SoftHSM).
//!
//! [`open`] loads the module named by the URI (`module-path`) or given by
//! the caller (the CLI reads `MODELSEAL_PKCS11_MODULE`), finds exactly one
//! token by label/serial/manufacturer/model and exactly one private key by
//! label and/or id (never by slot number), logs in with the PIN, reads the
//! matching public key object and builds its SubjectPublicKeyInfo. The
//! private key never leaves the token: signing sends it a digest (ECDSA,
//! RSA) or the message (Ed25519):
//!
//! | key | mechanism | input |
//! | --- | --- | --- |
//! | ECDSA P-256 / P-384 | `CKM_ECDSA` | SHA-256 / SHA-384 digest; raw `r‖s` → ASN.1 DER |
//! | RSA, PSS | `CKM_RSA_PKCS_PSS` (MGF1, salt = hash length) | SHA-256/384/512 digest |
//! | RSA, PKCS#1 v1.5 | `CKM_RSA_PKCS` | DER `DigestInfo` of the digest |
//! | Ed25519 | `CKM_EDDSA` (pure) | the message |
//!
//! Every signature the token returns is verified with the public key before
//! it is used, so a token that pairs the wrong objects, or misbehaves, cannot
//! produce a bundle that does not verify.
//!
//! [`generate`] makes a new key pair inside a token (`modelseal keygen`),
//! private key sensitive and not extractable.
//!
//! The PIN is read into zeroized memory, handed to the module as a
//! `secrecy` secret and never formatted: not in errors, not in `Debug`.

mod token;
mod uri;

pub use token::{TokenAlgorithm, TokenKey, generate, open};
pub use uri::{PinSource, Pkcs11Uri, UriError};
