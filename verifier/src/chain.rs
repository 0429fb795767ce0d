//! X.509 path validation with rustls-webpki.
//!
//! 1. Only the verifier's roots are trust anchors; certificates carried in a
//!    bundle are untrusted intermediates, however they look.
//! 2. webpki builds and checks the path at the given time: signatures,
//!    validity of every certificate, basicConstraints (CA flags, path length),
//!    name constraints, and extended key usage: every certificate that
//!    restricts its EKU must allow codeSigning.
//! 3. modelseal then requires the leaf itself to carry an extendedKeyUsage
//!    with codeSigning (webpki applies one EKU rule to every certificate, so
//!    "required" there would refuse intermediates without EKU), and a
//!    keyUsage with digitalSignature (webpki does not look at keyUsage).
//!
//! 4. Optionally ([`validate_with`]), revocation lists given by the caller
//!    are checked for the certificates of the path ([`crate::crl`]).
//!
//! SHA-1 and other weak certificate signatures are not in the accepted
//! algorithm list, so such chains fail as "unsupported algorithm".

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{
    EndEntityCert, ExpirationPolicy, KeyUsage, RevocationCheckDepth, RevocationOptionsBuilder,
    UnknownStatusPolicy,
};

use crate::cert::CertInfo;
use crate::crl::{Coverage, CrlCheck};
use crate::error::CertificateError;

/// The codeSigning EKU, 1.3.6.1.5.5.7.3.3, as DER OID value bytes.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// A set of trusted root certificates.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    roots: Vec<CertInfo>,
}

impl TrustAnchors {
    /// Build anchors from DER root certificates.
    ///
    /// # Errors
    /// [`CertificateError::Malformed`] for a certificate that does not parse,
    /// [`CertificateError::RootNotCa`] for a certificate without
    /// basicConstraints `CA:TRUE` (a leaf in a full-chain file),
    /// [`CertificateError::NoTrustAnchors`] for an empty list (fail closed).
    pub fn from_der(roots: &[Vec<u8>]) -> Result<Self, CertificateError> {
        if roots.is_empty() {
            return Err(CertificateError::NoTrustAnchors);
        }
        let mut anchors = Vec::with_capacity(roots.len());
        let mut infos = Vec::with_capacity(roots.len());
        for der in roots {
            let info = CertInfo::from_der(der)?;
            if !info.is_ca {
                return Err(CertificateError::RootNotCa {
                    subject: info.subject.to_string(),
                });
            }
            infos.push(info);
            let cert = CertificateDer::from(der.as_slice());
            let anchor = webpki::anchor_from_trusted_cert(&cert).map_err(|e| {
                CertificateError::Malformed {
                    reason: format!("trust root: {e:?}"),
                }
            })?;
            anchors.push(anchor.to_owned());
        }
        Ok(Self {
            anchors,
            roots: infos,
        })
    }

    /// Parse every `CERTIFICATE` block of a PEM bundle.
    ///
    /// # Errors
    /// As [`TrustAnchors::from_der`], plus [`CertificateError::Malformed`]
    /// for PEM that does not parse or holds no certificate.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CertificateError> {
        Self::from_der(&certificates_from_pem(pem)?)
    }

    /// The root certificates, as read.
    pub fn roots(&self) -> &[CertInfo] {
        &self.roots
    }

    /// Add the anchors of `other`.
    pub fn extend(&mut self, other: TrustAnchors) {
        self.anchors.extend(other.anchors);
        self.roots.extend(other.roots);
    }
}

/// Every `CERTIFICATE` block of a PEM text, as DER. Blocks of other types
/// are skipped; a text with no certificate at all is an error.
///
/// # Errors
/// [`CertificateError::Malformed`] for bad PEM or no certificate.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, CertificateError> {
    let malformed = |reason: String| CertificateError::Malformed { reason };
    let mut out = Vec::new();
    for item in rustls_pki_types::pem::PemObject::pem_slice_iter(pem) {
        let item: Result<CertificateDer<'static>, _> = item;
        match item {
            Ok(cert) => out.push(cert.as_ref().to_vec()),
            Err(e) => return Err(malformed(format!("PEM: {e}"))),
        }
    }
    if out.is_empty() {
        return Err(malformed("no CERTIFICATE block found".into()));
    }
    Ok(out)
}

/// A chain that validated: leaf first, ending at the trusted root.
#[derive(Debug, Clone)]
pub struct ValidatedChain {
    /// The signing certificate.
    pub leaf: CertInfo,
    /// Intermediates actually used, leaf side first.
    pub intermediates: Vec<CertInfo>,
    /// The trust anchor's subject, as written in the root (RFC 4514).
    pub root_subject: String,
}

/// Convert a wall-clock time to webpki's.
pub(crate) fn unix_time(t: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO))
}

