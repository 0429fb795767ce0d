//! Sigstore in the one pipeline: a trusted root (`trusted_root.json`) as a
//! [`TrustSource`] for keyless (Fulcio) signers and as an
//! [`EvidenceSource`] for the transparency-log entries and RFC 3161
//! timestamps a bundle carries.
//!
//! Evidence ([`Sigstore`] as an [`EvidenceSource`]), one [`Evidence`] per
//! item the bundle carries:
//! 1. every transparency-log entry against the trusted root
//!    (`modelseal_sigstore::verify_entry`: log known, body records exactly this
//!    bundle's signature, signer and digest, SET, inclusion proof to a
//!    checkpoint signed by the log). Only a verified SET makes the
//!    integrated time a [`VerifiedTime`];
//! 2. unless turned off ([`Sigstore::without_timestamps`]), every RFC 3161
//!    timestamp: imprint over the signature, TSA chain to a timestamp
//!    authority of the trusted root at genTime, genTime inside that
//!    authority's `validFor`. genTime is a [`VerifiedTime`].
//!
//! Trust ([`Sigstore`] as a [`TrustSource`]), for a certificate bundle:
//! 3. a keyless identity is required ([`Identity::Keyless`]; without one a
//!    keyless signature proves nothing about who signed: a configuration
//!    error);
//! 4. at least one transparency-log entry verified, and at least one
//!    verified time: the leaf is never checked at "now";
//! 5. the leaf chains (webpki, code signing) to a Fulcio CA of the trusted
//!    root **at every verified time**, the CA's `validFor` containing it;
//! 6. an embedded SCT of a CT log of the trusted root verifies.
//!
//! The identity itself (OIDC issuer and SAN) is the pipeline's identity
//! step ([`Identity::Keyless`]).
//!
//! ```no_run
//! # fn main() -> Result<(), modelseal_verifier::Error> {
//! use modelseal_verifier::{
//!     EvidenceSource, Identity, IdentityRequirement, Matcher, Options, Sigstore,
//! };
//! let sigstore = Sigstore::public_good()?; // or Sigstore::from_json(bytes, label)
//! let identities = [Identity::keyless(
//!     Matcher::Exact("https://token.actions.githubusercontent.com".into()),
//!     Matcher::regex("https://github\\.com/org/.*").map_err(modelseal_sigstore::Error::from)?,
//! )];
//! let evidence: [&dyn EvidenceSource; 1] = [&sigstore];
//! let mut opts = Options::new(
//!     &sigstore,
//!     IdentityRequirement::OneOf(&identities),
//!     std::time::SystemTime::now(),
//! );
//! opts.evidence = &evidence;
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use modelseal_manifest::{AnyBundle, VerificationMaterial};
use modelseal_sigstore::{
    CertificateError, ContentRef, Signed, SignerRef, TimestampError, TrustedRoot, TsaRefusal,
    TsaRefusalReason, VerifiedEntry, fulcio_identity, verify_entry, verify_sct,
};

use crate::cert::CertInfo;
use crate::chain::{self, TrustAnchors};
use crate::error::{ConfigError, Error};
use crate::evidence::{Evidence, EvidenceKind, EvidenceSource, TimeSource, VerifiedTime};
use crate::facts::{Finding, MaterialKind, ParsedBundle};
use crate::identity::Identity;
use crate::report::rfc3339;
use crate::signature::PublicKey;
use crate::trust::{TrustContext, TrustFacts, TrustSource, expiry, unix};
use crate::verify::{KeylessSigner, Signer};

/// A Sigstore trusted root, as trust source (keyless signers) and as
/// evidence source (transparency-log entries, timestamps). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sigstore {
    root: Arc<TrustedRoot>,
    key: Option<PublicKey>,
    timestamps: bool,
}

impl Sigstore {
    /// Verify against `root`: keyless signers, log entries and timestamps.
    pub fn new(root: TrustedRoot) -> Sigstore {
        Sigstore {
            root: Arc::new(root),
            key: None,
            timestamps: true,
        }
    }

    /// The Sigstore public-good trusted root built into this release.
    ///
    /// # Errors
    /// Only if the embedded root were broken (a test guards it).
    pub fn public_good() -> Result<Sigstore, Error> {
        Ok(Sigstore::new(TrustedRoot::public_good()?))
    }

    /// A `trusted_root.json` (a private instance, staging); `label` names
    /// it in messages.
    ///
    /// # Errors
    /// [`Error::Sigstore`] (not a rejection) when it does not parse.
    pub fn from_json(bytes: &[u8], label: impl Into<String>) -> Result<Sigstore, Error> {
        Ok(Sigstore::new(TrustedRoot::from_json(bytes, label)?))
    }

