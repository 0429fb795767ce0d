//! Certificate revocation lists, checked offline during path validation.
//!
//! A [`Crl`] is parsed twice when it is loaded: by rustls-webpki (which
//! checks it during path building: its signature by the issuing CA, the
//! issuer's `cRLSign` key usage, and whether it lists a certificate of the
//! path) and by x509-parser (for its issuer and dates, which modelseal
//! reports and uses to refuse stale lists). A list webpki cannot use (CRL
//! version 1, no nextUpdate, delta CRLs) is refused at load time, so a CRL
//! is never silently ignored at verification time. Every list is consulted
//! on its own for the path (webpki alone stops at the first list of an
//! issuer), so an older list given first cannot hide a newer revocation.
//!
//! [`CrlCheck`] says how the lists apply to a path; see
//! [`crate::chain::validate_with`].

use rustls_pki_types::CertificateRevocationListDer;
use rustls_pki_types::pem::PemObject;
use webpki::{CertRevocationList, OwnedCertRevocationList};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::cert::{DistinguishedName, hex};
use crate::error::CertificateError;

/// One certificate revocation list.
#[derive(Debug)]
pub struct Crl {
    list: CertRevocationList<'static>,
    issuer: DistinguishedName,
    this_update: i64,
    next_update: i64,
    revoked: usize,
    sha256: String,
}

impl Crl {
    /// Parse one DER-encoded CRL.
    ///
    /// # Errors
    /// [`CertificateError::Malformed`] when either parser refuses it, or it
    /// has no nextUpdate (a list without an end of validity cannot be
    /// judged stale).
    pub fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let malformed = |reason: String| CertificateError::Malformed {
            reason: format!("CRL: {reason}"),
        };
        let owned =
            OwnedCertRevocationList::from_der(der).map_err(|e| malformed(format!("{e}")))?;
        let (rest, parsed) =
            CertificateRevocationList::from_der(der).map_err(|e| malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(malformed(format!(
                "{} trailing bytes after the list",
                rest.len()
            )));
        }
        let next_update = parsed
            .next_update()
            .ok_or_else(|| malformed("no nextUpdate".into()))?
            .timestamp();
        Ok(Self {
            issuer: DistinguishedName::from_x509(parsed.issuer()),
            this_update: parsed.last_update().timestamp(),
            next_update,
            revoked: parsed.iter_revoked_certificates().count(),
            sha256: hex(&<sha2::Sha256 as sha2::Digest>::digest(der)),
            list: CertRevocationList::Owned(owned),
        })
    }

    /// Parse a CRL file: every `X509 CRL` block of a PEM text, or one DER
    /// list when the bytes are not PEM.
    ///
    /// # Errors
    /// [`CertificateError::Malformed`] for a list that does not parse, PEM
    /// without any `X509 CRL` block, or PEM that does not decode.
    pub fn from_file_bytes(bytes: &[u8]) -> Result<Vec<Self>, CertificateError> {
        if !looks_like_pem(bytes) {
            return Ok(vec![Self::from_der(bytes)?]);
        }
        let mut out = Vec::new();
        for item in CertificateRevocationListDer::pem_slice_iter(bytes) {
            let der = item.map_err(|e| CertificateError::Malformed {
                reason: format!("CRL PEM: {e}"),
            })?;
            out.push(Self::from_der(der.as_ref())?);
        }
        if out.is_empty() {
            return Err(CertificateError::Malformed {
                reason: "no X509 CRL block found".into(),
            });
        }
        Ok(out)
    }

    /// The issuing CA's subject.
    pub fn issuer(&self) -> &DistinguishedName {
        &self.issuer
    }

    /// thisUpdate, Unix seconds.
    pub fn this_update(&self) -> i64 {
        self.this_update
    }

    /// nextUpdate, Unix seconds: after it the list is stale.
    pub fn next_update(&self) -> i64 {
        self.next_update
    }

    /// Number of revoked certificates listed.
    pub fn revoked_count(&self) -> usize {
        self.revoked
    }

    /// SHA-256 of the DER list, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Whether the list names this serial number (DER INTEGER content
    /// bytes, as [`crate::CertInfo::serial`] holds them in hex).
    pub(crate) fn lists_serial(&self, serial: &[u8]) -> bool {
        matches!(self.list.find_serial(serial), Ok(Some(_)))
    }

    pub(crate) fn webpki(&self) -> &CertRevocationList<'static> {
        &self.list
    }
}

/// Which certificates of a path must be covered by one of the lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coverage {
    /// The signing certificate must be covered by a list (its status must be
    /// known); intermediates are checked against any list that covers them.
    Leaf,
    /// Every certificate below the root must be covered by a list.
    Chain,
    /// No certificate needs to be covered; those that are are checked.
    Any,
}

/// How revocation lists apply to a path.
#[derive(Debug, Clone, Copy)]
pub struct CrlCheck<'a> {
    /// The lists. Only lists issued by a certificate's issuer (and signed
    /// by it) are consulted for that certificate.
    pub crls: &'a [Crl],
    /// Which certificates must be covered.
    pub coverage: Coverage,
}

impl CrlCheck<'_> {
    /// The first list that is stale at `now` (Unix seconds): nextUpdate in
    /// the past. Path validation does not look at list dates (a chain may be
    /// validated at another time than now, see the policies crate); callers
    /// check freshness here, against the real verification time.
    pub fn stale_at(&self, now: i64) -> Option<&Crl> {
        self.crls.iter().find(|c| c.next_update < now)
    }
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Hex (optionally `:`-separated) to bytes.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| *c != ':').collect();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_malformed() {
        for bad in [
            &b""[..],
            b"\x30",
            b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
            b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        ] {
            assert!(
                matches!(
                    Crl::from_file_bytes(bad),
                    Err(CertificateError::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn unhex_round_trips() {
        assert_eq!(unhex("1389"), Some(vec![0x13, 0x89]));
        assert_eq!(unhex("13:89"), Some(vec![0x13, 0x89]));
        assert_eq!(unhex("138"), None);
        assert_eq!(unhex("zz"), None);
    }
}
