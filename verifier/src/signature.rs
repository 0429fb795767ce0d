//! TEMPORARY stub: replaced by the crypto branch.
#![allow(missing_docs, clippy::missing_errors_doc)]
use modelseal_manifest::{KeyKind, SignatureAlgorithm};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("invalid signature")]
    InvalidSignature,
    #[error("ambiguous")]
    AmbiguousRsaPadding,
}

#[derive(Debug, Clone)]
pub struct PublicKey;

impl PublicKey {
    pub fn from_spki_der(_der: &[u8]) -> Result<Self, SignatureError> {
        Err(SignatureError::InvalidSignature)
    }
    pub fn key_kind(&self) -> KeyKind {
        KeyKind::Ed25519
    }
    pub fn spki_der(&self) -> Vec<u8> {
        vec![]
    }
    pub fn verify(
        &self,
        _a: SignatureAlgorithm,
        _m: &[u8],
        _s: &[u8],
    ) -> Result<(), SignatureError> {
        Err(SignatureError::InvalidSignature)
    }
}

pub fn algorithm_for(kind: KeyKind, _hint: &str) -> Result<SignatureAlgorithm, SignatureError> {
    SignatureAlgorithm::infer(kind).ok_or(SignatureError::AmbiguousRsaPadding)
}
