//! A policy's algorithm and revocation rules, and how they are read.
//!
//! **Algorithms.** `allowed` lists the signature algorithms (names as in
//! [`SignatureAlgorithm::name`]) a signature may use; `rsaMinBits` is the
//! smallest RSA modulus accepted for the signing key *and for every RSA key
//! of the certificate path* (intermediates and root). Default: every
//! algorithm modelseal knows (all hash with SHA-256 or stronger) and RSA of
//! 3072 bits or more.
//!
//! **Revocation.** `crls` are CRL files (DER or PEM), checked offline along
//! the validated path ([`modelseal_verifier::validate_chain_with`]);
//! `crlCoverage` says which certificates a list must cover (`leaf`,
//! default; `chain`; `any`), and every listed CRL must be current at the
//! verification time. `deny` lists certificate serial numbers, SHA-256
//! fingerprints of SubjectPublicKeyInfo (`spkiSha256`, the key) and of
//! whole certificates (`certSha256`); a path certificate matching any entry
//! is revoked for this policy.

use std::path::{Path, PathBuf};

use modelseal_manifest::{KeyKind, SignatureAlgorithm};
use modelseal_verifier::RSA_MAX_BITS;
use modelseal_verifier::{CertInfo, Coverage, Crl};
use serde_json::Value;

use crate::read::{self, Problems, Ptr};

/// Default smallest RSA modulus.
pub const DEFAULT_RSA_MIN_BITS: usize = 3072;
/// Largest CRL file read.
const MAX_CRL_FILE: u64 = 16 * 1024 * 1024;

/// Which signature algorithms and key sizes a policy accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmRules {
    allowed: Vec<SignatureAlgorithm>,
    rsa_min_bits: usize,
}

impl Default for AlgorithmRules {
    fn default() -> Self {
        Self {
            allowed: SignatureAlgorithm::ALL.to_vec(),
            rsa_min_bits: DEFAULT_RSA_MIN_BITS,
        }
    }
}

impl AlgorithmRules {
    /// The accepted signature algorithms.
    pub fn allowed(&self) -> &[SignatureAlgorithm] {
        &self.allowed
    }

    /// The smallest RSA modulus accepted, in bits.
    pub fn rsa_min_bits(&self) -> usize {
        self.rsa_min_bits
    }

    /// Judge a signature made with `algorithm` by a key of `signing_key`,
    /// under a path whose keys are `path_keys` (with a name for each).
    /// Returns the detail of a pass.
    ///
    /// # Errors
    /// [`AlgorithmRefused`]: the algorithm or a key is too weak for this
    /// policy.
    pub fn check(
        &self,
        algorithm: SignatureAlgorithm,
        signing_key: KeyKind,
        path_keys: &[(String, KeyKind)],
    ) -> Result<String, AlgorithmRefused> {
        if !self.allowed.contains(&algorithm) {
            return Err(AlgorithmRefused::NotAllowed {
                algorithm,
                allowed: self.allowed.clone(),
            });
        }
        let min_bits = self.rsa_min_bits;
        let weak = |kind: KeyKind| matches!(kind, KeyKind::Rsa { bits } if bits < min_bits);
        if weak(signing_key) {
            return Err(AlgorithmRefused::WeakSigningKey {
                key: signing_key,
                min_bits,
            });
        }
        if let Some((who, kind)) = path_keys.iter().find(|(_, k)| weak(*k)) {
            return Err(AlgorithmRefused::WeakPathKey {
                who: who.clone(),
                key: *kind,
                min_bits,
            });
        }
        Ok(format!("{algorithm}, {signing_key} signing key: allowed"))
    }
}

/// Why [`AlgorithmRules::check`] refused a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AlgorithmRefused {
    /// The signature algorithm is not in the policy's list.
    #[error(
        "{algorithm} is not an allowed algorithm (allowed: {})",
        names(allowed)
    )]
    NotAllowed {
        /// The algorithm used.
        algorithm: SignatureAlgorithm,
        /// The policy's list.
        allowed: Vec<SignatureAlgorithm>,
    },
    /// The signing key is an RSA key below the policy's minimum.
    #[error("the signing key is {key}, below the policy's RSA minimum of {min_bits} bits")]
    WeakSigningKey {
        /// The signing key.
        key: KeyKind,
        /// The policy's minimum modulus.
        min_bits: usize,
    },
    /// A certificate of the path has an RSA key below the policy's minimum.
    #[error("{who} has an {key} key, below the policy's RSA minimum of {min_bits} bits")]
    WeakPathKey {
        /// The certificate (its subject).
        who: String,
        /// Its key.
        key: KeyKind,
        /// The policy's minimum modulus.
        min_bits: usize,
    },
}

