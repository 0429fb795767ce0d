//! Reading certificate fields (with x509-parser) for identity checks,
//! reports and policies. Path validation itself is [`crate::chain`]'s job.

use std::fmt;

use sha2::{Digest as _, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use crate::error::CertificateError;

/// One attribute of a distinguished name, e.g. `CN=release signer`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnAttribute {
    /// Short name (`CN`, `O`, `OU`, `C`, `ST`, `L`, `emailAddress`, ...), or
    /// the dotted OID when it has none.
    pub kind: String,
    /// The value as a string.
    pub value: String,
}

/// A distinguished name as an ordered list of attributes (in certificate
/// order, most general first).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistinguishedName(pub Vec<DnAttribute>);

impl DistinguishedName {
    pub(crate) fn from_x509(name: &X509Name<'_>) -> Self {
        let registry = x509_parser::objects::oid_registry();
        let attrs = name
            .iter_attributes()
            .map(|a| {
                let oid = a.attr_type();
                let kind = x509_parser::objects::oid2abbrev(oid, registry)
                    .map(str::to_owned)
                    .unwrap_or_else(|_| oid.to_id_string());
                let value = a
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|_| hex(a.as_slice()));
                DnAttribute { kind, value }
            })
            .collect();
        Self(attrs)
    }

    /// Whether both names hold the same attributes, in any order.
    pub fn same_attributes(&self, other: &DistinguishedName) -> bool {
        let mut a = self.0.clone();
        let mut b = other.0.clone();
        a.sort();
        b.sort();
        a == b
    }
}

impl fmt::Display for DistinguishedName {
    /// RFC 4514 order (most specific first), `,`-separated, with `,`, `+`,
    /// `"`, `\`, `<`, `>`, `;` escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().rev().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}=", a.kind)?;
            for c in a.value.chars() {
                if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// A subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum San {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// dNSName.
    Dns(String),
    /// iPAddress, as text.
    Ip(String),
}

impl San {
    /// The value without its kind.
    pub fn value(&self) -> &str {
        match self {
            San::Email(v) | San::Uri(v) | San::Dns(v) | San::Ip(v) => v,
        }
    }
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Email(v) => write!(f, "email:{v}"),
            San::Uri(v) => write!(f, "uri:{v}"),
            San::Dns(v) => write!(f, "dns:{v}"),
            San::Ip(v) => write!(f, "ip:{v}"),
        }
    }
}

/// What modelseal reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject DN.
    pub subject: DistinguishedName,
    /// Issuer DN.
    pub issuer: DistinguishedName,
    /// Subject alternative names.
    pub sans: Vec<San>,
    /// Serial number, lowercase hex without leading zeros stripped.
    pub serial: String,
    /// SHA-256 of the certificate DER, lowercase hex.
    pub sha256: String,
    /// SHA-256 of the key's canonical SubjectPublicKeyInfo DER
    /// ([`crate::signature::canonical_spki`]: EC points uncompressed, RSA
    /// with NULL parameters), lowercase hex: the key's identity.
    pub spki_sha256: String,
    /// The SubjectPublicKeyInfo DER, as the certificate encodes it.
    pub spki_der: Vec<u8>,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
    /// Whether keyUsage is present and has digitalSignature.
    pub digital_signature: bool,
    /// Whether extendedKeyUsage is present and lists codeSigning
    /// (anyExtendedKeyUsage does not count).
    pub code_signing: bool,
    /// Whether basicConstraints says CA.
    pub is_ca: bool,
    /// Signature algorithm OID of the certificate itself.
    pub signature_algorithm: String,
    /// What a Fulcio (Sigstore keyless) certificate vouches for: its OIDC
    /// issuer and identities, when it carries an issuer extension that
    /// reads consistently (`None` otherwise, so no keyless identity
    /// matches it).
    pub oidc: Option<modelseal_sigstore::CertIdentity>,
}

impl CertInfo {
    /// Parse one DER certificate. Trailing bytes are refused.
    ///
    /// # Errors
    /// [`CertificateError::Malformed`] when it does not parse.
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let malformed = |reason: String| CertificateError::Malformed { reason };
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(malformed(format!(
                "{} trailing bytes after the certificate",
                rest.len()
            )));
        }
        let sans = match cert.subject_alternative_name() {
            Ok(Some(ext)) => ext.value.general_names.iter().filter_map(san).collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(malformed(format!("subjectAltName: {e}"))),
        };
        let digital_signature = match cert.key_usage() {
            Ok(Some(ku)) => ku.value.digital_signature(),
            Ok(None) => false,
            Err(e) => return Err(malformed(format!("keyUsage: {e}"))),
        };
        let code_signing = match cert.extended_key_usage() {
            Ok(Some(eku)) => eku.value.code_signing,
            Ok(None) => false,
            Err(e) => return Err(malformed(format!("extendedKeyUsage: {e}"))),
        };
        let spki_der = cert.public_key().raw.to_vec();
        Ok(Self {
            subject: DistinguishedName::from_x509(cert.subject()),
            issuer: DistinguishedName::from_x509(cert.issuer()),
            sans,
            serial: hex(cert.raw_serial()),
            sha256: hex(&Sha256::digest(der)),
            spki_sha256: hex(&Sha256::digest(crate::signature::canonical_spki(&spki_der))),
            spki_der,
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            digital_signature,
            code_signing,
            is_ca: cert.is_ca(),
            signature_algorithm: cert.signature_algorithm.algorithm.to_id_string(),
            oidc: modelseal_sigstore::fulcio_identity_of(&cert).ok(),
        })
    }
}

fn san(name: &GeneralName<'_>) -> Option<San> {
    match name {
        GeneralName::RFC822Name(v) => Some(San::Email((*v).to_owned())),
        GeneralName::URI(v) => Some(San::Uri((*v).to_owned())),
        GeneralName::DNSName(v) => Some(San::Dns((*v).to_owned())),
        GeneralName::IPAddress(b) => match b.len() {
            4 => Some(San::Ip(
                std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
            )),
            16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                Some(San::Ip(std::net::Ipv6Addr::from(a).to_string()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_display_is_rfc4514_order_with_escapes() {
        let dn = DistinguishedName(vec![
            DnAttribute {
                kind: "O".into(),
                value: "Acme, Inc".into(),
            },
            DnAttribute {
                kind: "CN".into(),
                value: "signer".into(),
            },
        ]);
        assert_eq!(dn.to_string(), "CN=signer,O=Acme\\, Inc");
        let reordered = DistinguishedName(dn.0.iter().rev().cloned().collect());
        assert!(dn.same_attributes(&reordered));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01\x00",
            &[0x30, 0x82, 0xff, 0xff],
        ] {
            assert!(matches!(
                CertInfo::from_der(bad),
                Err(CertificateError::Malformed { .. })
            ));
        }
    }
}
