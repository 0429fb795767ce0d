//! Signer identities: who a verifier requires the signing certificate to
//! name.
//!
//! An identity is written as one of:
//! - `email:ADDR`, `uri:URI`, `dns:NAME`, `ip:ADDR`: that exact SAN;
//! - `subject:DN` or any string holding `=` (`CN=release,O=Acme`): the
//!   subject DN, compared attribute by attribute in any order (so `O=Acme,
//!   CN=release` from `openssl x509 -subject` matches too), values exact;
//! - anything else: exactly equal to one of the SAN values, of any kind.
//!
//! Matching is exact: no wildcards, no case folding, no prefix matching.
//! (Policies may write `*`, which [`Identity::Any`] represents; only the
//! policy loader creates it, from an explicit `*`.)

use std::fmt;

use crate::cert::{CertInfo, DistinguishedName, DnAttribute, San};
use crate::error::{IdentityError, IdentitySyntax};

/// A required signer identity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identity {
    /// The subject DN must hold exactly these attributes.
    Subject(DistinguishedName),
    /// This SAN must be present.
    San(San),
    /// Some SAN, of any kind, must have exactly this value.
    AnySanValue(String),
    /// Any certificate that chains to a trusted root (policy `*`).
    Any,
    /// A Sigstore keyless signer: the Fulcio certificate's OIDC issuer and
    /// one of its identities (SAN) match, each exactly or by an anchored
    /// regular expression (`--certificate-identity[-regexp]`,
    /// `--certificate-oidc-issuer[-regexp]`).
    Keyless(modelseal_sigstore::KeylessIdentity),
}

impl Identity {
    /// Parse an identity string (see the module doc).
    ///
    /// # Errors
    /// [`IdentityError::Invalid`] for an empty value or a DN that does not
    /// parse.
    pub fn parse(s: &str) -> Result<Identity, IdentityError> {
        let invalid = |reason| IdentityError::Invalid {
            identity: s.chars().take(200).collect(),
            reason,
        };
        let non_empty = |v: &str| {
            if v.is_empty() {
                Err(invalid(IdentitySyntax::EmptyValue))
            } else {
                Ok(v.to_owned())
            }
        };
        if let Some((kind, value)) = s.split_once(':') {
            match kind {
                "email" => return Ok(Identity::San(San::Email(non_empty(value)?))),
                "uri" => return Ok(Identity::San(San::Uri(non_empty(value)?))),
                "dns" => return Ok(Identity::San(San::Dns(non_empty(value)?))),
                "ip" => return Ok(Identity::San(San::Ip(non_empty(value)?))),
                "subject" => {
                    return parse_dn(value).map(Identity::Subject).map_err(invalid);
                }
                _ => {}
            }
        }
        if s.contains('=') && !s.contains("://") {
            return parse_dn(s).map(Identity::Subject).map_err(invalid);
        }
        Ok(Identity::AnySanValue(non_empty(s)?))
    }

    /// Whether the certificate matches this identity.
    pub fn matches(&self, cert: &CertInfo) -> bool {
        match self {
            Identity::Subject(dn) => cert.subject.same_attributes(dn),
            Identity::San(san) => cert.sans.contains(san),
            Identity::AnySanValue(v) => cert.sans.iter().any(|s| s.value() == v),
            Identity::Any => true,
            Identity::Keyless(k) => cert.oidc.as_ref().is_some_and(|id| k.matches(id)),
        }
    }

    /// A keyless identity: `identity` (a SAN) issued by `issuer`.
    pub fn keyless(
        issuer: modelseal_sigstore::Matcher,
        identity: modelseal_sigstore::Matcher,
    ) -> Identity {
        Identity::Keyless(modelseal_sigstore::KeylessIdentity { issuer, identity })
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Subject(dn) => write!(f, "subject:{dn}"),
            Identity::San(s) => write!(f, "{s}"),
            Identity::AnySanValue(v) => f.write_str(v),
            Identity::Any => f.write_str("*"),
            Identity::Keyless(k) => write!(f, "keyless {k}"),
        }
    }
}

/// Which signers a verification accepts. There is no default: every way to
/// build verification options ([`crate::Options::new`], [`crate::Inputs::new`],
/// [`crate::DetachedOptions`]) takes one, so accepting any signer a set of
/// roots certifies is always the caller's explicit choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityRequirement<'a> {
    /// Any signer the trust source accepts: with roots, every certificate
    /// they certify (the identity check is skipped and says so); with a
    /// public key, its holder. Callers should tell their users (the CLI's
    /// `--identity '*'` prints a warning).
    Any,
    /// The signing certificate must match one of these; a bare-key bundle
    /// fails. An empty list matches nobody ([`IdentityError::NoneAllowed`]).
    OneOf(&'a [Identity]),
}

impl<'a> IdentityRequirement<'a> {
    /// From a caller's parsed choice: `None` when it explicitly chose any
    /// signer (e.g. `--identity '*'`, or a key's holder in key mode),
    /// `Some` listing the identities it requires.
    pub fn from_choice(choice: Option<&'a [Identity]>) -> Self {
        match choice {
            None => IdentityRequirement::Any,
            Some(ids) => IdentityRequirement::OneOf(ids),
        }
    }

