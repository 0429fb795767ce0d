//! Evidence about a signature beyond the signature itself: timestamps,
//! transparency-log entries, certificate transparency, and the time they
//! prove the signature existed at.
//!
//! An [`EvidenceSource`] examines a parsed bundle before its signer is
//! trusted, and says what it found, one [`Evidence`] per item. An item
//! that verified may establish a [`VerifiedTime`]: an instant at which the
//! signature provably existed (an RFC 3161 genTime, a transparency log's
//! integrated time). The earliest such time becomes the time the trust
//! source checks certificate validity at, instead of the verification
//! time ([`crate::TrustContext::validity_time`]): a signature timestamped
//! while its certificate was valid outlives the certificate.
//!
//! Evidence that does not verify is reported as a failed [`Evidence`] and
//! establishes no time; whether its absence or failure rejects a model is
//! a policy's decision (the facts carry every item).

use std::fmt;
use std::time::SystemTime;

use crate::facts::{Finding, ParsedBundle};

/// What kind of evidence an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvidenceKind {
    /// An RFC 3161 timestamp over the signature, from a timestamp
    /// authority.
    Timestamp,
    /// A transparency-log entry (inclusion proof or promise) for the
    /// signature.
    TransparencyLog,
    /// A signed certificate timestamp embedded in the signing certificate.
    CertificateTransparency,
}

impl EvidenceKind {
    /// Stable name, for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Timestamp => "timestamp",
            EvidenceKind::TransparencyLog => "transparency_log",
            EvidenceKind::CertificateTransparency => "certificate_transparency",
        }
    }
}

impl fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the time certificate validity was checked at came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeSource {
    /// The verification time the caller gave (no evidence established an
    /// earlier one).
    Verification,
    /// Verified evidence of this kind, from this authority or log.
    Evidence {
        /// What the evidence was.
        kind: EvidenceKind,
        /// Who vouched for the time (a TSA's subject, a log's ID).
        authority: String,
    },
}

/// An instant and what vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTime {
    /// The instant.
    pub at: SystemTime,
    /// What vouches for it.
    pub source: TimeSource,
}

impl VerifiedTime {
    /// The verification time given by the caller.
    pub fn verification(at: SystemTime) -> VerifiedTime {
        VerifiedTime {
            at,
            source: TimeSource::Verification,
        }
    }
}

/// One item of evidence and what checking it found.
#[derive(Debug)]
pub struct Evidence {
    /// Its kind.
    pub kind: EvidenceKind,
    /// Whether it verified, and what it says.
    pub finding: Finding,
    /// The time it proves the signature existed at, when it verified and
    /// carries one.
    pub time: Option<VerifiedTime>,
}

/// Examines a bundle for one kind of evidence (a TSA's timestamps, a
/// transparency log's entries).
///
/// Implementations must only return a [`Evidence::time`] for evidence
/// whose signature chain and binding to this bundle's signature verified;
/// the verifier trusts that time for certificate validity.
pub trait EvidenceSource: fmt::Debug + Send + Sync {
    /// Check every item of this source's kind that `bundle` carries.
    /// `now` is the verification time (for the evidence's own
    /// certificates).
    fn examine(&self, bundle: &ParsedBundle, now: SystemTime) -> Vec<Evidence>;
}

/// The earliest time established by verified evidence, if any.
pub(crate) fn earliest(evidence: &[Evidence]) -> Option<&VerifiedTime> {
    evidence
        .iter()
        .filter(|e| e.finding.passed())
        .filter_map(|e| e.time.as_ref())
        .min_by_key(|t| t.at)
}
