//! Public keys and signature verification over whole messages.
//!
//! Everything verifies whole messages (the DSSE PAE bytes, or a file): the
//! hash named by the [`SignatureAlgorithm`] is computed here.
//!
//! # Encodings and strictness
//!
//! - **RSA**: keys of 2048..=8192 bits verify; smaller keys load (so their
//!   size can be reported) but [`PublicKey::verify`] refuses them with
//!   [`SignatureError::WeakKey`]. PKCS#1 v1.5 requires the `DigestInfo` with
//!   an explicit `NULL` hash parameter (Wycheproof's `MissingNull` vectors,
//!   rated *acceptable*, are rejected). PSS requires MGF1 with the signature
//!   hash and a salt as long as the hash, which is what modelseal signs and
//!   the bundle format uses. OpenSSL's own default salt (the maximum when
//!   signing, auto-detected when verifying) is accepted only through
//!   [`PublicKey::verify_with_pss_salt`] with [`PssSaltLength::Auto`], meant
//!   for detached signatures made by `openssl dgst`.
//! - **ECDSA**: signatures must be ASN.1 DER `ECDSA-Sig-Value`, as OMS bundles
//!   and OpenSSL carry them. Decoding is strict DER: BER forms (long or
//!   indefinite lengths, non-minimal or negative INTEGERs) and trailing bytes
//!   are rejected, and `r`, `s` must lie in `[1, n-1]`. High-`s` signatures
//!   are accepted: ECDSA as standardized (FIPS 186, X9.62) has no low-`s`
//!   rule, Wycheproof rates high-`s` signatures of these test sets *valid*,
//!   and OpenSSL and `model_signing` emit them half of the time.
//! - **Ed25519**: `verify_strict` of `ed25519-dalek`: non-canonical `S`
//!   (`S >= L`) is rejected, as are small-order public keys and small-order
//!   `R`, and `R` must re-encode to the bytes given. Wycheproof's Ed25519
//!   set has no *acceptable* vectors; every *valid* one passes this check.
//!
//! Every verification failure is the one opaque
//! [`SignatureError::InvalidSignature`].

use std::fmt;

use modelseal_manifest::describe_oid;
use modelseal_manifest::{KeyKind, SignatureAlgorithm};
use pkcs8::der::pem::Decoder;
use pkcs8::der::{Decode, asn1::ObjectIdentifier};
use rsa::pkcs1::RsaPublicKeyRef;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, Pss};
use sha2::digest::{Digest, FixedOutputReset};
use sha2::{Sha256, Sha384, Sha512};
use signature::Verifier;
use spki::{EncodePublicKey, SubjectPublicKeyInfoRef};

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Smallest RSA modulus that verifies.
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus that loads.
pub const RSA_MAX_BITS: usize = 8192;

/// Why a key could not be loaded or a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The public key's PEM framing or DER structure does not decode, or
    /// its values are invalid (an even RSA modulus, a point off the curve).
    #[error("malformed public key: {detail}")]
    MalformedKey {
        /// What the decoder rejected.
        detail: String,
    },

    /// A PEM block that is not a public key.
    #[error("expected a PUBLIC KEY or RSA PUBLIC KEY PEM block, found {label:?}")]
    UnexpectedPemLabel {
        /// The block's label.
        label: String,
    },

    /// A key of an algorithm or curve that is not supported.
    #[error(
        "unsupported public key {algorithm}: only RSA, Ed25519 and ECDSA P-256/P-384 keys are supported"
    )]
    UnsupportedKey {
        /// The algorithm or curve, by name when known, with its OID.
        algorithm: String,
    },

    /// An RSA key above 8192 bits (refused to bound verification cost).
    #[error("RSA-{bits} key is too large: at most 8192 bits are supported")]
    RsaKeyTooLarge {
        /// Modulus length in bits.
        bits: usize,
    },

    /// An RSA key below 2048 bits.
    #[error("RSA-{bits} key is too weak: at least 2048 bits are required")]
    WeakKey {
        /// Modulus length in bits.
        bits: usize,
    },

    /// The algorithm cannot have been made by a key of this kind.
    #[error("signature algorithm {algorithm} does not fit the {key} key")]
    AlgorithmMismatch {
        /// The algorithm named by the bundle or the caller.
        algorithm: SignatureAlgorithm,
        /// The key's kind.
        key: KeyKind,
    },

    /// An RSA key and no algorithm name: PSS or PKCS#1 v1.5 cannot be told.
    #[error(
        "the signature does not name its algorithm, and the {key} key can sign with PSS or PKCS#1 v1.5"
    )]
    AmbiguousRsaPadding {
        /// The key's kind.
        key: KeyKind,
    },

    /// An algorithm name that modelseal does not know.
    #[error("unknown signature algorithm {name:?}")]
    UnknownAlgorithm {
        /// The name given (at most 64 characters of it).
        name: String,
    },

    /// A digest was given for an algorithm that signs the whole message
    /// (Ed25519).
    #[error("{algorithm} signs the whole message, not a digest of it")]
    WholeMessageRequired {
        /// The algorithm.
        algorithm: SignatureAlgorithm,
    },

    /// The signature does not verify. Deliberately without detail.
    #[error("invalid signature")]
    InvalidSignature,
}

