//! Names of the signature algorithms a bundle can carry.
//!
//! The DSSE specification makes `signatures[].keyid` an "unauthenticated hint
//! indicating what key and algorithm was used". modelseal writes the algorithm
//! name there ([`SignatureAlgorithm::name`]), so a verifier can tell RSA-PSS
//! from RSA PKCS#1 v1.5 without trying both. The hint is unauthenticated: a
//! changed hint can only make a valid signature fail, never make an invalid one
//! pass, and policies restrict which algorithms are accepted at all.
//!
//! Bundles from `model_signing` leave `keyid` empty; the algorithm then follows
//! from the key (ECDSA: the curve's hash, Ed25519), see
//! [`SignatureAlgorithm::infer`]. An RSA key with an empty hint is ambiguous
//! and is refused.

use std::fmt;
use std::str::FromStr;

/// A signature scheme with its hash, as modelseal signs and verifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS, MGF1 with the same hash, salt length = hash length.
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512.
    RsaPssSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// Ed25519 (pure, RFC 8032).
    Ed25519,
    /// ECDSA over P-256 with SHA-256, ASN.1 DER signature.
    EcdsaP256Sha256,
    /// ECDSA over P-384 with SHA-384, ASN.1 DER signature.
    EcdsaP384Sha384,
}

/// The family of a public or private key, independent of padding or hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// An RSA key of the given modulus size in bits.
    Rsa {
        /// Modulus length in bits.
        bits: usize,
    },
    /// An Ed25519 key.
    Ed25519,
    /// An ECDSA key on NIST P-256.
    EcP256,
    /// An ECDSA key on NIST P-384.
    EcP384,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyKind::Ed25519 => f.write_str("Ed25519"),
            KeyKind::EcP256 => f.write_str("ECDSA P-256"),
            KeyKind::EcP384 => f.write_str("ECDSA P-384"),
        }
    }
}

impl SignatureAlgorithm {
    /// Every algorithm, in a stable order.
    pub const ALL: [SignatureAlgorithm; 9] = [
        SignatureAlgorithm::RsaPssSha256,
        SignatureAlgorithm::RsaPssSha384,
        SignatureAlgorithm::RsaPssSha512,
        SignatureAlgorithm::RsaPkcs1Sha256,
        SignatureAlgorithm::RsaPkcs1Sha384,
        SignatureAlgorithm::RsaPkcs1Sha512,
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::EcdsaP256Sha256,
        SignatureAlgorithm::EcdsaP384Sha384,
    ];

