//! RFC 3161 timestamps as evidence ([`EvidenceSource`]): each token a
//! bundle carries (`timestampVerificationData.rfc3161Timestamps`) is
//! verified with modelseal-timestamp against the TSA roots the caller
//! trusts: message imprint over the bundle's signature bytes, the token's
//! CMS signature, the TSA chain and its timeStamping EKU at genTime. A
//! verified token establishes genTime as the signing time, so the signing
//! certificate's validity is checked then ([`crate::SignatureFacts::validity_time`]);
//! a token that does not verify establishes nothing and is reported as a
//! failed [`Evidence`].

use std::time::SystemTime;

use modelseal_timestamp::{Token, TsaTrust, verify};

use crate::error::Error;
use crate::evidence::{Evidence, EvidenceKind, EvidenceSource, TimeSource, VerifiedTime};
use crate::facts::{Finding, ParsedBundle};

/// The TSAs a verifier trusts, as an evidence source.
#[derive(Debug, Clone)]
pub struct TsaTimestamps {
    trust: TsaTrust,
}

impl TsaTimestamps {
    /// Trust timestamps issued under `trust`'s roots.
    pub fn new(trust: TsaTrust) -> Self {
        TsaTimestamps { trust }
    }
}

impl EvidenceSource for TsaTimestamps {
    fn examine(&self, bundle: &ParsedBundle, _now: SystemTime) -> Vec<Evidence> {
        let signature = bundle.signature_bytes();
        bundle
            .bundle()
            .evidence()
            .timestamps
            .iter()
            .enumerate()
            .map(|(i, der)| {
                let checked =
                    Token::from_der(der).and_then(|t| verify(&t, signature, &self.trust, None));
                match checked {
                    Ok(v) => Evidence {
                        kind: EvidenceKind::Timestamp,
                        finding: Finding::pass(format!(
                            "RFC 3161 timestamp {}: genTime {} from TSA {} (token serial {})",
                            i + 1,
                            crate::report::rfc3339(unix(v.gen_time())),
                            v.tsa_subject(),
                            v.serial()
                        )),
                        time: Some(VerifiedTime {
                            at: v.gen_time(),
                            source: TimeSource::Evidence {
                                kind: EvidenceKind::Timestamp,
                                authority: v.tsa_subject().to_owned(),
                            },
                        }),
                    },
                    Err(e) => {
                        let detail = format!("RFC 3161 timestamp {}: {e}", i + 1);
                        Evidence {
                            kind: EvidenceKind::Timestamp,
                            finding: Finding::fail_with(Error::Timestamp(e), detail),
                            time: None,
                        }
                    }
                }
            })
            .collect()
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
