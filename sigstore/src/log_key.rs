//! The keys of transparency logs and CT logs, and the signatures they make:
//! ECDSA P-256/P-384 (DER signatures), Ed25519 and, for old staging CT
//! logs, RSA PKCS#1 v1.5 with SHA-256.

use std::fmt;

use signature::Verifier as _;
use spki::der::Decode as _;
use spki::{DecodePublicKey as _, ObjectIdentifier, SubjectPublicKeyInfoRef};

const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Why a log's key cannot be used ([`LogKey::from_spki_der`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogKeyError {
    /// Not a well-formed `SubjectPublicKeyInfo`, or not a valid key of
    /// its algorithm.
    #[error("{0}")]
    Malformed(#[source] spki::Error),
    /// An EC key whose parameters name no curve.
    #[error("EC key without a named curve: {0}")]
    NoNamedCurve(#[source] spki::Error),
    /// An EC curve other than P-256 and P-384.
    #[error("unsupported curve {oid}")]
    UnsupportedCurve {
        /// The curve's OID.
        oid: String,
    },
    /// A key algorithm other than EC, Ed25519 and RSA.
    #[error("unsupported key algorithm {oid}")]
    UnsupportedAlgorithm {
        /// The algorithm's OID.
        oid: String,
    },
}

/// A log's public key.
#[derive(Clone)]
pub struct LogKey {
    inner: Inner,
    spki: Vec<u8>,
}

#[derive(Clone)]
enum Inner {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(Box<rsa::pkcs1v15::VerifyingKey<sha2::Sha256>>),
}

impl LogKey {
    /// Reads a DER `SubjectPublicKeyInfo`.
    ///
    /// # Errors
    /// [`LogKeyError`]: what is unsupported or malformed.
    pub fn from_spki_der(der: &[u8]) -> Result<LogKey, LogKeyError> {
        let info =
            SubjectPublicKeyInfoRef::from_der(der).map_err(|e| LogKeyError::Malformed(e.into()))?;
        let oid = info.algorithm.oid;
        let inner = if oid == OID_EC {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(LogKeyError::NoNamedCurve)?;
            if curve == OID_P256 {
                Inner::P256(
                    p256::ecdsa::VerifyingKey::from_public_key_der(der)
                        .map_err(LogKeyError::Malformed)?,
                )
            } else if curve == OID_P384 {
                Inner::P384(
                    p384::ecdsa::VerifyingKey::from_public_key_der(der)
                        .map_err(LogKeyError::Malformed)?,
                )
            } else {
                return Err(LogKeyError::UnsupportedCurve {
                    oid: curve.to_string(),
                });
            }
        } else if oid == OID_ED25519 {
            Inner::Ed25519(
                ed25519_dalek::VerifyingKey::from_public_key_der(der)
                    .map_err(LogKeyError::Malformed)?,
            )
        } else if oid == OID_RSA {
            let key = rsa::PublicKey::from_public_key_der(der).map_err(LogKeyError::Malformed)?;
            Inner::Rsa(Box::new(rsa::pkcs1v15::VerifyingKey::new(key)))
        } else {
            return Err(LogKeyError::UnsupportedAlgorithm {
                oid: oid.to_string(),
            });
        };
        Ok(LogKey {
            inner,
            spki: der.to_vec(),
        })
    }

    /// The key's DER `SubjectPublicKeyInfo`, as given.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The raw Ed25519 key, for note key IDs.
    pub(crate) fn ed25519_bytes(&self) -> Option<[u8; 32]> {
        match &self.inner {
            Inner::Ed25519(k) => Some(k.to_bytes()),
            _ => None,
        }
    }

    /// Whether `sig` is this key's signature over `msg` (ECDSA and RSA
    /// hash with SHA-256 for P-256 and RSA, SHA-384 for P-384).
    pub fn verifies(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.inner {
            Inner::P256(k) => {
                p256::ecdsa::DerSignature::from_bytes(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            Inner::P384(k) => {
                p384::ecdsa::DerSignature::from_bytes(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            Inner::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(msg, &s).is_ok()),
            Inner::Rsa(k) => {
                rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
        }
    }
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner {
            Inner::P256(_) => "ECDSA P-256",
            Inner::P384(_) => "ECDSA P-384",
            Inner::Ed25519(_) => "Ed25519",
            Inner::Rsa(_) => "RSA",
        };
        f.write_str(kind)
    }
}