/// How the salt length of an RSA-PSS signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PssSaltLength {
    /// The salt must be exactly as long as the hash (bundles, modelseal's
    /// own signatures).
    #[default]
    HashLength,
    /// Any salt length, recovered from the signature (OpenSSL's default when
    /// verifying; `openssl dgst -sigopt rsa_padding_mode:pss` signs with the
    /// maximum salt length by default).
    Auto,
}

/// The closed set of verification keys.
#[derive(Clone)]
enum Inner {
    Rsa(Box<rsa::PublicKey>),
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
    EcdsaP384(p384::ecdsa::VerifyingKey),
}

/// A public key: RSA, Ed25519, ECDSA P-256 or ECDSA P-384.
///
/// Opaque so that the canonical SPKI encoding, computed once at load time,
/// is available without a fallible call; [`PublicKey::key_kind`] tells the
/// family. Two keys are equal when their SPKI encodings are.
#[derive(Clone)]
pub struct PublicKey {
    inner: Inner,
    spki: Vec<u8>,
}

impl PublicKey {
    /// Loads a DER `SubjectPublicKeyInfo` (strict DER, no trailing bytes).
    ///
    /// # Errors
    ///
    /// [`SignatureError::MalformedKey`] when the DER or the key is invalid,
    /// [`SignatureError::UnsupportedKey`] for other algorithms and curves
    /// (RSASSA-PSS-restricted keys included), [`SignatureError::RsaKeyTooLarge`]
    /// above 8192 bits.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, SignatureError> {
        let info = SubjectPublicKeyInfoRef::from_der(der).map_err(malformed)?;
        let oid = info.algorithm.oid;
        let inner = if oid == OID_RSA {
            // RFC 3279: the parameters of rsaEncryption are an explicit NULL.
            if !info.algorithm.parameters.is_some_and(|p| p.is_null()) {
                return Err(malformed("rsaEncryption parameters are not NULL"));
            }
            let bits = info
                .subject_public_key
                .as_bytes()
                .ok_or_else(|| malformed("public key BIT STRING has unused bits"))?;
            rsa_from_pkcs1(bits)?
        } else if oid == OID_ED25519 {
            Inner::Ed25519(ed25519_dalek::VerifyingKey::try_from(info).map_err(malformed)?)
        } else if oid == OID_EC {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|e| malformed(format_args!("EC key without a named curve: {e}")))?;
            if curve == OID_P256 {
                Inner::EcdsaP256(p256::ecdsa::VerifyingKey::try_from(info).map_err(malformed)?)
            } else if curve == OID_P384 {
                Inner::EcdsaP384(p384::ecdsa::VerifyingKey::try_from(info).map_err(malformed)?)
            } else {
                return Err(SignatureError::UnsupportedKey {
                    algorithm: format!("on curve {}", describe_oid(&curve.to_string())),
                });
            }
        } else {
            return Err(SignatureError::UnsupportedKey {
                algorithm: describe_oid(&oid.to_string()),
            });
        };
        PublicKey::new(inner)
    }

    /// SHA-256 of [`PublicKey::spki_der`], lowercase hex: the key's
    /// identity (see [`canonical_spki`]).
    pub fn spki_sha256(&self) -> String {
        crate::cert::hex(&sha2::Sha256::digest(&self.spki))
    }

    /// Loads a PEM public key: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY`
    /// (PKCS#1). Surrounding whitespace and text before the block are
    /// ignored; the input must hold exactly one block.
    ///
    /// # Errors
    ///
    /// [`SignatureError::MalformedKey`] for broken PEM,
    /// [`SignatureError::UnexpectedPemLabel`] for other blocks, and the
    /// errors of [`PublicKey::from_spki_der`].
    pub fn from_pem(pem: &[u8]) -> Result<PublicKey, SignatureError> {
        let pem = pem.trim_ascii();
        let mut decoder = Decoder::new_detect_wrap(pem).map_err(malformed)?;
        let label = decoder.type_label();
        if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
            return Err(SignatureError::UnexpectedPemLabel {
                label: label.chars().take(64).collect(),
            });
        }
        let mut der = vec![0u8; decoder.remaining_len()];
        let len = decoder.decode(&mut der).map_err(malformed)?.len();
        if !decoder.is_finished() {
            return Err(malformed("PEM body is longer than decoded"));
        }
        der.truncate(len);
        if label == "PUBLIC KEY" {
            PublicKey::from_spki_der(&der)
        } else {
            PublicKey::new(rsa_from_pkcs1(&der)?)
        }
    }

    /// RSA keys written with the rsaEncryption parameters absent (some
    /// encoders do; RFC 3279 wants NULL): for [`canonical_spki`] only,
    /// never to verify with.
    fn rsa_without_parameters(der: &[u8]) -> Option<PublicKey> {
        let info = SubjectPublicKeyInfoRef::from_der(der).ok()?;
        if info.algorithm.oid != OID_RSA || info.algorithm.parameters.is_some() {
            return None;
        }
        let bits = info.subject_public_key.as_bytes()?;
        PublicKey::new(rsa_from_pkcs1(bits).ok()?).ok()
    }

    fn new(inner: Inner) -> Result<PublicKey, SignatureError> {
        let document = match &inner {
            Inner::Rsa(key) => key.to_public_key_der(),
            Inner::Ed25519(key) => key.to_public_key_der(),
            Inner::EcdsaP256(key) => key.to_public_key_der(),
            Inner::EcdsaP384(key) => key.to_public_key_der(),
        }
        .map_err(malformed)?;
        Ok(PublicKey {
            inner,
            spki: document.into_vec(),
        })
    }

    /// The key's family (and RSA modulus size).
    pub fn key_kind(&self) -> KeyKind {
        match &self.inner {
            Inner::Rsa(key) => KeyKind::Rsa {
                bits: key.n().bit_width_vartime() as usize,
            },
            Inner::Ed25519(_) => KeyKind::Ed25519,
            Inner::EcdsaP256(_) => KeyKind::EcP256,
            Inner::EcdsaP384(_) => KeyKind::EcP384,
        }
    }

    /// The canonical DER `SubjectPublicKeyInfo` of the key (re-encoded, so
    /// equal keys give equal bytes).
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Verifies `sig` over the whole message `msg` with `alg` (RSA-PSS with a
    /// salt as long as the hash).
    ///
    /// # Errors
    ///
    /// [`SignatureError::AlgorithmMismatch`] when `alg` does not fit the key,
    /// [`SignatureError::WeakKey`] for RSA keys below 2048 bits, otherwise
    /// [`SignatureError::InvalidSignature`] for every verification failure.
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureError> {
        self.verify_with_pss_salt(alg, msg, sig, PssSaltLength::HashLength)
    }

    /// The key can make `alg` signatures and is strong enough to be
    /// trusted (RSA of at least 2048 bits).
    fn check_usable(&self, alg: SignatureAlgorithm) -> Result<(), SignatureError> {
        let kind = self.key_kind();
        if !alg.fits(kind) {
            return Err(SignatureError::AlgorithmMismatch {
                algorithm: alg,
                key: kind,
            });
        }
        if let KeyKind::Rsa { bits } = kind
            && bits < RSA_MIN_BITS
        {
            return Err(SignatureError::WeakKey { bits });
        }
        Ok(())
    }

    /// [`PublicKey::verify`] with a choice of RSA-PSS salt check; `salt` has
    /// no effect on the other algorithms. Bundles always use
    /// [`PublicKey::verify`]; [`PssSaltLength::Auto`] is for detached
    /// signatures made by OpenSSL with its default salt length.
    ///
    /// # Errors
    ///
    /// As [`PublicKey::verify`].
    pub fn verify_with_pss_salt(
        &self,
        alg: SignatureAlgorithm,
        msg: &[u8],
        sig: &[u8],
        salt: PssSaltLength,
    ) -> Result<(), SignatureError> {
        self.check_usable(alg)?;
        let verified = match &self.inner {
            Inner::Rsa(key) => verify_rsa(key, alg, msg, sig, salt),
            Inner::Ed25519(key) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|sig| key.verify_strict(msg, &sig).is_ok()),
            Inner::EcdsaP256(key) => p256::ecdsa::DerSignature::from_bytes(sig)
                .is_ok_and(|sig| key.verify(msg, &sig).is_ok()),
            Inner::EcdsaP384(key) => p384::ecdsa::DerSignature::from_bytes(sig)
                .is_ok_and(|sig| key.verify(msg, &sig).is_ok()),
        };
        if verified {
            Ok(())
        } else {
            Err(SignatureError::InvalidSignature)
        }
    }
}

