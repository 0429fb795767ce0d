//! Private signing keys: loading from PEM, signing, exporting the public key.
//!
//! # Schemes
//!
//! | key | signature |
//! | --- | --- |
//! | RSA 2048..=8192 bits | RSASSA-PSS (MGF1 with the same hash, salt length = hash length) or RSASSA-PKCS1-v1_5, with SHA-256/384/512 ([`RsaScheme`]) |
//! | Ed25519 | pure Ed25519 (RFC 8032), 64 bytes |
//! | ECDSA P-256 | SHA-256, ASN.1 DER `ECDSA-Sig-Value`, deterministic nonces (RFC 6979) |
//! | ECDSA P-384 | SHA-384, ASN.1 DER `ECDSA-Sig-Value`, deterministic nonces (RFC 6979) |
//!
//! The DER form is what `model_signing` and `openssl dgst -sign` write.
//!
//! # RSA and RUSTSEC-2023-0071 (Marvin)
//!
//! RUSTSEC-2023-0071 reported that the `rsa` crate's private-key operations
//! leaked timing through its variable-time big-integer backend
//! (`num-bigint-dig`), enough for key recovery by a network attacker who can
//! time many private-key operations (the Marvin attack). `rsa` 0.10, which
//! this crate uses, states in its changelog that it:
//!
//! - replaced `num-bigint-dig` with `crypto-bigint`, whose modular
//!   exponentiation is constant-time;
//! - hardened private-key operations following `draft-irtf-cfrg-rsa-guidance`:
//!   base, exponent and CRT-modulus blinding with fresh factors for every
//!   operation, plus a constant-time validation harness (`cargo checkct`);
//! - replaced PKCS#1 v1.5 *decryption* errors with implicit rejection.
//!
//! What remains: the implementation has diverged from its last audit and has
//! not been re-audited; the crate's README tracks further constant-time work
//! (RustCrypto/RSA#711), and its `pkcs1v15` module still links an open
//! Marvin issue (RustCrypto/RSA#626), which concerns decryption padding
//! oracles. modelseal never decrypts with RSA, and it signs locally rather
//! than answering signing requests from a network peer, so the attacker the
//! advisory describes has no oracle here. Blinding is nevertheless made
//! explicit: signing calls the `*_with_rng` APIs with the operating-system
//! RNG ([`getrandom::SysRng`]), so blinding cannot silently disappear if the
//! `rsa` crate's `getrandom` default feature is ever turned off.
//!
//! # Secrets
//!
//! The key types of `rsa`, `ed25519-dalek` and `ecdsa` zeroize themselves on
//! drop; the decoded DER and decrypted PKCS#8 buffers are zeroized by the
//! loader; the passphrase is only borrowed. [`fmt::Debug`] shows the algorithm
//! and key size only, and [`KeyError`] never carries key bytes.

mod load;

use std::fmt;

use modelseal_manifest::{KeyKind, SignatureAlgorithm};
use pkcs8::der::pem::LineEnding;
use rsa::traits::PublicKeyParts;
use sha2::{Sha256, Sha384, Sha512};
use signature::Signer;
use spki::EncodePublicKey;

use crate::error::KeyError;
use load::Loaded;

/// RSA padding mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
// Closed by definition: PKCS #1 (RFC 8017) defines exactly two RSA
// signature schemes, PKCS1-v1_5 and PSS.
#[allow(clippy::exhaustive_enums)]
pub enum RsaPadding {
    /// RSASSA-PSS, MGF1 with the signature hash, salt length = hash length.
    #[default]
    Pss,
    /// RSASSA-PKCS1-v1_5.
    Pkcs1v15,
}

/// Hash used with an RSA key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RsaHash {
    /// SHA-256.
    #[default]
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// How an RSA key signs: padding and hash. The default is RSA-PSS with
/// SHA-256 (`rsa-pss-sha256`). Keys of other types ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RsaScheme {
    /// Padding mode.
    pub padding: RsaPadding,
    /// Hash function.
    pub hash: RsaHash,
}

impl RsaScheme {
    /// A scheme from its padding and hash.
    pub const fn new(padding: RsaPadding, hash: RsaHash) -> Self {
        RsaScheme { padding, hash }
    }