fn names(algs: &[SignatureAlgorithm]) -> String {
    algs.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
}

/// Read `algorithms` at `ptr`.
pub(crate) fn load_algorithms(v: &Value, ptr: &Ptr, p: &mut Problems) -> Option<AlgorithmRules> {
    let before = p.len();
    let map = read::object(v, ptr, &["allowed", "rsaMinBits"], &[], p)?;
    let mut rules = AlgorithmRules::default();
    if let Some(list) = map.get("allowed") {
        let mut allowed = Vec::new();
        for (ptr, name) in read::strings(list, &ptr.key("allowed"), true, p).unwrap_or_default() {
            match name.parse::<SignatureAlgorithm>() {
                Ok(a) => allowed.push(a),
                Err(_) => p.add(
                    &ptr,
                    format!(
                        "unknown signature algorithm {name:?} (known: {})",
                        names(&SignatureAlgorithm::ALL)
                    ),
                ),
            }
        }
        rules.allowed = allowed;
    }
    let max = u64::try_from(RSA_MAX_BITS).unwrap_or(u64::MAX);
    if let Some(bits) = map.get("rsaMinBits")
        && let Some(b) = read::integer(bits, &ptr.key("rsaMinBits"), 2048, max, p)
    {
        rules.rsa_min_bits = usize::try_from(b).unwrap_or(usize::MAX);
    }
    (p.len() == before).then_some(rules)
}

/// A policy's deny list, normalized (lowercase hex, serials without
/// leading zeros or separators).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DenyList {
    serials: Vec<String>,
    spki_sha256: Vec<String>,
    cert_sha256: Vec<String>,
}

impl DenyList {
    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.serials.is_empty() && self.spki_sha256.is_empty() && self.cert_sha256.is_empty()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.serials.len() + self.spki_sha256.len() + self.cert_sha256.len()
    }

    /// Why `cert` is denied, if it is.
    pub fn denies(&self, cert: &CertInfo) -> Option<String> {
        let serial = normalize_serial(&cert.serial);
        if serial
            .as_deref()
            .is_some_and(|s| self.serials.iter().any(|d| d == s))
        {
            return Some(format!(
                "{} is denied by serial number {}",
                cert.subject,
                serial.unwrap_or_default()
            ));
        }
        if self.spki_sha256.contains(&cert.spki_sha256) {
            return Some(format!(
                "{} is denied by key fingerprint (SPKI SHA-256 {})",
                cert.subject, cert.spki_sha256
            ));
        }
        if self.cert_sha256.contains(&cert.sha256) {
            return Some(format!(
                "{} is denied by certificate fingerprint (SHA-256 {})",
                cert.subject, cert.sha256
            ));
        }
        None
    }
}

/// Hex serial, optionally `:`-separated, to lowercase without leading zeros.
fn normalize_serial(s: &str) -> Option<String> {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    if hex.is_empty() || hex.len() > 128 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let trimmed = hex.trim_start_matches('0').to_ascii_lowercase();
    Some(if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed
    })
}

/// A SHA-256 fingerprint: 64 hex digits, optionally `:`-separated.
fn normalize_sha256(s: &str) -> Option<String> {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// A policy's revocation sources.
#[derive(Debug, Default)]
pub struct RevocationRules {
    crls: Vec<Crl>,
    crl_files: Vec<PathBuf>,
    coverage: Option<Coverage>,
    deny: DenyList,
}

impl RevocationRules {
    /// The revocation lists.
    pub fn crls(&self) -> &[Crl] {
        &self.crls
    }

    /// The files they were read from.
    pub fn crl_files(&self) -> &[PathBuf] {
        &self.crl_files
    }

    /// Which certificates the lists must cover.
    pub fn coverage(&self) -> Coverage {
        self.coverage.unwrap_or(Coverage::Leaf)
    }

    /// The deny list.
    pub fn deny(&self) -> &DenyList {
        &self.deny
    }

    /// Whether there is anything to check revocation against.
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty() && self.deny.is_empty()
    }
}

