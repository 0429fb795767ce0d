//! Sigstore as a trust source: keyless (Fulcio) signers and the evidence
//! any bundle carries (transparency-log entries, timestamps).
//!
//! Evidence, for every bundle that carries some ([`verify_evidence`]):
//! 1. every transparency-log entry verifies against the trusted root
//!    (`modelseal_sigstore::rekor`: body, SET, inclusion proof,
//!    checkpoint); a present entry that fails is a rejection;
//! 2. every RFC 3161 timestamp verifies (`modelseal-timestamp`): its
//!    imprint is the hash of the signature, its TSA chains to a timestamp
//!    authority of the trusted root at genTime, and genTime lies in that
//!    authority's window. In certificate mode (`--trust-root`) timestamps
//!    are not Sigstore evidence and are left to that mode.
//!
//! Keyless signers ([`keyless_signer`]), after the evidence:
//! 3. at least one entry, and at least one verified time (an integrated
//!    time vouched for by a SET); never the clock;
//! 4. the leaf chains to a Fulcio CA of the trusted root, for code
//!    signing, at every verified time (so the leaf was valid when it was
//!    logged), and the CA's window contains that time;
//! 5. an embedded SCT of a trusted CT log verifies;
//! 6. the OIDC issuer and SAN match one of the required identities.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use modelseal_manifest::{BundleVersion, Evidence};
use modelseal_sigstore::rekor::{self, Signed, VerifiedEntry};
use modelseal_sigstore::{CertIdentity, KeylessIdentity, TrustedRoot, fulcio, sct};

use crate::cert::CertInfo;
use crate::chain::{self, TrustAnchors};
use crate::error::Error;
use crate::report::{CheckName, Report, Status};
use crate::signature::PublicKey;

/// Sigstore trust: a trusted root, and either the identities a keyless
/// signer must have or the public key a key bundle must be signed with.
#[derive(Debug, Clone)]
pub struct SigstoreTrust {
    root: TrustedRoot,
    identities: Vec<KeylessIdentity>,
    key: Option<PublicKey>,
}

impl SigstoreTrust {
    /// Keyless: the leaf must chain to a Fulcio CA of `root` and match one
    /// of `identities`.
    ///
    /// # Errors
    /// [`Error::Config`] when `identities` is empty (a keyless signature
    /// without a required identity proves nothing about who signed).
    pub fn keyless(root: TrustedRoot, identities: Vec<KeylessIdentity>) -> Result<Self, Error> {
        if identities.is_empty() {
            return Err(Error::Config(
                "keyless verification needs an OIDC issuer and an identity".into(),
            ));
        }
        Ok(SigstoreTrust {
            root,
            identities,
            key: None,
        })
    }

    /// A key bundle signed by `key`, whose evidence verifies against `root`.
    pub fn key(root: TrustedRoot, key: PublicKey) -> Self {
        SigstoreTrust {
            root,
            identities: Vec::new(),
            key: Some(key),
        }
    }

    /// The trusted root.
    pub fn root(&self) -> &TrustedRoot {
        &self.root
    }

    /// The public key, in key mode.
    pub fn public_key(&self) -> Option<&PublicKey> {
        self.key.as_ref()
    }
}

/// What a bundle's evidence established.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvidenceFacts {
    /// Entries that verified.
    pub entries: Vec<VerifiedEntry>,
    /// Timestamps that verified: the TSA's URI and genTime.
    pub timestamps: Vec<(String, i64)>,
    /// Verified times (Unix seconds): SET-backed integrated times and
    /// timestamp genTimes.
    pub times: Vec<i64>,
}

/// Where evidence is checked: a given trusted root, the built-in one, or
/// (certificate mode) transparency-log entries against the built-in root
/// and timestamps not at all.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EvidenceRoot<'a> {
    Given(&'a TrustedRoot),
    PublicGood,
    CertificateMode,
}