    /// The signature algorithm this scheme produces.
    pub fn algorithm(self) -> SignatureAlgorithm {
        match (self.padding, self.hash) {
            (RsaPadding::Pss, RsaHash::Sha256) => SignatureAlgorithm::RsaPssSha256,
            (RsaPadding::Pss, RsaHash::Sha384) => SignatureAlgorithm::RsaPssSha384,
            (RsaPadding::Pss, RsaHash::Sha512) => SignatureAlgorithm::RsaPssSha512,
            (RsaPadding::Pkcs1v15, RsaHash::Sha256) => SignatureAlgorithm::RsaPkcs1Sha256,
            (RsaPadding::Pkcs1v15, RsaHash::Sha384) => SignatureAlgorithm::RsaPkcs1Sha384,
            (RsaPadding::Pkcs1v15, RsaHash::Sha512) => SignatureAlgorithm::RsaPkcs1Sha512,
        }
    }

    /// The scheme of an RSA signature algorithm; `None` for the others.
    pub fn from_algorithm(algorithm: SignatureAlgorithm) -> Option<Self> {
        RsaScheme::ALL
            .into_iter()
            .find(|s| s.algorithm() == algorithm)
    }

    const ALL: [RsaScheme; 6] = [
        RsaScheme::new(RsaPadding::Pss, RsaHash::Sha256),
        RsaScheme::new(RsaPadding::Pss, RsaHash::Sha384),
        RsaScheme::new(RsaPadding::Pss, RsaHash::Sha512),
        RsaScheme::new(RsaPadding::Pkcs1v15, RsaHash::Sha256),
        RsaScheme::new(RsaPadding::Pkcs1v15, RsaHash::Sha384),
        RsaScheme::new(RsaPadding::Pkcs1v15, RsaHash::Sha512),
    ];
}

/// The closed set of private keys modelseal signs with.
enum Inner {
    Rsa {
        key: Box<rsa::PrivateKey>,
        scheme: RsaScheme,
    },
    Ed25519(Box<ed25519_dalek::SigningKey>),
    EcdsaP256(Box<p256::ecdsa::SigningKey>),
    EcdsaP384(Box<p384::ecdsa::SigningKey>),
    /// In a PKCS#11 token: only a handle here.
    Token(Box<crate::pkcs11::TokenKey>),
}

/// A private key ready to sign: RSA (with its [`RsaScheme`]), Ed25519,
/// ECDSA P-256 or ECDSA P-384.
///
/// The key family is closed (see [`SigningKey::key_kind`]); the value is
/// opaque so that only validated keys (RSA of 2048 bits or more, points on
/// a supported curve) exist, and so that the public key, encoded once at
/// load time, is available without a fallible call.
pub struct SigningKey {
    inner: Inner,
    spki_der: Vec<u8>,
    spki_pem: String,
}

impl SigningKey {
    /// Loads a private key from PEM text.
    ///
    /// Accepted blocks: `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE KEY`
    /// (PKCS#8 with PBES2, needs `passphrase`), `RSA PRIVATE KEY` (PKCS#1)
    /// and `EC PRIVATE KEY` (SEC1, P-256 or P-384). Text before the block and
    /// leading `EC PARAMETERS` blocks are skipped; the first key block is
    /// used. A passphrase given for an unencrypted key is ignored. `rsa`
    /// selects padding and hash for an RSA key and is ignored otherwise.
    ///
    /// # Errors
    ///
    /// - [`KeyError::NotPem`], [`KeyError::MalformedPem`],
    ///   [`KeyError::UnexpectedLabel`], [`KeyError::LegacyEncryptedPem`]:
    ///   the PEM framing is missing, broken or not a private key;
    /// - [`KeyError::MalformedKey`]: the DER inside does not decode or the
    ///   key is inconsistent;
    /// - [`KeyError::PassphraseRequired`], [`KeyError::WrongPassphrase`],
    ///   [`KeyError::UnsupportedEncryption`]: encrypted keys;
    /// - [`KeyError::WeakRsaKey`] (below 2048 bits),
    ///   [`KeyError::RsaKeyTooLarge`] (above 8192 bits),
    ///   [`KeyError::UnsupportedCurve`], [`KeyError::UnsupportedKeyType`].
    pub fn from_pem(
        pem: &[u8],
        passphrase: Option<&[u8]>,
        rsa: RsaScheme,
    ) -> Result<SigningKey, KeyError> {
        let (loaded, format) = load::load(pem, passphrase)?;
        let inner = match loaded {
            Loaded::Rsa(key) => Inner::Rsa { key, scheme: rsa },
            Loaded::Ed25519(key) => Inner::Ed25519(key),
            Loaded::P256(key) => Inner::EcdsaP256(key),
            Loaded::P384(key) => Inner::EcdsaP384(key),
        };
        let document = match &inner {
            Inner::Rsa { key, .. } => key.as_public_key().to_public_key_der(),
            Inner::Ed25519(key) => key.verifying_key().to_public_key_der(),
            Inner::EcdsaP256(key) => key.verifying_key().to_public_key_der(),
            Inner::EcdsaP384(key) => key.verifying_key().to_public_key_der(),
            Inner::Token(k) => {
                spki::Document::try_from(k.public_key_der()).map_err(spki::Error::from)
            }
        }
        .map_err(|e| KeyError::MalformedKey {
            format,
            detail: format!("cannot encode the public key: {e}"),
        })?;
        let spki_pem =
            document
                .to_pem("PUBLIC KEY", LineEnding::LF)
                .map_err(|e| KeyError::MalformedKey {
                    format,
                    detail: format!("cannot encode the public key: {e}"),
                })?;
        Ok(SigningKey {
            inner,
            spki_der: document.into_vec(),
            spki_pem,
        })
    }