    /// The required identities (none for [`IdentityRequirement::Any`]).
    pub fn identities(&self) -> &'a [Identity] {
        match self {
            IdentityRequirement::Any => &[],
            IdentityRequirement::OneOf(ids) => ids,
        }
    }
}

/// Require `cert` to match at least one of `allowed`.
///
/// # Errors
/// [`IdentityError::Mismatch`] listing what the certificate does carry, or
/// [`IdentityError::NoneAllowed`] for an empty list (fail closed).
pub fn check(cert: &CertInfo, allowed: &[Identity]) -> Result<Identity, IdentityError> {
    if allowed.is_empty() {
        return Err(IdentityError::NoneAllowed);
    }
    allowed
        .iter()
        .find(|i| i.matches(cert))
        .cloned()
        .ok_or_else(|| IdentityError::Mismatch {
            required: allowed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" | "),
            subject: cert.subject.to_string(),
            sans: {
                let mut sans: Vec<String> = cert.sans.iter().map(ToString::to_string).collect();
                if let Some(id) = &cert.oidc {
                    sans.push(format!("OIDC issuer {}", id.issuer));
                }
                sans.join(", ")
            },
        })
}

/// Parse `CN=a,O=b` / `O = b, CN = a` (RFC 4514 escapes `\,` honoured).
fn parse_dn(s: &str) -> Result<DistinguishedName, IdentitySyntax> {
    let mut attrs = Vec::new();
    let mut current = String::new();
    let mut parts = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => current.push(n),
                None => return Err(IdentitySyntax::DanglingEscape),
            },
            ',' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    for part in parts {
        let Some((k, v)) = part.split_once('=') else {
            return Err(IdentitySyntax::NotTypeValue { part });
        };
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || v.is_empty() {
            return Err(IdentitySyntax::EmptyTypeOrValue { part });
        }
        attrs.push(DnAttribute {
            kind: k.to_owned(),
            value: v.to_owned(),
        });
    }
    Ok(DistinguishedName(attrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert() -> CertInfo {
        CertInfo {
            subject: DistinguishedName(vec![
                DnAttribute {
                    kind: "O".into(),
                    value: "Acme, Inc".into(),
                },
                DnAttribute {
                    kind: "CN".into(),
                    value: "release".into(),
                },
            ]),
            sans: vec![
                San::Email("rel@acme.test".into()),
                San::Uri("https://acme.test/ci".into()),
            ],
            ..crate::test_support::cert_info()
        }
    }

    #[test]
    fn truth_table() {
        let c = cert();
        let yes = [
            "email:rel@acme.test",
            "uri:https://acme.test/ci",
            "rel@acme.test",
            "https://acme.test/ci",
            "CN=release,O=Acme\\, Inc",
            "O = Acme\\, Inc, CN = release",
            "subject:CN=release,O=Acme\\, Inc",
        ];
        for s in yes {
            assert!(Identity::parse(s).unwrap().matches(&c), "{s} should match");
        }
        let no = [
            "email:REL@acme.test",
            "uri:rel@acme.test",
            "dns:rel@acme.test",
            "rel@acme",
            "CN=release",
            "CN=release,O=Acme\\, Inc,OU=x",
            "CN=Release,O=Acme\\, Inc",
            "https://acme.test/",
        ];
        for s in no {
            assert!(
                !Identity::parse(s).unwrap().matches(&c),
                "{s} should not match"
            );
        }
    }

    #[test]
    fn check_fails_closed_and_explains() {
        let c = cert();
        assert!(matches!(check(&c, &[]), Err(IdentityError::NoneAllowed)));
        let err = check(&c, &[Identity::parse("email:other@acme.test").unwrap()]).unwrap_err();
        assert!(err.to_string().contains("email:rel@acme.test"), "{err}");
        let ok = check(
            &c,
            &[
                Identity::parse("x@y").unwrap(),
                Identity::parse("rel@acme.test").unwrap(),
            ],
        );
        assert_eq!(ok.unwrap(), Identity::AnySanValue("rel@acme.test".into()));
        assert!(Identity::Any.matches(&c));
    }

    #[test]
    fn bad_identities() {
        let part = |p: &str| p.to_owned();
        for (bad, why) in [
            ("", IdentitySyntax::EmptyValue),
            ("email:", IdentitySyntax::EmptyValue),
            (
                "CN=",
                IdentitySyntax::EmptyTypeOrValue { part: part("CN=") },
            ),
            ("=x", IdentitySyntax::EmptyTypeOrValue { part: part("=x") }),
            ("CN=a\\", IdentitySyntax::DanglingEscape),
            (
                "subject:CN=a,O",
                IdentitySyntax::NotTypeValue { part: part("O") },
            ),
        ] {
            assert_eq!(
                Identity::parse(bad),
                Err(IdentityError::Invalid {
                    identity: bad.to_owned(),
                    reason: why
                }),
                "{bad:?}"
            );
        }
        assert_eq!(
            Identity::parse("subject:O").unwrap_err().to_string(),
            "invalid identity \"subject:O\": \"O\" is not TYPE=VALUE"
        );
    }
}