/// Steps 1–2, recorded as the `tlog` and `timestamp` checks.
///
/// # Errors
/// The first entry that does not verify, or a timestamp.
pub(crate) fn verify_evidence(
    version: BundleVersion,
    evidence: &Evidence,
    signed: &Signed<'_>,
    where_: EvidenceRoot<'_>,
    report: &mut Report,
) -> Result<EvidenceFacts, Error> {
    let mut facts = EvidenceFacts::default();
    if evidence.is_empty() {
        report.record(
            CheckName::Tlog,
            Status::Skipped,
            "no transparency-log entry",
        );
        report.record(
            CheckName::Timestamp,
            Status::Skipped,
            "no RFC 3161 timestamp",
        );
        return Ok(facts);
    }
    let public;
    let root = match where_ {
        EvidenceRoot::Given(r) => r,
        EvidenceRoot::PublicGood | EvidenceRoot::CertificateMode => {
            public = TrustedRoot::public_good()?;
            &public
        }
    };
    if evidence.tlog_entries.is_empty() {
        report.record(
            CheckName::Tlog,
            Status::Skipped,
            "no transparency-log entry",
        );
    } else {
        let entries = report.track(
            CheckName::Tlog,
            evidence
                .tlog_entries
                .iter()
                .enumerate()
                .map(|(i, e)| rekor::verify_entry(i, e, version, signed, root))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Error::from),
            |entries| describe_entries(entries, &root.label),
        )?;
        facts.times = entries.iter().filter_map(|e| e.integrated_time).collect();
        facts.entries = entries;
    }
    if evidence.timestamps.is_empty() {
        report.record(
            CheckName::Timestamp,
            Status::Skipped,
            "no RFC 3161 timestamp",
        );
    } else if let EvidenceRoot::CertificateMode = where_ {
        report.record(
            CheckName::Timestamp,
            Status::Skipped,
            "RFC 3161 timestamps are Sigstore evidence only with --public-key or keyless trust",
        );
    } else {
        let stamps = report.track(
            CheckName::Timestamp,
            evidence
                .timestamps
                .iter()
                .enumerate()
                .map(|(i, t)| verify_timestamp(i, t, signed.content.signature(), root))
                .collect::<Result<Vec<_>, _>>(),
            |stamps| {
                let each: Vec<String> = stamps
                    .iter()
                    .map(|(tsa, t)| format!("genTime {} from {tsa}", crate::report::rfc3339(*t)))
                    .collect();
                format!("{} (trusted root {})", each.join("; "), root.label)
            },
        )?;
        facts.times.extend(stamps.iter().map(|(_, t)| *t));
        facts.timestamps = stamps;
    }
    Ok(facts)
}

/// One RFC 3161 timestamp over `signature`, by a TSA of `root`.
fn verify_timestamp(
    index: usize,
    bytes: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<(String, i64), Error> {
    let fail =
        |reason: String| Error::Sigstore(modelseal_sigstore::Error::Timestamp { index, reason });
    let der = modelseal_sigstore::timestamp_token(bytes).map_err(fail)?;
    let token = modelseal_timestamp::Token::from_der(der).map_err(|e| fail(e.to_string()))?;
    if root.timestamp_authorities.is_empty() {
        return Err(fail(format!(
            "the trusted root {} has no timestamp authority",
            root.label
        )));
    }
    let mut why = Vec::new();
    for tsa in &root.timestamp_authorities {
        let trust = match modelseal_timestamp::TsaTrust::from_der(&[tsa.root().to_vec()]) {
            Ok(t) => t.with_certificates(tsa.intermediates().to_vec()),
            Err(e) => {
                why.push(format!("{}: {e}", tsa.uri));
                continue;
            }
        };
        match modelseal_timestamp::verify(&token, signature, &trust, None) {
            Ok(v) => {
                let t = v
                    .gen_time()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                if !tsa.valid_for.contains(t) {
                    why.push(format!(
                        "{}: genTime {} is outside the authority's validity window",
                        tsa.uri,
                        crate::report::rfc3339(t)
                    ));
                    continue;
                }
                return Ok((tsa.uri.clone(), t));
            }
            Err(e) => why.push(format!("{}: {e}", tsa.uri)),
        }
    }
    Err(fail(format!(
        "not a valid timestamp of a timestamp authority of the trusted root ({})",
        why.join("; ")
    )))
}

fn describe_entries(entries: &[VerifiedEntry], root: &str) -> String {
    let each: Vec<String> = entries
        .iter()
        .map(|e| {
            let time = e
                .integrated_time
                .map(|t| format!(", integrated {}", crate::report::rfc3339(t)))
                .unwrap_or_default();
            format!(
                "{} entry {} in {}{}{time}, inclusion proof to a signed checkpoint{}",
                e.kind,
                e.log_index,
                e.log,
                if e.rekor_v2 { " (Rekor v2)" } else { "" },
                e.checkpoint_size
                    .map(|s| format!(" of {s} entries"))
                    .unwrap_or_else(|| " (SET only)".into()),
            )
        })
        .collect();
    format!("{} (trusted root {root})", each.join("; "))
}

fn system_time(t: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0))
}

