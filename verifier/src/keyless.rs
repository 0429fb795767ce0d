//! Sigstore as a trust source: keyless (Fulcio) signers and the evidence
//! any bundle carries (transparency-log entries, timestamps).
//!
//! Evidence, for every bundle that carries some ([`verify_evidence`]):
//! 1. every transparency-log entry verifies against the trusted root
//!    (`modelseal_sigstore::rekor`: body, SET, inclusion proof,
//!    checkpoint); a present entry that fails is a rejection;
//! 2. RFC 3161 timestamps are refused for now (fail closed: they cannot be
//!    verified yet, so they cannot be accepted as evidence).
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
    /// Verified times (Unix seconds): SET-backed integrated times.
    pub times: Vec<i64>,
}

/// Steps 1–2, recorded as the `tlog` and `timestamp` checks.
///
/// # Errors
/// The first entry that does not verify, or a timestamp.
pub(crate) fn verify_evidence(
    version: BundleVersion,
    evidence: &Evidence,
    signed: &Signed<'_>,
    root: Option<&TrustedRoot>,
    report: &mut Report,
) -> Result<EvidenceFacts, Error> {
    let mut facts = EvidenceFacts::default();
    if evidence.tlog_entries.is_empty() {
        report.record(
            CheckName::Tlog,
            Status::Skipped,
            "no transparency-log entry",
        );
    } else {
        let public;
        let root = match root {
            Some(r) => r,
            None => {
                public = TrustedRoot::public_good()?;
                &public
            }
        };
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
    } else {
        let err = Error::Sigstore(modelseal_sigstore::Error::Missing(
            "the bundle carries RFC 3161 timestamps, which this build cannot verify yet",
        ));
        report.record(CheckName::Timestamp, Status::Fail, err.to_string());
        return Err(err);
    }
    Ok(facts)
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
            "no verified time: no entry has a signed entry timestamp and no timestamp verified",
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
    let identity = fulcio::identity(leaf)?;
    let matched = fulcio::check(&identity, &trust.identities)
        .map_err(|e| Error::Sigstore(e.into()))?
        .to_string();
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