impl PublicKey {
    /// Verifies `sig` over a message given by its digest: `digest` is the
    /// message hashed with the hash `alg` names (SHA-256 for
    /// `rsa-pkcs1v15-sha256` and `ecdsa-p256-sha256`, SHA-384 for
    /// `ecdsa-p384-sha384`, ...). Lets a detached signature over a file of
    /// any size be checked from a streamed digest. The checks are those of
    /// [`PublicKey::verify_with_pss_salt`] (same DER strictness, same PSS
    /// salt rule).
    ///
    /// # Errors
    ///
    /// [`SignatureError::WholeMessageRequired`] for Ed25519, otherwise as
    /// [`PublicKey::verify`]; a digest of the wrong length is an
    /// [`SignatureError::InvalidSignature`].
    pub fn verify_prehashed(
        &self,
        alg: SignatureAlgorithm,
        digest: &[u8],
        sig: &[u8],
        salt: PssSaltLength,
    ) -> Result<(), SignatureError> {
        use signature::hazmat::PrehashVerifier;
        self.check_usable(alg)?;
        let Some(hash) = modelseal_manifest::MessageHash::of(alg) else {
            return Err(SignatureError::WholeMessageRequired { algorithm: alg });
        };
        if digest.len() != hash.output_len() {
            return Err(SignatureError::InvalidSignature);
        }
        let verified = match &self.inner {
            Inner::Rsa(key) => verify_rsa_prehashed(key, alg, digest, sig, salt),
            Inner::Ed25519(_) => {
                return Err(SignatureError::WholeMessageRequired { algorithm: alg });
            }
            Inner::EcdsaP256(key) => p256::ecdsa::DerSignature::from_bytes(sig)
                .is_ok_and(|sig| key.verify_prehash(digest, &sig).is_ok()),
            Inner::EcdsaP384(key) => p384::ecdsa::DerSignature::from_bytes(sig)
                .is_ok_and(|sig| key.verify_prehash(digest, &sig).is_ok()),
        };
        if verified {
            Ok(())
        } else {
            Err(SignatureError::InvalidSignature)
        }
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kind", &format_args!("{}", self.key_kind()))
            .finish_non_exhaustive()
    }
}