    /// The stable name written to DSSE `keyid`, `--json` output and policies.
    pub fn name(self) -> &'static str {
        match self {
            SignatureAlgorithm::RsaPssSha256 => "rsa-pss-sha256",
            SignatureAlgorithm::RsaPssSha384 => "rsa-pss-sha384",
            SignatureAlgorithm::RsaPssSha512 => "rsa-pss-sha512",
            SignatureAlgorithm::RsaPkcs1Sha256 => "rsa-pkcs1v15-sha256",
            SignatureAlgorithm::RsaPkcs1Sha384 => "rsa-pkcs1v15-sha384",
            SignatureAlgorithm::RsaPkcs1Sha512 => "rsa-pkcs1v15-sha512",
            SignatureAlgorithm::Ed25519 => "ed25519",
            SignatureAlgorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            SignatureAlgorithm::EcdsaP384Sha384 => "ecdsa-p384-sha384",
        }
    }

    /// Whether a key of `kind` can make signatures of this algorithm.
    pub fn fits(self, kind: KeyKind) -> bool {
        matches!(
            (self, kind),
            (
                SignatureAlgorithm::RsaPssSha256
                    | SignatureAlgorithm::RsaPssSha384
                    | SignatureAlgorithm::RsaPssSha512
                    | SignatureAlgorithm::RsaPkcs1Sha256
                    | SignatureAlgorithm::RsaPkcs1Sha384
                    | SignatureAlgorithm::RsaPkcs1Sha512,
                KeyKind::Rsa { .. }
            ) | (SignatureAlgorithm::Ed25519, KeyKind::Ed25519)
                | (SignatureAlgorithm::EcdsaP256Sha256, KeyKind::EcP256)
                | (SignatureAlgorithm::EcdsaP384Sha384, KeyKind::EcP384)
        )
    }

    /// The one algorithm a key implies when the bundle names none
    /// (`keyid` empty, as `model_signing` writes it). RSA has none: its
    /// padding must be named.
    pub fn infer(kind: KeyKind) -> Option<SignatureAlgorithm> {
        match kind {
            KeyKind::Ed25519 => Some(SignatureAlgorithm::Ed25519),
            KeyKind::EcP256 => Some(SignatureAlgorithm::EcdsaP256Sha256),
            KeyKind::EcP384 => Some(SignatureAlgorithm::EcdsaP384Sha384),
            KeyKind::Rsa { .. } => None,
        }
    }

    /// Whether this is one of the RSA schemes.
    pub fn is_rsa(self) -> bool {
        self.fits(KeyKind::Rsa { bits: 0 })
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Names of the key-algorithm and curve OIDs (dotted form) that keys and
/// certificates commonly carry, for error messages about unsupported keys.
const OID_NAMES: [(&str, &str); 17] = [
    ("1.2.840.113549.1.1.1", "rsaEncryption"),
    ("1.2.840.113549.1.1.10", "RSASSA-PSS"),
    ("1.2.840.10045.2.1", "id-ecPublicKey"),
    ("1.2.840.10045.3.1.7", "P-256"),
    ("1.3.132.0.34", "P-384"),
    ("1.3.132.0.35", "P-521"),
    ("1.3.132.0.10", "secp256k1"),
    ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"),
    ("1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1"),
    ("1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1"),
    ("1.2.156.10197.1.301", "SM2"),
    ("1.3.101.110", "X25519"),
    ("1.3.101.111", "X448"),
    ("1.3.101.112", "Ed25519"),
    ("1.3.101.113", "Ed448"),
    ("1.2.840.10040.4.1", "DSA"),
    ("1.2.840.10046.2.1", "X9.42 DH"),
];

/// Describes a key-algorithm or curve OID given in dotted form for an error
/// message: `"P-521 (1.3.132.0.35)"` when the OID is known, the dotted form
/// alone otherwise.
pub fn describe_oid(dotted: &str) -> String {
    match OID_NAMES.iter().find(|(oid, _)| *oid == dotted) {
        Some((oid, name)) => format!("{name} ({oid})"),
        None => dotted.chars().take(128).collect(),
    }
}

/// A name that is not one of [`SignatureAlgorithm::name`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signature algorithm {0:?}")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for SignatureAlgorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SignatureAlgorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| UnknownAlgorithm(s.chars().take(64).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in SignatureAlgorithm::ALL {
            assert!(seen.insert(a.name()));
            assert_eq!(a.name().parse::<SignatureAlgorithm>(), Ok(a));
        }
        assert!("rsa-pss".parse::<SignatureAlgorithm>().is_err());
    }

    #[test]
    fn oids_are_described_by_name_when_known() {
        assert_eq!(describe_oid("1.3.132.0.35"), "P-521 (1.3.132.0.35)");
        assert_eq!(describe_oid("1.3.101.113"), "Ed448 (1.3.101.113)");
        assert_eq!(describe_oid("1.2.3.4"), "1.2.3.4");
    }

    #[test]
    fn inference_follows_the_key() {
        assert_eq!(SignatureAlgorithm::infer(KeyKind::Rsa { bits: 3072 }), None);
        assert_eq!(
            SignatureAlgorithm::infer(KeyKind::EcP384),
            Some(SignatureAlgorithm::EcdsaP384Sha384)
        );
        assert!(SignatureAlgorithm::RsaPkcs1Sha256.fits(KeyKind::Rsa { bits: 4096 }));
        assert!(!SignatureAlgorithm::EcdsaP256Sha256.fits(KeyKind::EcP384));
        assert!(!SignatureAlgorithm::Ed25519.fits(KeyKind::Rsa { bits: 4096 }));
    }
}
