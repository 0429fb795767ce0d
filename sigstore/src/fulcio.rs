//! What a Fulcio certificate says about its subject: the OIDC issuer (two
//! extensions, the deprecated raw one and the DER one) and the identity
//! (SAN: email, URI, or Fulcio's username otherName), and matching them
//! against the required identities, exactly or by regular expression.

use std::fmt;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::der;
use crate::error::{CertificateError, Error, IdentityError};

/// `1.3.6.1.4.1.57264.1.1`: OIDC issuer, raw string (deprecated).
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// `1.3.6.1.4.1.57264.1.8`: OIDC issuer, DER UTF8String.
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// `1.3.6.1.4.1.57264.1.7`: Fulcio's otherName SAN for usernames.
const OID_OTHERNAME_USERNAME: &str = "1.3.6.1.4.1.57264.1.7";

/// The identity a Fulcio certificate vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertIdentity {
    /// The OIDC issuer that authenticated the subject.
    pub issuer: String,
    /// The identities (SAN values: email, URI, username).
    pub sans: Vec<String>,
}

impl fmt::Display for CertIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (issuer {})", self.sans.join(", "), self.issuer)
    }
}

fn cert_err(reason: impl Into<CertificateError>) -> Error {
    Error::Certificate {
        reason: reason.into(),
    }
}

/// Read the issuer and SANs of a Fulcio leaf.
///
/// # Errors
/// [`Error::Certificate`] for a certificate that does not parse,
/// [`Error::Identity`] when the issuer is absent or the two issuer
/// extensions disagree, or when there is no SAN.
pub fn identity(leaf_der: &[u8]) -> Result<CertIdentity, Error> {
    let (_, cert) = X509Certificate::from_der(leaf_der).map_err(cert_err)?;
    identity_of(&cert)
}

/// [`identity`] of a certificate already parsed.
///
/// # Errors
/// As [`identity`].
pub fn identity_of(cert: &X509Certificate<'_>) -> Result<CertIdentity, Error> {
    let mut v1 = None;
    let mut v2 = None;
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        if oid == OID_ISSUER_V1 {
            if v1.is_some() {
                return Err(IdentityError::IssuerConflict.into());
            }
            v1 = Some(
                std::str::from_utf8(ext.value)
                    .map_err(|_| cert_err(CertificateError::IssuerNotUtf8))?
                    .to_owned(),
            );
        } else if oid == OID_ISSUER_V2 {
            if v2.is_some() {
                return Err(IdentityError::IssuerConflict.into());
            }
            v2 = Some(utf8_string(ext.value)?);
        }
    }
    let issuer = match (v1, v2) {
        (None, None) => return Err(IdentityError::NoIssuer.into()),
        (Some(a), Some(b)) if a != b => return Err(IdentityError::IssuerConflict.into()),
        (_, Some(i)) | (Some(i), None) => i,
    };
    let mut sans = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::RFC822Name(s) | GeneralName::URI(s) => sans.push((*s).to_owned()),
                GeneralName::OtherName(oid, value)
                    if oid.to_id_string() == OID_OTHERNAME_USERNAME =>
                {
                    // [0] EXPLICIT UTF8String
                    let (outer, _) = der::read(value).map_err(cert_err)?;
                    sans.push(utf8_string(outer.contents)?);
                }
                _ => {}
            }
        }
    }
    if sans.is_empty() {
        return Err(IdentityError::NoSan.into());
    }
    Ok(CertIdentity { issuer, sans })
}

fn utf8_string(der_bytes: &[u8]) -> Result<String, Error> {
    let (tlv, rest) = der::read(der_bytes).map_err(cert_err)?;
    if tlv.tag != 0x0c || !rest.is_empty() {
        return Err(cert_err(CertificateError::NotUtf8String));
    }
    String::from_utf8(tlv.contents.to_vec())
        .map_err(|_| cert_err(CertificateError::IdentityNotUtf8))
}

/// An exact value or a regular expression that must match the whole value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Matcher {
    /// Equal, byte for byte.
    Exact(String),
    /// Matches the whole value (the pattern is anchored at both ends).
    Regex(regex::Regex),
}