    /// A key in a PKCS#11 token ([`crate::pkcs11::open`]).
    ///
    /// # Errors
    /// [`KeyError::MalformedKey`] when its public key cannot be encoded as PEM.
    pub fn from_token(key: crate::pkcs11::TokenKey) -> Result<SigningKey, KeyError> {
        let spki_der = key.public_key_der().to_vec();
        let spki_pem = modelseal_manifest::spki_pem(&spki_der);
        Ok(SigningKey {
            inner: Inner::Token(Box::new(key)),
            spki_der,
            spki_pem,
        })
    }

    /// Where the key lives, for messages: `pkcs11:...` (without the PIN)
    /// for a token key, `None` for a key loaded from a file.
    pub fn token_uri(&self) -> Option<&str> {
        match &self.inner {
            Inner::Token(k) => Some(k.label()),
            _ => None,
        }
    }

    /// The algorithm [`SigningKey::sign`] uses.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match &self.inner {
            Inner::Token(k) => k.algorithm(),
            Inner::Rsa { scheme, .. } => scheme.algorithm(),
            Inner::Ed25519(_) => SignatureAlgorithm::Ed25519,
            Inner::EcdsaP256(_) => SignatureAlgorithm::EcdsaP256Sha256,
            Inner::EcdsaP384(_) => SignatureAlgorithm::EcdsaP384Sha384,
        }
    }

    /// The key's family (and RSA modulus size).
    pub fn key_kind(&self) -> KeyKind {
        match &self.inner {
            Inner::Token(k) => k.key_kind(),
            Inner::Rsa { key, .. } => KeyKind::Rsa {
                bits: key.n().bit_width_vartime() as usize,
            },
            Inner::Ed25519(_) => KeyKind::Ed25519,
            Inner::EcdsaP256(_) => KeyKind::EcP256,
            Inner::EcdsaP384(_) => KeyKind::EcP384,
        }
    }

    /// Signs `msg` (the whole message; it is hashed here) with
    /// [`SigningKey::algorithm`].
    ///
    /// RSA signatures are as long as the modulus, Ed25519 signatures are 64
    /// bytes, ECDSA signatures are ASN.1 DER.
    ///
    /// # Errors
    ///
    /// [`KeyError::Signing`] when the operation fails, which for RSA means
    /// the operating system's random number generator (salt, blinding)
    /// failed; the others do not fail in practice.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |e: &dyn fmt::Display| KeyError::Signing {
            detail: e.to_string(),
        };
        match &self.inner {
            Inner::Token(k) => k.sign(msg),
            Inner::Rsa { key, scheme } => {
                let mut rng = getrandom::SysRng;
                let signed = match (scheme.padding, scheme.hash) {
                    (RsaPadding::Pss, RsaHash::Sha256) => {
                        key.pss_sign_with_rng::<Sha256, _>(&mut rng, msg)
                    }
                    (RsaPadding::Pss, RsaHash::Sha384) => {
                        key.pss_sign_with_rng::<Sha384, _>(&mut rng, msg)
                    }
                    (RsaPadding::Pss, RsaHash::Sha512) => {
                        key.pss_sign_with_rng::<Sha512, _>(&mut rng, msg)
                    }
                    (RsaPadding::Pkcs1v15, RsaHash::Sha256) => {
                        key.pkcs1v15_sign_with_rng::<Sha256, _>(&mut rng, msg)
                    }
                    (RsaPadding::Pkcs1v15, RsaHash::Sha384) => {
                        key.pkcs1v15_sign_with_rng::<Sha384, _>(&mut rng, msg)
                    }
                    (RsaPadding::Pkcs1v15, RsaHash::Sha512) => {
                        key.pkcs1v15_sign_with_rng::<Sha512, _>(&mut rng, msg)
                    }
                };
                signed.map_err(|e| failed(&e))
            }
            Inner::Ed25519(key) => {
                let sig: ed25519_dalek::Signature = key.try_sign(msg).map_err(|e| failed(&e))?;
                Ok(sig.to_bytes().to_vec())
            }
            Inner::EcdsaP256(key) => {
                let sig: p256::ecdsa::DerSignature = key.try_sign(msg).map_err(|e| failed(&e))?;
                Ok(sig.as_bytes().to_vec())
            }
            Inner::EcdsaP384(key) => {
                let sig: p384::ecdsa::DerSignature = key.try_sign(msg).map_err(|e| failed(&e))?;
                Ok(sig.as_bytes().to_vec())
            }
        }
    }

    /// Signs a message given by its digest with [`SigningKey::algorithm`]:
    /// `digest` is the message hashed with the algorithm's hash (SHA-256
    /// for `rsa-pkcs1v15-sha256` and `ecdsa-p256-sha256`, SHA-384 for
    /// `ecdsa-p384-sha384`, ...). The signature is the one
    /// [`SigningKey::sign`] makes over the message itself (RSA-PSS salts
    /// are random); it lets a file of any size be signed from a streamed
    /// digest, as `openssl dgst -sign` does.
    ///
    /// # Errors
    ///
    /// [`KeyError::Signing`] for an Ed25519 key (pure Ed25519 signs the
    /// message itself), a digest of the wrong length, or a failed RSA
    /// operation.
    pub fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        use signature::hazmat::PrehashSigner;
        let failed = |e: &dyn fmt::Display| KeyError::Signing {
            detail: e.to_string(),
        };
        let algorithm = self.algorithm();
        let Some(hash) = modelseal_manifest::MessageHash::of(algorithm) else {
            return Err(failed(&format_args!(
                "{algorithm} signs the whole message, not a digest of it"
            )));
        };
        if digest.len() != hash.output_len() {
            return Err(failed(&format_args!(
                "a {hash} digest is {} bytes, got {}",
                hash.output_len(),
                digest.len()
            )));
        }
        match &self.inner {
            Inner::Token(k) => k.sign_prehashed(digest),
            Inner::Rsa { key, scheme } => {
                let mut rng = getrandom::SysRng;
                let signed = match (scheme.padding, scheme.hash) {
                    (RsaPadding::Pss, RsaHash::Sha256) => {
                        key.pss_sign_prehash_with_rng::<Sha256, _>(&mut rng, digest)
                    }
                    (RsaPadding::Pss, RsaHash::Sha384) => {
                        key.pss_sign_prehash_with_rng::<Sha384, _>(&mut rng, digest)
                    }
                    (RsaPadding::Pss, RsaHash::Sha512) => {
                        key.pss_sign_prehash_with_rng::<Sha512, _>(&mut rng, digest)
                    }
                    (RsaPadding::Pkcs1v15, RsaHash::Sha256) => {
                        key.pkcs1v15_sign_prehash_with_rng::<Sha256, _>(&mut rng, digest)
                    }
                    (RsaPadding::Pkcs1v15, RsaHash::Sha384) => {
                        key.pkcs1v15_sign_prehash_with_rng::<Sha384, _>(&mut rng, digest)
                    }
                    (RsaPadding::Pkcs1v15, RsaHash::Sha512) => {
                        key.pkcs1v15_sign_prehash_with_rng::<Sha512, _>(&mut rng, digest)
                    }
                };
                signed.map_err(|e| failed(&e))
            }
            Inner::Ed25519(_) => Err(failed(&"Ed25519 signs the whole message")),
            Inner::EcdsaP256(key) => {
                let sig: p256::ecdsa::DerSignature =
                    key.sign_prehash(digest).map_err(|e| failed(&e))?;
                Ok(sig.as_bytes().to_vec())
            }
            Inner::EcdsaP384(key) => {
                let sig: p384::ecdsa::DerSignature =
                    key.sign_prehash(digest).map_err(|e| failed(&e))?;
                Ok(sig.as_bytes().to_vec())
            }
        }
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.spki_der.clone()
    }

    /// The key's fingerprint: lowercase hex SHA-256 of its DER
    /// `SubjectPublicKeyInfo`, the form every modelseal message, report and
    /// audit record uses (`sha256:<hex>`; the verifier's `spki_sha256`).
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(&self.spki_der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`, 64-column
    /// Base64, LF line endings, trailing newline), byte-identical to what
    /// `openssl pkey -pubout` writes. `model_signing`'s key hint is the
    /// SHA-256 of this text.
    pub fn public_key_pem(&self) -> String {
        self.spki_pem.clone()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key", &format_args!("{}", self.key_kind()))
            .field("algorithm", &format_args!("{}", self.algorithm()))
            .finish_non_exhaustive()
    }
}
