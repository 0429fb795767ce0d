//! OpenSSL-style detached ("raw") signatures over one file, as
//! `openssl dgst -sha256 -sign KEY -out SIG FILE` and
//! `openssl pkeyutl -sign -rawin -inkey KEY -in FILE -out SIG` write them.
//!
//! A raw signature is only the signature bytes: it does not say how it was
//! made. [`DetachedScheme`] turns the key's type and the user's options into
//! one [`SignatureAlgorithm`], with OpenSSL's defaults:
//!
//! | key | default | options |
//! | --- | --- | --- |
//! | RSA | PKCS#1 v1.5 with SHA-256 (`openssl dgst -sha256 -sign`) | digest SHA-256/384/512; padding PSS (`-sigopt rsa_padding_mode:pss`) |
//! | ECDSA P-256 | SHA-256, DER signature | the digest must be SHA-256 |
//! | ECDSA P-384 | SHA-384, DER signature (`openssl dgst -sha384 -sign`) | the digest must be SHA-384 |
//! | Ed25519 | pure Ed25519 over the whole file (`pkeyutl -rawin`) | no digest |
//!
//! RSA and ECDSA sign a digest of the file: [`hash_file`] streams the file
//! through the hashing engine's reader ([`crate::engine::hash_range`]) with
//! one bounded buffer, so files of any size are signed and verified in
//! constant memory. Pure Ed25519 needs the whole message in memory (as
//! OpenSSL does); files larger than [`MAX_WHOLE_MESSAGE_BYTES`] are refused.

use std::fmt;
use std::fs::File;
use std::io;

use sha2::Digest as _;

use crate::algorithm::{KeyKind, SignatureAlgorithm};

/// The largest file an Ed25519 raw signature is made or checked over (the
/// whole file is read into memory). Sign a checksums file instead.
pub const MAX_WHOLE_MESSAGE_BYTES: u64 = 256 * 1024 * 1024;

/// Largest raw signature file read: an RSA-8192 signature is 1024 bytes.
pub const MAX_SIGNATURE_BYTES: u64 = 16 * 1024;

/// The digest an RSA or ECDSA raw signature signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageHash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl MessageHash {
    /// `sha256`, `sha384`, `sha512` (as `openssl dgst -sha256` names it).
    pub fn name(self) -> &'static str {
        match self {
            MessageHash::Sha256 => "sha256",
            MessageHash::Sha384 => "sha384",
            MessageHash::Sha512 => "sha512",
        }
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            MessageHash::Sha256 => 32,
            MessageHash::Sha384 => 48,
            MessageHash::Sha512 => 64,
        }
    }

    /// The digest a signature algorithm signs; `None` for Ed25519, which
    /// signs the message itself.
    pub fn of(algorithm: SignatureAlgorithm) -> Option<MessageHash> {
        match algorithm {
            SignatureAlgorithm::RsaPssSha256
            | SignatureAlgorithm::RsaPkcs1Sha256
            | SignatureAlgorithm::EcdsaP256Sha256 => Some(MessageHash::Sha256),
            SignatureAlgorithm::RsaPssSha384
            | SignatureAlgorithm::RsaPkcs1Sha384
            | SignatureAlgorithm::EcdsaP384Sha384 => Some(MessageHash::Sha384),
            SignatureAlgorithm::RsaPssSha512 | SignatureAlgorithm::RsaPkcs1Sha512 => {
                Some(MessageHash::Sha512)
            }
            SignatureAlgorithm::Ed25519 => None,
        }
    }

    /// Hash `data` in one call.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = State::new(self);
        h.update(data);
        h.finish()
    }
}

impl fmt::Display for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// RSA padding of a raw signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
// Closed by definition: PKCS #1 (RFC 8017) defines exactly two RSA
// signature schemes, PKCS1-v1_5 and PSS.
#[allow(clippy::exhaustive_enums)]
pub enum DetachedPadding {
    /// RSASSA-PKCS1-v1_5 (OpenSSL's default).
    Pkcs1v15,
    /// RSASSA-PSS with MGF1 of the same hash (`-sigopt rsa_padding_mode:pss`).
    Pss,
}