    /// Log entries of a bare-key bundle must record `key` as the signer
    /// (the key the caller trusts; a key bundle only hints at it).
    #[must_use]
    pub fn with_key(mut self, key: PublicKey) -> Sigstore {
        self.key = Some(key);
        self
    }

    /// Leave RFC 3161 timestamps to another evidence source (TSA roots
    /// the caller gives), or unchecked.
    #[must_use]
    pub fn without_timestamps(mut self) -> Sigstore {
        self.timestamps = false;
        self
    }

    /// The trusted root.
    pub fn root(&self) -> &TrustedRoot {
        &self.root
    }
}

fn system_time(t: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0))
}

fn sigstore_fail(e: modelseal_sigstore::Error) -> Finding {
    Finding::fail(Error::Sigstore(e))
}

/// What a log entry must record: this bundle's signer and content.
fn signed<'a>(
    bundle: &'a ParsedBundle,
    key: Option<&'a PublicKey>,
) -> Result<Signed<'a>, &'static str> {
    let signer = match bundle.bundle().material() {
        VerificationMaterial::Certificates(chain) => SignerRef::Certificate(
            chain
                .first()
                .ok_or("the bundle carries no signing certificate")?,
        ),
        VerificationMaterial::PublicKey { .. } => SignerRef::PublicKey(
            key.ok_or("a key bundle's log entry is matched against the trusted public key, and none was given")?
                .spki_der(),
        ),
        _ => return Err("the bundle's verification material is not supported"),
    };
    let content = match bundle.bundle() {
        AnyBundle::Dsse(b) => ContentRef::Dsse {
            payload_type: &b.envelope.payload_type,
            payload: &b.envelope.payload,
            signature: &b.envelope.signature,
        },
        AnyBundle::Message(m) => ContentRef::Message {
            digest: &m.message.digest,
            signature: &m.message.signature,
        },
        _ => return Err("the bundle's content is of an unknown kind"),
    };
    Ok(Signed { signer, content })
}

fn describe_entry(e: &VerifiedEntry, root: &str) -> String {
    let time = e
        .integrated_time
        .map(|t| format!(", integrated {} (SET verified)", rfc3339(t)))
        .unwrap_or_default();
    format!(
        "{} entry {} in {}{}{time}, {} (trusted root {root})",
        e.kind,
        e.log_index,
        e.log,
        if e.rekor_v2 { " (Rekor v2)" } else { "" },
        match e.checkpoint_size {
            Some(s) => format!("inclusion proof to a signed checkpoint of {s} entries"),
            None => "no inclusion proof (v0.1 bundle, SET only)".into(),
        }
    )
}

impl EvidenceSource for Sigstore {
    fn examine(&self, bundle: &ParsedBundle, _now: SystemTime) -> Vec<Evidence> {
        let carried = bundle.bundle().evidence();
        let version = bundle.bundle().version();
        let mut out = Vec::new();
        for (i, entry) in carried.tlog_entries.iter().enumerate() {
            let checked = signed(bundle, self.key.as_ref())
                .map_err(|m| modelseal_sigstore::Error::Tlog {
                    index: i,
                    reason: modelseal_sigstore::TlogError::Unexpected(m),
                })
                .and_then(|s| verify_entry(i, entry, version, &s, &self.root));
            out.push(match checked {
                Ok(v) => Evidence {
                    kind: EvidenceKind::TransparencyLog,
                    finding: Finding::pass(describe_entry(&v, &self.root.label)),
                    time: v.integrated_time.map(|t| VerifiedTime {
                        at: system_time(t),
                        source: TimeSource::Evidence {
                            kind: EvidenceKind::TransparencyLog,
                            authority: v.log.clone(),
                        },
                    }),
                },
                Err(e) => Evidence {
                    kind: EvidenceKind::TransparencyLog,
                    finding: sigstore_fail(e),
                    time: None,
                },
            });
        }
        if self.timestamps {
            let signature = bundle.signature_bytes();
            for (i, der) in carried.timestamps.iter().enumerate() {
                out.push(match verify_timestamp(i, der, signature, &self.root) {
                    Ok((tsa, t)) => Evidence {
                        kind: EvidenceKind::Timestamp,
                        finding: Finding::pass(format!(
                            "RFC 3161 timestamp {}: genTime {} from {tsa} (trusted root {})",
                            i + 1,
                            rfc3339(t),
                            self.root.label
                        )),
                        time: Some(VerifiedTime {
                            at: system_time(t),
                            source: TimeSource::Evidence {
                                kind: EvidenceKind::Timestamp,
                                authority: tsa,
                            },
                        }),
                    },
                    Err(e) => Evidence {
                        kind: EvidenceKind::Timestamp,
                        finding: sigstore_fail(e),
                        time: None,
                    },
                });
            }
        }
        out
    }
}