/// The algorithm to verify with, from the key and the signature's
/// unauthenticated hint (DSSE `keyid`): an empty hint means the key's only
/// algorithm ([`SignatureAlgorithm::infer`]), a name must fit the key.
///
/// # Errors
///
/// [`SignatureError::AmbiguousRsaPadding`] for an RSA key without a hint,
/// [`SignatureError::UnknownAlgorithm`] for an unknown name,
/// [`SignatureError::AlgorithmMismatch`] when the named algorithm does not
/// fit the key.
pub fn algorithm_for(kind: KeyKind, hint: &str) -> Result<SignatureAlgorithm, SignatureError> {
    if hint.is_empty() {
        return SignatureAlgorithm::infer(kind)
            .ok_or(SignatureError::AmbiguousRsaPadding { key: kind });
    }
    let algorithm: SignatureAlgorithm =
        hint.parse().map_err(|_| SignatureError::UnknownAlgorithm {
            name: hint.chars().take(64).collect(),
        })?;
    if algorithm.fits(kind) {
        Ok(algorithm)
    } else {
        Err(SignatureError::AlgorithmMismatch {
            algorithm,
            key: kind,
        })
    }
}

fn malformed(detail: impl fmt::Display) -> SignatureError {
    SignatureError::MalformedKey {
        detail: detail.to_string(),
    }
}