/// What the user said about a raw signature; unset fields take OpenSSL's
/// defaults for the key (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DetachedScheme {
    /// The digest (`--digest`).
    pub digest: Option<MessageHash>,
    /// RSA padding (`--rsa-padding`); only for RSA keys.
    pub rsa_padding: Option<DetachedPadding>,
}

/// Options that do not fit the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemeError {
    /// An RSA padding was named for a key that is not RSA.
    #[error("an RSA padding was given but the key is {key}")]
    PaddingNeedsRsa {
        /// The key's kind.
        key: KeyKind,
    },
    /// An ECDSA key with another digest than its curve's.
    #[error(
        "{key} raw signatures are checked with {required} (`openssl dgst -{required} -sign`); {digest} is not supported with this key"
    )]
    DigestMismatch {
        /// The key's kind.
        key: KeyKind,
        /// The digest asked for.
        digest: MessageHash,
        /// The only digest supported with this key.
        required: MessageHash,
    },
    /// A digest was named for an Ed25519 key.
    #[error("Ed25519 signs the file itself (`openssl pkeyutl -sign -rawin`): no digest applies")]
    DigestNotApplicable,
}

impl DetachedScheme {
    /// The one signature algorithm these options mean for a key of `kind`.
    ///
    /// # Errors
    /// [`SchemeError`] when an option does not fit the key.
    pub fn algorithm(self, kind: KeyKind) -> Result<SignatureAlgorithm, SchemeError> {
        if self.rsa_padding.is_some() && !matches!(kind, KeyKind::Rsa { .. }) {
            return Err(SchemeError::PaddingNeedsRsa { key: kind });
        }
        let curve = |required: MessageHash, alg: SignatureAlgorithm| match self.digest {
            Some(digest) if digest != required => Err(SchemeError::DigestMismatch {
                key: kind,
                digest,
                required,
            }),
            _ => Ok(alg),
        };
        match kind {
            KeyKind::Rsa { .. } => {
                let pss = self.rsa_padding == Some(DetachedPadding::Pss);
                Ok(match (pss, self.digest.unwrap_or(MessageHash::Sha256)) {
                    (false, MessageHash::Sha256) => SignatureAlgorithm::RsaPkcs1Sha256,
                    (false, MessageHash::Sha384) => SignatureAlgorithm::RsaPkcs1Sha384,
                    (false, MessageHash::Sha512) => SignatureAlgorithm::RsaPkcs1Sha512,
                    (true, MessageHash::Sha256) => SignatureAlgorithm::RsaPssSha256,
                    (true, MessageHash::Sha384) => SignatureAlgorithm::RsaPssSha384,
                    (true, MessageHash::Sha512) => SignatureAlgorithm::RsaPssSha512,
                })
            }
            KeyKind::EcP256 => curve(MessageHash::Sha256, SignatureAlgorithm::EcdsaP256Sha256),
            KeyKind::EcP384 => curve(MessageHash::Sha384, SignatureAlgorithm::EcdsaP384Sha384),
            KeyKind::Ed25519 => match self.digest {
                Some(_) => Err(SchemeError::DigestNotApplicable),
                None => Ok(SignatureAlgorithm::Ed25519),
            },
        }
    }
}

