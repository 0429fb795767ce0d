//! Trust sources: who the verifier trusts, and what trusting a bundle's
//! signer found.
//!
//! A [`TrustSource`] looks at a [`ParsedBundle`] and returns
//! [`TrustFacts`]: whether the signer is trusted at the validity time,
//! whether the chain is authentic at all (valid at some instant inside the
//! certificates' validity), whether every certificate of the path is valid
//! at the validity time (expiry), and whether any is revoked under the
//! given lists. Two sources ship here:
//!
//! - [`TrustAnchors`]: X.509 roots; the chain is validated with
//!   rustls-webpki ([`crate::chain`]).
//! - [`PublicKey`]: one key; the bundle must be a bare-key bundle for it
//!   (its key hint, when present, must name it).
//!
//! [`Trust`] is either, for callers that read it from flags. A Sigstore
//! trusted root (Fulcio CAs, Rekor, CT logs) is another source: it
//! implements [`TrustSource`] in its own crate, validates the Fulcio chain
//! at the time its evidence establishes ([`TrustContext::validity_time`]),
//! and fills in the same facts.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use modelseal_manifest::key_hint;
use modelseal_manifest::{HashAlgorithm, VerificationMaterial};

use crate::cert::{CertInfo, hex};
use crate::chain::{self, TrustAnchors, ValidatedChain};
use crate::crl::{Coverage, CrlCheck};
use crate::error::{CertificateError, Error};
use crate::evidence::{Evidence, VerifiedTime};
use crate::facts::{Finding, MaterialKind, ParsedBundle};
use crate::identity::Identity;
use crate::report::rfc3339;
use crate::signature::PublicKey;
use crate::verify::Signer;

/// What the verifier trusts: roots or one key (the two sources the
/// command line offers).
#[derive(Debug)]
#[non_exhaustive]
pub enum Trust {
    /// Certificate mode: the chain must lead to one of these roots.
    Roots(TrustAnchors),
    /// Key mode: the bundle must be signed by this key.
    PublicKey(PublicKey),
}

/// What a trust source is told besides the bundle.
#[derive(Debug, Clone, Copy)]
pub struct TrustContext<'a> {
    /// The verification time the caller gave.
    pub now: SystemTime,
    /// The time certificate validity is checked at: the earliest time
    /// verified evidence established, else `now`.
    pub signed_at: &'a VerifiedTime,
    /// Revocation lists to check the path against, if any.
    pub crls: Option<CrlCheck<'a>>,
    /// Every item of evidence examined, verified or not (a keyless source
    /// checks the leaf at each verified time).
    pub evidence: &'a [Evidence],
    /// The identities the signer will be matched against (a keyless
    /// source refuses to trust anyone when none is a keyless identity).
    pub identities: &'a [Identity],
}

impl TrustContext<'_> {
    /// The instant certificate validity is checked at.
    pub fn validity_time(&self) -> SystemTime {
        self.signed_at.at
    }
}

/// What a trust source found about a bundle's signer.
#[derive(Debug)]
#[non_exhaustive]
pub struct TrustFacts {
    /// For a bare-key bundle: the key its signature must verify with.
    pub key: Option<PublicKey>,
    /// The trusted signer, when [`TrustFacts::trust`] passed.
    pub signer: Option<Signer>,
    /// The signer is trusted at the validity time (chain to a root, valid,
    /// for code signing; or the given key).
    pub trust: Finding,
    /// The chain is authentic: it validates at the validity time or, when
    /// only validity periods stand in the way, at the instant closest to
    /// it at which every certificate is valid.
    pub chain: Finding,
    /// When the chain validated ([`TrustFacts::chain`]).
    pub validated_at: Option<SystemTime>,
    /// The certificates of the validated path, leaf first, root last; else
    /// those the bundle carries.
    pub path: Vec<CertInfo>,
    /// The trusted root's subject, when the chain validated.
    pub root: Option<String>,
    /// Every certificate of [`TrustFacts::path`] is valid at the validity
    /// time.
    pub expiry: Finding,
    /// No certificate of the path is revoked by the given lists.
    pub revocation: Finding,
}