/// Read `revocation` at `ptr`.
pub(crate) fn load_revocation(
    v: &Value,
    ptr: &Ptr,
    base: &Path,
    p: &mut Problems,
) -> Option<RevocationRules> {
    let before = p.len();
    let map = read::object(v, ptr, &["crls", "crlCoverage", "deny"], &[], p)?;
    let mut rules = RevocationRules::default();
    if let Some(files) = map.get("crls") {
        for (ptr, written) in read::strings(files, &ptr.key("crls"), false, p).unwrap_or_default() {
            let path = read::resolve(base, written);
            match read::read_limited(&path, MAX_CRL_FILE).and_then(|b| {
                Crl::from_file_bytes(&b).map_err(|source| read::FileError::Certificate {
                    path: path.clone(),
                    source,
                })
            }) {
                Ok(mut lists) => {
                    rules.crls.append(&mut lists);
                    rules.crl_files.push(path);
                }
                Err(reason) => p.add(&ptr, reason.to_string()),
            }
        }
    }
    if let Some(c) = map.get("crlCoverage") {
        let cptr = ptr.key("crlCoverage");
        match read::string(c, &cptr, p) {
            Some("leaf") => rules.coverage = Some(Coverage::Leaf),
            Some("chain") => rules.coverage = Some(Coverage::Chain),
            Some("any") => rules.coverage = Some(Coverage::Any),
            Some(other) => p.add(
                &cptr,
                format!("unknown coverage {other:?} (expected leaf, chain or any)"),
            ),
            None => {}
        }
        if rules.crl_files.is_empty() && map.get("crls").is_none() {
            p.add(&cptr, "crlCoverage needs crls");
        }
    }
    if let Some(d) = map.get("deny") {
        let dptr = ptr.key("deny");
        if let Some(deny) = read::object(d, &dptr, &["serials", "spkiSha256", "certSha256"], &[], p)
        {
            let mut list = |field: &str, norm: fn(&str) -> Option<String>, what: &str| {
                let mut out = Vec::new();
                if let Some(v) = deny.get(field) {
                    for (ptr, s) in read::strings(v, &dptr.key(field), false, p).unwrap_or_default()
                    {
                        match norm(s) {
                            Some(n) => out.push(n),
                            None => p.add(&ptr, format!("not {what}")),
                        }
                    }
                }
                out
            };
            rules.deny.serials = list("serials", normalize_serial, "a hexadecimal serial number");
            rules.deny.spki_sha256 = list(
                "spkiSha256",
                normalize_sha256,
                "a SHA-256 fingerprint (64 hex digits)",
            );
            rules.deny.cert_sha256 = list(
                "certSha256",
                normalize_sha256,
                "a SHA-256 fingerprint (64 hex digits)",
            );
        }
    }
    (p.len() == before).then_some(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_and_fingerprints_normalize() {
        assert_eq!(normalize_serial("13:89").as_deref(), Some("1389"));
        assert_eq!(normalize_serial("001389").as_deref(), Some("1389"));
        assert_eq!(normalize_serial("00").as_deref(), Some("0"));
        assert_eq!(normalize_serial("0xAB"), None);
        assert_eq!(normalize_serial(""), None);
        let fp = "AB".repeat(32);
        assert_eq!(normalize_sha256(&fp), Some("ab".repeat(32)));
        assert_eq!(normalize_sha256("ab"), None);
    }

    #[test]
    fn algorithm_rules_truth_table() {
        use SignatureAlgorithm as A;
        let d = AlgorithmRules::default();
        let rsa = |bits| KeyKind::Rsa { bits };
        let cases = [
            (A::EcdsaP256Sha256, KeyKind::EcP256, vec![], true),
            (A::Ed25519, KeyKind::Ed25519, vec![], true),
            (A::RsaPssSha256, rsa(3072), vec![], true),
            (A::RsaPssSha256, rsa(2048), vec![], false),
            (
                A::RsaPkcs1Sha512,
                rsa(4096),
                vec![("root".to_owned(), rsa(2048))],
                false,
            ),
            (
                A::EcdsaP256Sha256,
                KeyKind::EcP256,
                vec![("root".to_owned(), rsa(4096))],
                true,
            ),
        ];
        for (alg, key, path, ok) in cases {
            assert_eq!(d.check(alg, key, &path).is_ok(), ok, "{alg} {key}");
        }
        let only_ed = AlgorithmRules {
            allowed: vec![A::Ed25519],
            rsa_min_bits: 4096,
        };
        assert_eq!(
            only_ed.check(A::EcdsaP256Sha256, KeyKind::EcP256, &[]),
            Err(AlgorithmRefused::NotAllowed {
                algorithm: A::EcdsaP256Sha256,
                allowed: vec![A::Ed25519],
            })
        );
        assert!(only_ed.check(A::Ed25519, KeyKind::Ed25519, &[]).is_ok());
        assert_eq!(
            d.check(A::RsaPssSha256, rsa(2048), &[]),
            Err(AlgorithmRefused::WeakSigningKey {
                key: rsa(2048),
                min_bits: DEFAULT_RSA_MIN_BITS,
            })
        );
        let refused = d
            .check(
                A::EcdsaP256Sha256,
                KeyKind::EcP256,
                &[("root".into(), rsa(2048))],
            )
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!(
                "root has an {} key, below the policy's RSA minimum of {DEFAULT_RSA_MIN_BITS} bits",
                rsa(2048)
            )
        );
    }
}