/// One RFC 3161 timestamp over `signature`, by a timestamp authority of
/// `root`: the TSA's URI and genTime.
fn verify_timestamp(
    index: usize,
    bytes: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<(String, i64), modelseal_sigstore::Error> {
    let fail = |reason: TimestampError| modelseal_sigstore::Error::Timestamp { index, reason };
    let der = modelseal_sigstore::timestamp_token(bytes).map_err(|e| fail(e.into()))?;
    let token = modelseal_timestamp::Token::from_der(der).map_err(|e| fail(e.into()))?;
    if root.timestamp_authorities.is_empty() {
        return Err(fail(TimestampError::NoAuthority {
            root: root.label.clone(),
        }));
    }
    let mut why = Vec::new();
    for tsa in &root.timestamp_authorities {
        let trust = match modelseal_timestamp::TsaTrust::from_der(&[tsa.root().to_vec()]) {
            Ok(t) => t.with_certificates(tsa.intermediates().to_vec()),
            Err(e) => {
                why.push(TsaRefusal {
                    uri: tsa.uri.clone(),
                    reason: e.into(),
                });
                continue;
            }
        };
        match modelseal_timestamp::verify(&token, signature, &trust, None) {
            Ok(v) => {
                let t = unix(v.gen_time());
                if !tsa.valid_for.contains(t) {
                    why.push(TsaRefusal {
                        uri: tsa.uri.clone(),
                        reason: TsaRefusalReason::OutsideWindow {
                            gen_time: rfc3339(t),
                        },
                    });
                    continue;
                }
                return Ok((tsa.uri.clone(), t));
            }
            Err(e) => why.push(TsaRefusal {
                uri: tsa.uri.clone(),
                reason: e.into(),
            }),
        }
    }
    Err(fail(TimestampError::NoneValid {
        root: root.label.clone(),
        refusals: why,
    }))
}

impl TrustSource for Sigstore {
    fn establish(&self, bundle: &ParsedBundle, ctx: &TrustContext<'_>) -> TrustFacts {
        match keyless(self, bundle, ctx) {
            Ok(facts) | Err(facts) => *facts,
        }
    }
}

/// Steps 3–6 (see the module doc); `Err` holds the facts of a failure.
fn keyless(
    s: &Sigstore,
    bundle: &ParsedBundle,
    ctx: &TrustContext<'_>,
) -> Result<Box<TrustFacts>, Box<TrustFacts>> {
    let fail = |finding: Finding, why: &str| {
        let mut f = TrustFacts::untrusted(bundle, ctx, why);
        // The chain fact (what a trust policy reads) says why too.
        let detail = finding.detail().to_owned();
        f.chain = Finding::fail_with(
            Error::NotRun {
                reason: detail.clone(),
            },
            detail,
        );
        f.trust = finding;
        Box::new(f)
    };
    if bundle.material() == MaterialKind::PublicKey {
        return Err(fail(
            Finding::fail(Error::MaterialMismatch {
                bundle: MaterialKind::PublicKey,
            }),
            "a Sigstore trusted root trusts keyless certificates, and the bundle carries a key",
        ));
    }
    // 3. a keyless identity is required
    if !ctx
        .identities
        .iter()
        .any(|i| matches!(i, Identity::Keyless(_)))
    {
        return Err(fail(
            Finding::fail(Error::Config(ConfigError::NoKeylessIdentity)),
            "no keyless identity required",
        ));
    }
    let Some(leaf_der) = bundle.chain_der().first() else {
        return Err(fail(
            Finding::fail(Error::Certificate(
                crate::error::CertificateError::NoCertificate,
            )),
            "no certificate",
        ));
    };
    let why_not = "the keyless signer is not trusted";
    // 4. a verified log entry and verified times
    let logged = ctx
        .evidence
        .iter()
        .any(|e| e.kind == EvidenceKind::TransparencyLog && e.finding.passed());
    if !logged {
        return Err(fail(
            sigstore_fail(modelseal_sigstore::Error::Missing(
                "a keyless signature needs a verified transparency-log entry, and the bundle has none",
            )),
            why_not,
        ));
    }
    let mut times: Vec<i64> = ctx
        .evidence
        .iter()
        .filter(|e| e.finding.passed())
        .filter_map(|e| e.time.as_ref())
        .map(|t| unix(t.at))
        .collect();
    times.sort_unstable();
    times.dedup();
    if times.is_empty() {
        return Err(fail(
            sigstore_fail(modelseal_sigstore::Error::Missing(
                "no verified time: no log entry has a verified signed entry timestamp and no timestamp verified (a keyless certificate is never checked at the current time)",
            )),
            why_not,
        ));
    }
    let identity = match fulcio_identity(leaf_der) {
        Ok(id) => id,
        Err(e) => return Err(fail(sigstore_fail(e), why_not)),
    };
    // 5. the chain at every verified time
    let mut used = None;
    for &t in &times {
        match chain_at(s, leaf_der, t) {
            Ok(found) => used = Some(found),
            Err(e) => {
                let detail = format!("at the verified time {}: {e}", rfc3339(t));
                return Err(fail(Finding::fail_with(e, detail), why_not));
            }
        }
    }
    let Some((ca, path)) = used else {
        return Err(fail(Finding::not_run("no verified time"), why_not));
    };
    // 6. SCT, over the leaf as issued by the certificate above it
    let issuer_spki = path.get(1).map(|c| c.spki_der.as_slice()).unwrap_or(&[]);
    let sct = match verify_sct(leaf_der, issuer_spki, &s.root) {
        Ok(v) => v,
        Err(e) => return Err(fail(sigstore_fail(e.into()), why_not)),
    };
    let leaf = path.first().cloned().ok_or_else(|| {
        fail(
            Finding::not_run("no validated path"),
            "no certificate path was validated",
        )
    })?;
    let signer = Signer::Keyless(KeylessSigner {
        leaf: Box::new(leaf),
        identity,
        ca: ca.clone(),
        ct_log: sct.log,
        trusted_root: s.root.label.clone(),
    });
    let at_times: Vec<String> = times.iter().map(|t| rfc3339(*t)).collect();
    let chain = Finding::pass(format!(
        "Fulcio certificate chains to CA {ca} of trusted root {} at {}",
        s.root.label,
        at_times.join(", ")
    ));
    Ok(Box::new(TrustFacts {
        key: None,
        trust: Finding::pass(signer.trust_detail()),
        signer: Some(signer),
        chain,
        validated_at: times.first().map(|t| system_time(*t)),
        root: path.last().map(|r| r.subject.to_string()),
        expiry: expiry(&path, ctx.validity_time()),
        path,
        revocation: Finding::skipped(
            "Fulcio certificates live minutes and are checked at their logged time; no revocation list applies",
        ),
    }))
}

/// The leaf chained to a Fulcio CA of the root whose window contains `t`,
/// at `t`: the CA's URI and the path, leaf first, root last.
fn chain_at(s: &Sigstore, leaf_der: &[u8], t: i64) -> Result<(String, Vec<CertInfo>), Error> {
    let mut last = None;
    for ca in s.root.cas_at(t) {
        let anchors = match TrustAnchors::from_der(&[ca.root().to_vec()]) {
            Ok(a) => a,
            Err(e) => {
                last = Some(Error::Certificate(e));
                continue;
            }
        };
        let mut ders = vec![leaf_der.to_vec()];
        ders.extend(ca.intermediates().iter().cloned());
        match chain::validate(&ders, &anchors, system_time(t)) {
            Ok(v) => {
                let mut path = vec![v.leaf];
                path.extend(v.intermediates);
                path.extend(anchors.roots().iter().cloned());
                return Ok((ca.uri.clone(), path));
            }
            Err(e) => last = Some(Error::Certificate(e)),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::Sigstore(modelseal_sigstore::Error::Certificate {
            reason: CertificateError::NoCaAt {
                root: s.root.label.clone(),
                time: rfc3339(t),
            },
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(bytes: &[u8]) -> TimestampError {
        let root = TrustedRoot::public_good().unwrap();
        match verify_timestamp(3, bytes, b"signature", &root) {
            Err(modelseal_sigstore::Error::Timestamp { index: 3, reason }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timestamps_that_are_not_tokens_say_why() {
        assert!(matches!(
            reason(b"not DER"),
            TimestampError::Token(modelseal_sigstore::TimestampTokenError::Der(_))
        ));
        // A ContentInfo shape whose content is not a SignedData.
        assert!(matches!(
            reason(&[0x30, 0x05, 0x06, 0x01, 0x00, 0xa0, 0x00]),
            TimestampError::Decode(_)
        ));
    }
}