impl TrustFacts {
    /// Facts with `trust` as found and everything else not run.
    pub fn new(trust: Finding) -> TrustFacts {
        let n = || Finding::not_run("no certificate chain was checked");
        TrustFacts {
            key: None,
            signer: None,
            trust,
            chain: n(),
            validated_at: None,
            path: Vec::new(),
            root: None,
            expiry: n(),
            revocation: n(),
        }
    }

    /// Facts for a bundle no source trusts: `why` for trust and chain,
    /// expiry of the bundle's own certificates.
    pub(crate) fn untrusted(parsed: &ParsedBundle, ctx: &TrustContext<'_>, why: &str) -> Self {
        let path = parsed.certificates().map(<[_]>::to_vec).unwrap_or_default();
        TrustFacts {
            chain: Finding::not_run(why),
            expiry: expiry(&path, ctx.validity_time()),
            path,
            revocation: Finding::not_run(
                "CRLs are checked along a validated chain, and no chain was validated",
            ),
            ..TrustFacts::new(Finding::not_run(why))
        }
    }
}

/// Who the verifier trusts, as a step of the pipeline ([`crate::facts`]).
///
/// Implement it for a new kind of trust root (a Sigstore trusted root).
/// [`TrustSource::establish`] must fill [`TrustFacts::trust`] (strict: the
/// signer is trusted at [`TrustContext::validity_time`]) and, for
/// certificate bundles, `chain`, `path`, `expiry` and `revocation`; for a
/// bare-key bundle, `key`. A passing `trust` must come with `signer`.
pub trait TrustSource: fmt::Debug + Send + Sync {
    /// Decide whether the signer of `bundle` is trusted.
    fn establish(&self, bundle: &ParsedBundle, ctx: &TrustContext<'_>) -> TrustFacts;
}

impl TrustSource for Trust {
    fn establish(&self, bundle: &ParsedBundle, ctx: &TrustContext<'_>) -> TrustFacts {
        match self {
            Trust::Roots(anchors) => anchors.establish(bundle, ctx),
            Trust::PublicKey(key) => key.establish(bundle, ctx),
        }
    }
}

impl TrustSource for TrustAnchors {
    fn establish(&self, bundle: &ParsedBundle, ctx: &TrustContext<'_>) -> TrustFacts {
        if bundle.material() != MaterialKind::Certificates {
            let mut f = TrustFacts::untrusted(bundle, ctx, "the bundle carries no certificate");
            f.trust = Finding::fail(Error::MaterialMismatch {
                bundle: bundle.material(),
            });
            return f;
        }
        let ders = bundle.chain_der();
        let at = ctx.validity_time();
        let strict = chain::validate(ders, self, at);
        let (trust, signer) = match &strict {
            Ok(v) => {
                let signer = Signer::Certificate {
                    leaf: Box::new(v.leaf.clone()),
                    intermediates: v.intermediates.clone(),
                    root_subject: v.root_subject.clone(),
                };
                (Finding::pass(signer.trust_detail()), Some(signer))
            }
            Err(e) => (Finding::fail(Error::Certificate(e.clone())), None),
        };
        let infos = bundle.certificates().map(<[_]>::to_vec).unwrap_or_default();
        let (chain, validated) = match strict {
            Ok(v) => (Finding::pass(describe(&v)), Some((v, at))),
            Err(first) => validate_in_window(ders, &infos, self, at, first),
        };
        let path = match &validated {
            Some((v, _)) => {
                let mut certs = vec![v.leaf.clone()];
                certs.extend(v.intermediates.iter().cloned());
                if let Some(root) = self
                    .roots()
                    .iter()
                    .find(|r| r.subject.to_string() == v.root_subject)
                {
                    certs.push(root.clone());
                }
                certs
            }
            None => infos,
        };
        let revocation = match ctx.crls {
            None => Finding::skipped("no revocation list given"),
            Some(check) => revocation(self, ders, &check, validated.as_ref(), ctx.now),
        };
        TrustFacts {
            key: None,
            signer,
            trust,
            chain,
            validated_at: validated.as_ref().map(|(_, t)| *t),
            root: validated.as_ref().map(|(v, _)| v.root_subject.clone()),
            expiry: expiry(&path, at),
            path,
            revocation,
        }
    }
}

impl TrustSource for PublicKey {
    fn establish(&self, bundle: &ParsedBundle, ctx: &TrustContext<'_>) -> TrustFacts {
        let (hint, raw) = match bundle.bundle().material() {
            VerificationMaterial::PublicKey { hint, raw } => (hint, raw),
            _ => {
                let mut f = TrustFacts::untrusted(bundle, ctx, "a public key trusts no chain");
                f.trust = Finding::fail(Error::MaterialMismatch {
                    bundle: bundle.material(),
                });
                return f;
            }
        };
        let expected = key_hint(self.spki_der());
        let mut f = TrustFacts::new(Finding::not_run(""));
        f.key = Some(self.clone());
        f.expiry = Finding::skipped("no certificate");
        f.revocation = Finding::skipped("no certificate");
        if !hint.is_empty() && *hint != expected {
            f.trust = Finding::fail(Error::KeyHint {
                hint: hint.clone(),
                expected,
            });
            f.chain = Finding::not_run("the bundle names another key");
            return f;
        }
        // model_signing before 1.1 wrote the key itself (`rawBytes`, PEM
        // text): the given key decides, and a bundle key that differs is a
        // rejection, reported like a wrong hint.
        if let Some(raw) = raw
            && !PublicKey::from_pem(raw)
                .or_else(|_| PublicKey::from_spki_der(raw))
                .is_ok_and(|k| k == *self)
        {
            f.trust = Finding::fail(Error::KeyHint {
                hint: format!(
                    "publicKey.rawBytes sha256:{}",
                    hex(HashAlgorithm::Sha256.digest(raw).as_bytes())
                ),
                expected: format!("the given key ({expected})"),
            });
            f.chain = Finding::not_run("the bundle names another key");
            return f;
        }
        let spki_sha256 = self.spki_sha256();
        let signer = Signer::Key { spki_sha256 };
        f.trust = Finding::pass(signer.trust_detail());
        f.chain = Finding::pass("signed by the given public key");
        f.signer = Some(signer);
        f
    }
}

fn describe(v: &ValidatedChain) -> String {
    format!(
        "{} chains to trusted root {}",
        v.leaf.subject, v.root_subject
    )
}

pub(crate) fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

fn system_time(unix: i64) -> Option<SystemTime> {
    u64::try_from(unix)
        .ok()
        .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
}

/// The instant closest to `now` inside `[not_before, not_after]` of every
/// certificate given, if they have one in common.
fn closest_valid_time(certs: &[&CertInfo], now: i64) -> Option<i64> {
    let lo = certs.iter().map(|c| c.not_before).max()?;
    let hi = certs.iter().map(|c| c.not_after).min()?;
    (lo <= hi).then(|| now.clamp(lo, hi))
}

/// The chain fact when validation at `at` failed with `first`: when only
/// validity periods stand in the way, validate again at the closest
/// instant at which every certificate of the bundle (else the leaf) is
/// valid. A chain that validates there is authentic; only its expiry is
/// wrong.
fn validate_in_window(
    ders: &[Vec<u8>],
    infos: &[CertInfo],
    anchors: &TrustAnchors,
    at: SystemTime,
    first: CertificateError,
) -> (Finding, Option<(ValidatedChain, SystemTime)>) {
    if !matches!(
        first,
        CertificateError::Expired { .. } | CertificateError::NotYetValid { .. }
    ) {
        let detail = first.to_string();
        return (Finding::fail_with(Error::Certificate(first), detail), None);
    }
    let at_unix = unix(at);
    let all: Vec<&CertInfo> = infos.iter().collect();
    let leaf: Vec<&CertInfo> = infos.iter().take(1).collect();
    let mut tried = Vec::new();
    let mut last = first.clone();
    for t in [
        closest_valid_time(&all, at_unix),
        closest_valid_time(&leaf, at_unix),
    ]
    .into_iter()
    .flatten()
    {
        if t == at_unix || tried.contains(&t) {
            continue;
        }
        tried.push(t);
        let Some(when) = system_time(t) else { continue };
        match chain::validate(ders, anchors, when) {
            Ok(v) => {
                let d = format!(
                    "{} (validated at {}, when every certificate was valid: {first})",
                    describe(&v),
                    rfc3339(t)
                );
                return (Finding::pass(d), Some((v, when)));
            }
            Err(e) => last = e,
        }
    }
    let detail = if last == first {
        format!("{first}; the chain was never valid as a whole")
    } else {
        format!("{first}; and within the certificates' validity: {last}")
    };
    (Finding::fail_with(Error::Certificate(first), detail), None)
}

/// Every certificate of `certs` is valid at `at`.
pub(crate) fn expiry(certs: &[CertInfo], at: SystemTime) -> Finding {
    let now = unix(at);
    if let Some(c) = certs.iter().find(|c| c.not_after < now) {
        return Finding::fail_with(
            Error::Certificate(CertificateError::Expired {
                subject: c.subject.to_string(),
                not_after: c.not_after,
            }),
            format!("{} expired at {}", c.subject, rfc3339(c.not_after)),
        );
    }
    if let Some(c) = certs.iter().find(|c| c.not_before > now) {
        return Finding::fail_with(
            Error::Certificate(CertificateError::NotYetValid {
                subject: c.subject.to_string(),
                not_before: c.not_before,
            }),
            format!(
                "{} is not valid before {}",
                c.subject,
                rfc3339(c.not_before)
            ),
        );
    }
    match certs.iter().map(|c| c.not_after).min() {
        Some(until) => Finding::pass(format!(
            "all {} certificates valid until {}",
            certs.len(),
            rfc3339(until)
        )),
        None => Finding::not_run("no certificate"),
    }
}

/// The name of a coverage rule, as policies write it.
pub fn coverage_name(c: Coverage) -> &'static str {
    match c {
        Coverage::Leaf => "leaf",
        Coverage::Chain => "chain",
        Coverage::Any => "any",
    }
}