impl Matcher {
    /// An anchored regular expression.
    ///
    /// # Errors
    /// [`IdentityError::BadPattern`] when it does not compile.
    pub fn regex(pattern: &str) -> Result<Matcher, IdentityError> {
        regex::Regex::new(&format!("^(?:{pattern})$"))
            .map(Matcher::Regex)
            .map_err(|reason| IdentityError::BadPattern {
                pattern: pattern.to_owned(),
                reason,
            })
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(s) => s == value,
            Matcher::Regex(r) => r.is_match(value),
        }
    }
}

/// Two matchers are equal when they are the same kind with the same text
/// (the same value, or the same pattern).
impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        match (self, other) {
            (Matcher::Exact(a), Matcher::Exact(b)) => a == b,
            (Matcher::Regex(a), Matcher::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl Eq for Matcher {}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Exact(s) => write!(f, "{s:?}"),
            Matcher::Regex(r) => {
                let p = r.as_str();
                let inner = p
                    .strip_prefix("^(?:")
                    .and_then(|p| p.strip_suffix(")$"))
                    .unwrap_or(p);
                write!(f, "/{inner}/")
            }
        }
    }
}

/// A required keyless identity: an OIDC issuer and a SAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessIdentity {
    /// The OIDC issuer (`--certificate-oidc-issuer[-regexp]`).
    pub issuer: Matcher,
    /// The SAN (`--certificate-identity[-regexp]`).
    pub identity: Matcher,
}

impl KeylessIdentity {
    /// Whether `id` is this identity: the issuer matches, and one SAN does.
    pub fn matches(&self, id: &CertIdentity) -> bool {
        self.issuer.matches(&id.issuer) && id.sans.iter().any(|s| self.identity.matches(s))
    }
}

impl fmt::Display for KeylessIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from issuer {}", self.identity, self.issuer)
    }
}

/// The first of `required` that `id` matches.
///
/// # Errors
/// [`IdentityError::Mismatch`] when none does.
pub fn check<'a>(
    id: &CertIdentity,
    required: &'a [KeylessIdentity],
) -> Result<&'a KeylessIdentity, IdentityError> {
    required
        .iter()
        .find(|r| r.matches(id))
        .ok_or_else(|| IdentityError::Mismatch {
            identity: id.sans.join(", "),
            issuer: id.issuer.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::der::DerError;

    #[test]
    fn regexps_match_whole_values() {
        let m = Matcher::regex("https://github.com/org/.*").unwrap();
        assert!(
            m.matches("https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1")
        );
        assert!(!m.matches("https://evil.example/?https://github.com/org/x"));
        let alt = Matcher::regex("a|b").unwrap();
        assert!(alt.matches("a") && alt.matches("b") && !alt.matches("ab"));
        assert_eq!(alt.to_string(), "/a|b/");
        assert!(matches!(
            Matcher::regex("("),
            Err(IdentityError::BadPattern {
                reason: regex::Error::Syntax(_),
                ..
            })
        ));
        assert!(!Matcher::Exact("a@b".into()).matches("A@b"));
    }

    #[test]
    fn unreadable_certificates_say_why() {
        let reason = |der: &[u8]| match identity(der) {
            Err(Error::Certificate { reason }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            reason(b"not a certificate"),
            CertificateError::Parse(_)
        ));
        assert!(matches!(
            utf8_string(&der::write(0x13, b"printable")),
            Err(Error::Certificate {
                reason: CertificateError::NotUtf8String
            })
        ));
        assert!(matches!(
            utf8_string(&der::write(0x0c, b"\xff")),
            Err(Error::Certificate {
                reason: CertificateError::IdentityNotUtf8
            })
        ));
        assert!(matches!(
            utf8_string(&[0x0c, 0x05, b'a']),
            Err(Error::Certificate {
                reason: CertificateError::Der(DerError::Overrun)
            })
        ));
    }

    #[test]
    fn identity_needs_issuer_and_san() {
        let id = CertIdentity {
            issuer: "https://accounts.example".into(),
            sans: vec!["x@example.com".into(), "https://example.com/w".into()],
        };
        let want = |i: &str, s: &str| KeylessIdentity {
            issuer: Matcher::Exact(i.into()),
            identity: Matcher::Exact(s.into()),
        };
        let ok = [want("https://accounts.example", "https://example.com/w")];
        assert!(check(&id, &ok).is_ok());
        assert!(check(&id, &[want("https://other.example", "x@example.com")]).is_err());
        assert!(check(&id, &[want("https://accounts.example", "y@example.com")]).is_err());
        assert!(check(&id, &[]).is_err());
    }
}