/// Steps 3–6: the leaf's key and who it is.
///
/// # Errors
/// [`Error::Sigstore`] for missing evidence, SCTs and identities,
/// [`Error::Certificate`] when the leaf does not chain at a verified time.
pub(crate) fn keyless_signer(
    chain_der: &[Vec<u8>],
    facts: &EvidenceFacts,
    trust: &SigstoreTrust,
) -> Result<(PublicKey, KeylessSigner), Error> {
    let missing = |m| Error::Sigstore(modelseal_sigstore::Error::Missing(m));
    // 3. evidence
    if facts.entries.is_empty() {
        return Err(missing(
            "a keyless signature needs a transparency-log entry, and the bundle has none",
        ));
    }
    if facts.times.is_empty() {
        return Err(missing(
            "no verified time: no entry has a signed entry timestamp and the bundle has no timestamp",
        ));
    }
    let leaf = chain_der
        .first()
        .ok_or_else(|| missing("the bundle carries no certificate"))?;
    // 4. chain at every verified time
    let mut used = None;
    for &t in &facts.times {
        let mut last_err = None;
        let mut ok = None;
        for ca in trust.root.cas_at(t) {
            let anchors = match TrustAnchors::from_der(&[ca.root().to_vec()]) {
                Ok(a) => a,
                Err(e) => {
                    last_err = Some(Error::from(e));
                    continue;
                }
            };
            let mut path = vec![leaf.clone()];
            path.extend(ca.intermediates().iter().cloned());
            match chain::validate(&path, &anchors, system_time(t)) {
                Ok(v) => {
                    ok = Some((ca.clone(), v));
                    break;
                }
                Err(e) => last_err = Some(e.into()),
            }
        }
        match ok {
            Some(found) => used = Some(found),
            None => {
                return Err(last_err.unwrap_or_else(|| {
                    missing("no Fulcio CA of the trusted root is valid at the verified time")
                }));
            }
        }
    }
    let (ca, validated) = used.ok_or_else(|| missing("no verified time"))?;
    // 5. SCT: the issuer is the certificate above the leaf.
    let issuer_der = ca.chain.first().map(Vec::as_slice).unwrap_or_default();
    let issuer = CertInfo::from_der(issuer_der)?;
    let sct =
        sct::verify(leaf, &issuer.spki_der, &trust.root).map_err(|e| Error::Sigstore(e.into()))?;
    // 6. identity
    // The issuer and SANs are read here; step 6 matches them (the
    // `identity` check).
    let identity = fulcio::identity(leaf)?;
    let matched = String::new();
    let key = PublicKey::from_spki_der(&validated.leaf.spki_der)?;
    Ok((
        key,
        KeylessSigner {
            leaf: Box::new(validated.leaf),
            identity,
            matched,
            ca: ca.uri,
            ct_log: sct.log,
            times: facts.times.clone(),
        },
    ))
}

/// Step 6: the signer's issuer and SAN match one of the required
/// identities; records which in `signer`.
///
/// # Errors
/// [`Error::Sigstore`] with an identity mismatch.
pub(crate) fn match_identity(
    signer: &mut KeylessSigner,
    trust: &SigstoreTrust,
) -> Result<String, Error> {
    let matched = fulcio::check(&signer.identity, &trust.identities)
        .map_err(|e| Error::Sigstore(e.into()))?
        .to_string();
    signer.matched.clone_from(&matched);
    Ok(matched)
}

/// A keyless signer that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessSigner {
    /// The Fulcio leaf.
    pub leaf: Box<CertInfo>,
    /// Its OIDC issuer and SANs.
    pub identity: CertIdentity,
    /// The required identity it matched.
    pub matched: String,
    /// The Fulcio CA's URI.
    pub ca: String,
    /// The CT log whose SCT verified.
    pub ct_log: String,
    /// The verified times the chain was checked at.
    pub times: Vec<i64>,
}