/// The CRLs: fresh at `now`, and none revoking a certificate of the path
/// validated at its time.
fn revocation(
    anchors: &TrustAnchors,
    ders: &[Vec<u8>],
    check: &CrlCheck<'_>,
    validated: Option<&(ValidatedChain, SystemTime)>,
    now: SystemTime,
) -> Finding {
    if check.crls.is_empty() {
        return Finding::skipped("no revocation list given");
    }
    if let Some(stale) = check.stale_at(unix(now)) {
        let detail = format!(
            "the CRL of {} is stale: its nextUpdate was {}",
            stale.issuer(),
            rfc3339(stale.next_update())
        );
        return Finding::fail_with(
            Error::Certificate(CertificateError::Revocation {
                reason: detail.clone(),
            }),
            detail,
        );
    }
    let Some((_, at)) = validated else {
        return Finding::not_run(
            "CRLs are checked along a validated chain, and the chain did not validate",
        );
    };
    match chain::validate_with(ders, anchors, *at, Some(check)) {
        Ok(_) => Finding::pass(format!(
            "not revoked by {} CRL{} (coverage: {})",
            check.crls.len(),
            if check.crls.len() == 1 { "" } else { "s" },
            coverage_name(check.coverage)
        )),
        Err(e) => {
            let detail = e.to_string();
            Finding::fail_with(Error::Certificate(e), detail)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    fn cert(nb: i64, na: i64) -> CertInfo {
        CertInfo {
            not_before: nb,
            not_after: na,
            ..crate::test_support::cert_info()
        }
    }

    #[test]
    fn closest_valid_time_truth_table() {
        let (a, b) = (cert(100, 200), cert(150, 300));
        assert_eq!(closest_valid_time(&[&a, &b], 250), Some(200));
        assert_eq!(closest_valid_time(&[&a, &b], 120), Some(150));
        assert_eq!(closest_valid_time(&[&a, &b], 170), Some(170));
        assert_eq!(closest_valid_time(&[&a, &cert(250, 300)], 170), None);
        assert_eq!(closest_valid_time(&[], 170), None);
    }

    #[test]
    fn expiry_names_the_certificate() {
        let now = UNIX_EPOCH + Duration::from_secs(250);
        assert_eq!(expiry(&[cert(0, 300)], now).status(), Status::Pass);
        let f = expiry(&[cert(0, 300), cert(0, 200)], now);
        assert_eq!(f.status(), Status::Fail);
        assert!(
            f.detail().contains("expired at 1970-01-01T00:03:20Z"),
            "{}",
            f.detail()
        );
        let f = expiry(&[cert(260, 300)], now);
        assert!(f.detail().contains("not valid before"), "{}", f.detail());
    }
}