/// Validate `chain` (leaf first, then untrusted intermediates) against
/// `anchors` at time `at`, for code signing.
///
/// # Errors
/// [`CertificateError`] naming the first reason the chain is not trusted.
pub fn validate(
    chain: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: SystemTime,
) -> Result<ValidatedChain, CertificateError> {
    validate_with(chain, anchors, at, None)
}

/// [`validate`], and when `crls` is given, check the revocation status of
/// every certificate of the path below the root against those lists, as
/// [`CrlCheck::coverage`] requires. List dates are not checked here (see
/// [`CrlCheck::stale_at`]).
///
/// # Errors
/// As [`validate`], plus [`CertificateError::Revoked`] for a listed
/// certificate and [`CertificateError::Revocation`] when a status cannot be
/// established (no list covers a certificate that must be covered, or a
/// list's signature does not verify).
pub fn validate_with(
    chain: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: SystemTime,
    crls: Option<&CrlCheck<'_>>,
) -> Result<ValidatedChain, CertificateError> {
    match crls {
        None => build(chain, anchors, at, None),
        Some(check) => {
            revoked_by_any(chain, anchors, at, check)?;
            let lists: Vec<_> = check.crls.iter().map(|c| c.webpki()).collect();
            let runs: &[(RevocationCheckDepth, UnknownStatusPolicy)] = match check.coverage {
                Coverage::Leaf => &[
                    (RevocationCheckDepth::EndEntity, UnknownStatusPolicy::Deny),
                    (RevocationCheckDepth::Chain, UnknownStatusPolicy::Allow),
                ],
                Coverage::Chain => &[(RevocationCheckDepth::Chain, UnknownStatusPolicy::Deny)],
                Coverage::Any => &[(RevocationCheckDepth::Chain, UnknownStatusPolicy::Allow)],
            };
            let mut validated = None;
            for &(depth, status) in runs {
                let Ok(builder) = RevocationOptionsBuilder::new(&lists) else {
                    // No list at all: nothing can be covered.
                    if status == UnknownStatusPolicy::Deny {
                        return Err(CertificateError::Revocation {
                            reason: "no revocation list given".into(),
                        });
                    }
                    validated = Some(build(chain, anchors, at, None)?);
                    continue;
                };
                let opts = builder
                    .with_depth(depth)
                    .with_status_policy(status)
                    .with_expiration_policy(ExpirationPolicy::Ignore)
                    .build();
                validated = Some(build(chain, anchors, at, Some((opts, check)))?);
            }
            validated.ok_or(CertificateError::NoCertificate)
        }
    }
}