/// Builds an RSA key from a PKCS#1 `RSAPublicKey`, accepting any size up to
/// 8192 bits (small keys are refused at verification with their size).
fn rsa_from_pkcs1(der: &[u8]) -> Result<Inner, SignatureError> {
    let parsed = RsaPublicKeyRef::from_der(der).map_err(malformed)?;
    let n = BoxedUint::from_be_slice_vartime(parsed.modulus.as_bytes());
    let e = BoxedUint::from_be_slice_vartime(parsed.public_exponent.as_bytes());
    let bits = n.bit_width_vartime() as usize;
    if bits > RSA_MAX_BITS {
        return Err(SignatureError::RsaKeyTooLarge { bits });
    }
    let key = rsa::PublicKey::new_with_size_limits(n, e, 1..=RSA_MAX_BITS).map_err(malformed)?;
    Ok(Inner::Rsa(Box::new(key)))
}

fn verify_rsa(
    key: &rsa::PublicKey,
    alg: SignatureAlgorithm,
    msg: &[u8],
    sig: &[u8],
    salt: PssSaltLength,
) -> bool {
    // Hash with the algorithm's digest, then one verification path for
    // whole messages and pre-hashed ones alike.
    let digest = match alg {
        SignatureAlgorithm::RsaPssSha256 | SignatureAlgorithm::RsaPkcs1Sha256 => {
            Sha256::digest(msg).to_vec()
        }
        SignatureAlgorithm::RsaPssSha384 | SignatureAlgorithm::RsaPkcs1Sha384 => {
            Sha384::digest(msg).to_vec()
        }
        SignatureAlgorithm::RsaPssSha512 | SignatureAlgorithm::RsaPkcs1Sha512 => {
            Sha512::digest(msg).to_vec()
        }
        _ => return false,
    };
    verify_rsa_prehashed(key, alg, &digest, sig, salt)
}

fn verify_rsa_prehashed(
    key: &rsa::PublicKey,
    alg: SignatureAlgorithm,
    digest: &[u8],
    sig: &[u8],
    salt: PssSaltLength,
) -> bool {
    let result = match alg {
        SignatureAlgorithm::RsaPssSha256 => pss_prehashed::<Sha256>(key, digest, sig, salt),
        SignatureAlgorithm::RsaPssSha384 => pss_prehashed::<Sha384>(key, digest, sig, salt),
        SignatureAlgorithm::RsaPssSha512 => pss_prehashed::<Sha512>(key, digest, sig, salt),
        SignatureAlgorithm::RsaPkcs1Sha256 => key.pkcs1v15_verify_prehash::<Sha256>(digest, sig),
        SignatureAlgorithm::RsaPkcs1Sha384 => key.pkcs1v15_verify_prehash::<Sha384>(digest, sig),
        SignatureAlgorithm::RsaPkcs1Sha512 => key.pkcs1v15_verify_prehash::<Sha512>(digest, sig),
        _ => return false,
    };
    result.is_ok()
}

fn pss_prehashed<D: Digest + FixedOutputReset>(
    key: &rsa::PublicKey,
    digest: &[u8],
    sig: &[u8],
    salt: PssSaltLength,
) -> rsa::Result<()> {
    match salt {
        PssSaltLength::HashLength => key.pss_verify_prehash::<D>(digest, sig),
        PssSaltLength::Auto => {
            let scheme = Pss {
                blinded: false,
                digest: D::new(),
                salt_len: None,
            };
            key.verify(scheme, digest, sig)
        }
    }
}

/// The canonical DER `SubjectPublicKeyInfo` of the key in `der`: the one
/// encoding by which modelseal identifies a key, so that the same key
/// written two ways (a CA copying a CSR's compressed point, an encoder
/// leaving out RSA's NULL parameters) is one signer for a quorum and
/// matches one `spkiSha256` deny entry.
///
/// - EC (P-256, P-384): the named curve and the **uncompressed** point.
/// - RSA: rsaEncryption with **NULL** parameters, the PKCS#1 key in DER.
/// - Ed25519: the algorithm with no parameters and the 32-byte key.
/// - Anything else (keys modelseal cannot verify with): the bytes as given.
///
/// `spkiSha256` everywhere (certificate facts, `--json`, deny lists, audit
/// records) is SHA-256 over these bytes.
pub fn canonical_spki(der: &[u8]) -> Vec<u8> {
    PublicKey::from_spki_der(der)
        .ok()
        .or_else(|| PublicKey::rsa_without_parameters(der))
        .map_or_else(|| der.to_vec(), |k| k.spki)
}