enum State {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl State {
    fn new(hash: MessageHash) -> Self {
        match hash {
            MessageHash::Sha256 => State::Sha256(sha2::Sha256::new()),
            MessageHash::Sha384 => State::Sha384(sha2::Sha384::new()),
            MessageHash::Sha512 => State::Sha512(sha2::Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            State::Sha256(h) => h.update(data),
            State::Sha384(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            State::Sha256(h) => h.finalize().to_vec(),
            State::Sha384(h) => h.finalize().to_vec(),
            State::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// The digest of everything `file` holds from its start to its end, read
/// with the engine's reader in `buf`-sized pieces. Returns the digest and
/// the number of bytes hashed.
///
/// # Errors
/// The OS error of a failed read.
pub fn hash_file(file: &File, hash: MessageHash, buf: &mut [u8]) -> io::Result<(Vec<u8>, u64)> {
    let mut state = State::new(hash);
    let len = crate::engine::hash_range(file, 0, u64::MAX, buf, &mut |chunk| {
        state.update(chunk);
    })?;
    Ok((state.finish(), len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn defaults_follow_openssl() {
        let none = DetachedScheme::default();
        let rsa = KeyKind::Rsa { bits: 3072 };
        assert_eq!(none.algorithm(rsa), Ok(SignatureAlgorithm::RsaPkcs1Sha256));
        assert_eq!(
            none.algorithm(KeyKind::EcP256),
            Ok(SignatureAlgorithm::EcdsaP256Sha256)
        );
        assert_eq!(
            none.algorithm(KeyKind::EcP384),
            Ok(SignatureAlgorithm::EcdsaP384Sha384)
        );
        assert_eq!(
            none.algorithm(KeyKind::Ed25519),
            Ok(SignatureAlgorithm::Ed25519)
        );
        let pss512 = DetachedScheme {
            digest: Some(MessageHash::Sha512),
            rsa_padding: Some(DetachedPadding::Pss),
        };
        assert_eq!(pss512.algorithm(rsa), Ok(SignatureAlgorithm::RsaPssSha512));
        let pkcs384 = DetachedScheme {
            digest: Some(MessageHash::Sha384),
            rsa_padding: None,
        };
        assert_eq!(
            pkcs384.algorithm(rsa),
            Ok(SignatureAlgorithm::RsaPkcs1Sha384)
        );
    }

    #[test]
    fn options_that_do_not_fit_the_key_are_errors() {
        let sha256 = DetachedScheme {
            digest: Some(MessageHash::Sha256),
            rsa_padding: None,
        };
        assert_eq!(
            sha256.algorithm(KeyKind::EcP384),
            Err(SchemeError::DigestMismatch {
                key: KeyKind::EcP384,
                digest: MessageHash::Sha256,
                required: MessageHash::Sha384
            })
        );
        assert_eq!(
            sha256.algorithm(KeyKind::EcP256),
            Ok(SignatureAlgorithm::EcdsaP256Sha256)
        );
        assert_eq!(
            sha256.algorithm(KeyKind::Ed25519),
            Err(SchemeError::DigestNotApplicable)
        );
        let pss = DetachedScheme {
            digest: None,
            rsa_padding: Some(DetachedPadding::Pss),
        };
        for kind in [KeyKind::EcP256, KeyKind::EcP384, KeyKind::Ed25519] {
            assert_eq!(
                pss.algorithm(kind),
                Err(SchemeError::PaddingNeedsRsa { key: kind })
            );
        }
    }

    #[test]
    fn message_hash_of_every_algorithm() {
        for alg in SignatureAlgorithm::ALL {
            match MessageHash::of(alg) {
                None => assert_eq!(alg, SignatureAlgorithm::Ed25519),
                Some(h) => assert!(alg.name().ends_with(h.name()), "{alg}"),
            }
        }
    }

    #[test]
    fn hash_file_streams_with_a_small_buffer() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&data).unwrap();
        let mut buf = [0u8; 4096];
        for (h, known) in [
            (MessageHash::Sha256, sha2::Sha256::digest(&data).to_vec()),
            (MessageHash::Sha384, sha2::Sha384::digest(&data).to_vec()),
            (MessageHash::Sha512, sha2::Sha512::digest(&data).to_vec()),
        ] {
            let (digest, len) = hash_file(&f, h, &mut buf).unwrap();
            assert_eq!(digest, known);
            assert_eq!(digest.len(), h.output_len());
            assert_eq!(len, data.len() as u64);
            assert_eq!(h.digest(&data), known);
        }
        // SHA-384 known answer for "abc" (FIPS 180-2).
        assert_eq!(
            MessageHash::Sha384.digest(b"abc")[..4],
            [0xcb, 0x00, 0x75, 0x3f]
        );
    }
}