/// Check the path against each list on its own. webpki consults only the
/// first list authoritative for a certificate, so an older list of the same
/// issuer given first would hide a newer one that revokes: every list whose
/// issuer is on the path must get its say. A list that covers nothing of the
/// path passes here (coverage is enforced by the combined runs of
/// [`validate_with`]); a list that is authoritative but unusable (its
/// signature does not verify) is an error. A revocation wins over any other
/// error, so the report says "revoked" whatever the order of the lists.
fn revoked_by_any(
    chain: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: SystemTime,
    check: &CrlCheck<'_>,
) -> Result<(), CertificateError> {
    let mut first_error = None;
    for crl in check.crls {
        let one = [crl.webpki()];
        let Ok(builder) = RevocationOptionsBuilder::new(&one) else {
            continue;
        };
        let opts = builder
            .with_depth(RevocationCheckDepth::Chain)
            .with_status_policy(UnknownStatusPolicy::Allow)
            .with_expiration_policy(ExpirationPolicy::Ignore)
            .build();
        let single = CrlCheck {
            crls: std::slice::from_ref(crl),
            coverage: check.coverage,
        };
        match build(chain, anchors, at, Some((opts, &single))) {
            Ok(_) => {}
            Err(e @ CertificateError::Revoked { .. }) => return Err(e),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn build(
    chain: &[Vec<u8>],
    anchors: &TrustAnchors,
    at: SystemTime,
    revocation: Option<(webpki::RevocationOptions<'_>, &CrlCheck<'_>)>,
) -> Result<ValidatedChain, CertificateError> {
    let (leaf_der, rest) = chain.split_first().ok_or(CertificateError::NoCertificate)?;
    let infos: Vec<CertInfo> = chain
        .iter()
        .map(|c| CertInfo::from_der(c))
        .collect::<Result<_, _>>()?;
    let leaf_cert = CertificateDer::from(leaf_der.as_slice());
    let ee = EndEntityCert::try_from(&leaf_cert).map_err(|e| CertificateError::Malformed {
        reason: format!("signing certificate: {e:?}"),
    })?;
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let time = unix_time(at);
    let path = ee
        .verify_for_usage(
            // One list with the TSA chains': no SHA-1, no RSA below 2048 bits.
            modelseal_timestamp::CERTIFICATE_SIGNATURE_ALGORITHMS,
            &anchors.anchors,
            &intermediates,
            time,
            KeyUsage::required_if_present(CODE_SIGNING),
            revocation.as_ref().map(|(opts, _)| *opts),
            None,
        )
        .map_err(|e| {
            classify(
                &e,
                &infos,
                time.as_secs(),
                revocation.as_ref().map(|(_, c)| *c),
            )
        })?;
    let used: Vec<CertInfo> = path
        .intermediate_certificates()
        .map(|c| CertInfo::from_der(c.der().as_ref()))
        .collect::<Result<_, _>>()?;
    let anchor_subject = path.anchor().subject.as_ref().to_vec();
    let root_subject = anchors
        .roots
        .iter()
        .zip(&anchors.anchors)
        .find(|(_, a)| a.subject.as_ref() == anchor_subject.as_slice())
        .map(|(r, _)| r.subject.to_string())
        .unwrap_or_default();
    let [leaf, ..] = infos.as_slice() else {
        return Err(CertificateError::NoCertificate);
    };
    if !leaf.code_signing {
        return Err(CertificateError::MissingCodeSigning {
            subject: leaf.subject.to_string(),
        });
    }
    if !leaf.digital_signature {
        return Err(CertificateError::MissingDigitalSignature {
            subject: leaf.subject.to_string(),
        });
    }
    Ok(ValidatedChain {
        leaf: leaf.clone(),
        intermediates: used,
        root_subject,
    })
}

/// Turn webpki's verdict into our error, naming the certificate at fault
/// where we can tell which it is.
#[allow(deprecated)] // match the deprecated variants too: webpki may still return them
fn classify(
    e: &webpki::Error,
    chain: &[CertInfo],
    now: u64,
    crls: Option<&CrlCheck<'_>>,
) -> CertificateError {
    use webpki::Error as W;
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let leaf_subject = chain
        .first()
        .map(|c| c.subject.to_string())
        .unwrap_or_default();
    match e {
        W::CertExpired { .. } => {
            let c = chain.iter().find(|c| c.not_after < now).or(chain.first());
            CertificateError::Expired {
                subject: c.map(|c| c.subject.to_string()).unwrap_or_default(),
                not_after: c.map_or(0, |c| c.not_after),
            }
        }
        W::CertNotValidYet { .. } => {
            let c = chain.iter().find(|c| c.not_before > now).or(chain.first());
            CertificateError::NotYetValid {
                subject: c.map(|c| c.subject.to_string()).unwrap_or_default(),
                not_before: c.map_or(0, |c| c.not_before),
            }
        }
        W::CaUsedAsEndEntity => CertificateError::LeafIsCa {
            subject: leaf_subject,
        },
        W::EndEntityUsedAsCa => CertificateError::IssuerNotCa,
        W::PathLenConstraintViolated => CertificateError::PathLengthExceeded,
        W::UnknownIssuer => CertificateError::UntrustedRoot {
            subject: leaf_subject,
        },
        W::RequiredEkuNotFound | W::RequiredEkuNotFoundContext(_) => {
            CertificateError::MissingCodeSigning {
                subject: leaf_subject,
            }
        }
        W::UnsupportedSignatureAlgorithm
        | W::UnsupportedSignatureAlgorithmContext(_)
        | W::UnsupportedSignatureAlgorithmForPublicKey
        | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            CertificateError::UnsupportedAlgorithm
        }
        W::InvalidSignatureForPublicKey => CertificateError::BadSignature,
        W::CertRevoked => CertificateError::Revoked {
            // webpki does not say which certificate; the first one a list names.
            subject: chain
                .iter()
                .find(|c| {
                    crate::crl::unhex(&c.serial).is_some_and(|serial| {
                        crls.is_some_and(|k| k.crls.iter().any(|l| l.lists_serial(&serial)))
                    })
                })
                .map_or(leaf_subject, |c| c.subject.to_string()),
        },
        W::UnknownRevocationStatus => CertificateError::Revocation {
            reason: "no given revocation list covers a certificate of the path".into(),
        },
        W::InvalidCrlSignatureForPublicKey
        | W::UnsupportedCrlSignatureAlgorithm
        | W::UnsupportedCrlSignatureAlgorithmContext(_)
        | W::UnsupportedCrlSignatureAlgorithmForPublicKey
        | W::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_)
        | W::IssuerNotCrlSigner
        | W::CrlExpired { .. }
        | W::InvalidCrlNumber
        | W::UnsupportedCrlIssuingDistributionPoint
        | W::UnsupportedCrlVersion
        | W::UnsupportedDeltaCrl
        | W::UnsupportedIndirectCrl
        | W::UnsupportedRevocationReason
        | W::UnsupportedRevocationReasonsPartitioning => CertificateError::Revocation {
            reason: format!("revocation list unusable: {e:?}"),
        },
        other => CertificateError::Invalid {
            reason: format!("{other:?}"),
        },
    }
}
