//! Fixtures shared by the unit tests of several modules.

use crate::cert::{CertInfo, DistinguishedName};

/// A code-signing leaf with no names, valid at no time (`0..=0`): tests
/// set the fields they are about with struct update syntax.
pub(crate) fn cert_info() -> CertInfo {
    CertInfo {
        subject: DistinguishedName::default(),
        issuer: DistinguishedName::default(),
        sans: vec![],
        serial: "01".into(),
        sha256: String::new(),
        spki_sha256: String::new(),
        spki_der: vec![],
        not_before: 0,
        not_after: 0,
        digital_signature: true,
        code_signing: true,
        is_ca: false,
        signature_algorithm: String::new(),
        oidc: None,
    }
}
