//! Gathering the facts about one signature under a policy: every check
//! runs on its own (so a `log` check can be reported even when another
//! fails), using the verifier's step functions.
//!
//! 1. **bundle**: parses strictly.
//! 2. **signature**: the DSSE signature verifies with the signing
//!    certificate's own key (whether or not the certificate is trusted).
//! 3. **statement**: the verified payload is a well-formed OMS statement.
//! 4. **chain**: the chain validates to the policy's roots. If it fails
//!    only because a certificate is outside its validity period, it is
//!    validated again at the instant closest to the verification time at
//!    which every certificate of the bundle is valid (else the leaf's
//!    window): a chain that validates there is authentic, and only its
//!    expiry is wrong. So `expiry: log` proves everything else still holds.
//! 5. **algorithm**: allowed signature algorithm; RSA keys of the signing
//!    certificate and of the path at least the policy's minimum.
//! 6. **identity**: the leaf matches trusted identities (reported even when
//!    the chain failed, to say who signed).
//! 7. **expiry**: every certificate of the path (root included) is valid at
//!    the verification time; without a validated path, those the bundle
//!    carries.
//! 8. **revocation**: the deny list over the path's certificates, then the
//!    CRLs along the validated path (at the time it validated), and every
//!    CRL current at the verification time.
//!
//! The files check needs the model; [`crate::enforce`] fills it in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use modelseal_manifest::{Bundle, Manifest, SignatureAlgorithm, VerificationMaterial, statement};
use modelseal_verifier::chain::{self, ValidatedChain};
use modelseal_verifier::report::rfc3339;
use modelseal_verifier::{
    CertInfo, CertificateError, CrlCheck, Identity, PublicKey, TrustAnchors, algorithm_for,
};

use crate::document::Policy;
use crate::evaluate::{Fact, SignatureFacts};
use crate::level::Action;
use crate::rules::coverage_name;

/// What gathering found besides the facts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Found {
    /// The verified manifest (signature and statement passed).
    pub(crate) manifest: Option<Manifest>,
    /// The signing certificate.
    pub(crate) leaf: Option<CertInfo>,
    /// The root the chain validated to.
    pub(crate) root: Option<String>,
    /// The signature algorithm.
    pub(crate) algorithm: Option<SignatureAlgorithm>,
    /// The trusted identities the leaf matched.
    pub(crate) identities: Vec<String>,
}

/// Gather the facts about the bundle `bytes` under `policy` at `now`.
pub(crate) fn gather(
    policy: &Policy,
    label: &str,
    bytes: &[u8],
    now: SystemTime,
) -> (SignatureFacts, Found) {
    let mut f = SignatureFacts::unknown(label, "an earlier check failed");
    let mut found = Found::default();
    f.files = Fact::not_run("the signature was not accepted");

    // 1. bundle
    let bundle = match Bundle::from_json(bytes) {
        Ok(b) => b,
        Err(e) => {
            f.bundle = Fact::input(format!("malformed bundle: {e}"));
            return (f, found);
        }
    };
    let VerificationMaterial::Certificates(ders) = &bundle.material else {
        f.bundle = Fact::fail(
            "the bundle is signed by a bare key: policies trust certificate chains only",
        );
        return (f, found);
    };
    let infos = match ders
        .iter()
        .map(|d| CertInfo::from_der(d))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(infos) if !infos.is_empty() => infos,
        Ok(_) => {
            f.bundle = Fact::input("the bundle carries no certificate");
            return (f, found);
        }
        Err(e) => {
            f.bundle = Fact::input(format!("certificate: {e}"));
            return (f, found);
        }
    };
    let Some(leaf) = infos.first().cloned() else {
        return (f, found);
    };
    f.bundle = Fact::pass(format!(
        "OMS bundle with a chain of {} certificate{}",
        infos.len(),
        if infos.len() == 1 { "" } else { "s" }
    ));
    f.signer_key = Some(leaf.spki_sha256.clone());
    found.leaf = Some(leaf.clone());

    // 2. signature, with the leaf's own key
    let env = &bundle.envelope;
    let key = PublicKey::from_spki_der(&leaf.spki_der);
    let algorithm = key
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|k| algorithm_for(k.key_kind(), &env.keyid));
    f.signature = match (&key, &algorithm) {
        (Ok(k), Ok(alg)) => match k.verify(*alg, &env.pae(), &env.signature) {
            Ok(()) => Fact::pass(format!(
                "{alg} signature over the DSSE envelope verifies with the signing certificate's key"
            )),
            Err(e) => Fact::fail(format!("signature: {e}")),
        },
        (Err(e), _) | (_, Err(e)) => Fact::fail(format!("signature: {e}")),
    };
    found.algorithm = algorithm.as_ref().ok().copied();

    // 3. statement, only from a verified payload
    f.statement = if f.signature.status == modelseal_verifier::Status::Pass {
        match statement::from_payload(&env.payload) {
            Ok(m) => {
                let fact = Fact::pass(format!("OMS statement of {} resources", m.len()));
                found.manifest = Some(m);
                fact
            }
            Err(e) => Fact::input(format!("statement: {e}")),
        }
    } else {
        Fact::not_run("the signature did not verify")
    };

    // 4. chain (and 7. expiry)
    let anchors = policy.anchors();
    let path = match anchors {
        Some(anchors) => {
            let (chain, path) = validate_in_window(ders, &infos, anchors, now);
            f.chain = chain;
            path
        }
        None => {
            f.chain = Fact::not_run("the policy has no trust store");
            None
        }
    };
    let path_certs: Vec<CertInfo> = match (&path, anchors) {
        (Some((v, _)), Some(a)) => {
            let mut certs = vec![v.leaf.clone()];
            certs.extend(v.intermediates.iter().cloned());
            if let Some(root) = a
                .roots()
                .iter()
                .find(|r| r.subject.to_string() == v.root_subject)
            {
                certs.push(root.clone());
            }
            certs
        }
        _ => infos.clone(),
    };
    found.root = path.as_ref().map(|(v, _)| v.root_subject.clone());
    f.expiry = expiry(&path_certs, now);

    // 5. algorithm
    f.algorithm = match (&key, &algorithm) {
        (Ok(k), Ok(alg)) => {
            let mut keys = Vec::new();
            let mut bad = None;
            for c in path_certs.iter().skip(1) {
                match PublicKey::from_spki_der(&c.spki_der) {
                    Ok(pk) => keys.push((format!("{}", c.subject), pk.key_kind())),
                    Err(e) => bad = Some(format!("{}: {e}", c.subject)),
                }
            }
            match bad {
                Some(why) => Fact::fail(why),
                None => match policy.algorithms().check(*alg, k.key_kind(), &keys) {
                    Ok(d) => Fact::pass(d),
                    Err(d) => Fact::fail(d),
                },
            }
        }
        (Err(e), _) | (_, Err(e)) => Fact::fail(e.to_string()),
    };

    // 6. identity
    let (identity, matched) = identity(&leaf, policy.identities(), f.chain.status);
    f.identity = identity;
    found.identities = matched
        .iter()
        .filter_map(|i| policy.identities().get(*i))
        .map(ToString::to_string)
        .collect();
    f.matched = matched;

    // 8. revocation
    f.revocation = if policy.actions().revocation == Action::Skip {
        Fact::skipped("skipped by the policy")
    } else {
        revocation(policy, ders, &path_certs, path.as_ref(), anchors, now)
    };
    (f, found)
}

fn unix(t: SystemTime) -> i64 {
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

/// Step 4: validate at `now`, or, when only validity periods stand in the
/// way, at the closest instant when every certificate is valid.
fn validate_in_window(
    ders: &[Vec<u8>],
    infos: &[CertInfo],
    anchors: &TrustAnchors,
    now: SystemTime,
) -> (Fact, Option<(ValidatedChain, SystemTime)>) {
    let describe = |v: &ValidatedChain| {
        format!(
            "{} chains to trusted root {}",
            v.leaf.subject, v.root_subject
        )
    };
    let first = match chain::validate(ders, anchors, now) {
        Ok(v) => {
            let d = describe(&v);
            return (Fact::pass(d), Some((v, now)));
        }
        Err(e) => e,
    };
    if !matches!(
        first,
        CertificateError::Expired { .. } | CertificateError::NotYetValid { .. }
    ) {
        return (Fact::fail(first.to_string()), None);
    }
    let now_unix = unix(now);
    let all: Vec<&CertInfo> = infos.iter().collect();
    let leaf: Vec<&CertInfo> = infos.iter().take(1).collect();
    let mut tried = Vec::new();
    let mut last = first.clone();
    for t in [
        closest_valid_time(&all, now_unix),
        closest_valid_time(&leaf, now_unix),
    ]
    .into_iter()
    .flatten()
    {
        if t == now_unix || tried.contains(&t) {
            continue;
        }
        tried.push(t);
        let Some(at) = system_time(t) else { continue };
        match chain::validate(ders, anchors, at) {
            Ok(v) => {
                let d = format!(
                    "{} (validated at {}, when every certificate was valid: {first})",
                    describe(&v),
                    rfc3339(t)
                );
                return (Fact::pass(d), Some((v, at)));
            }
            Err(e) => last = e,
        }
    }
    let detail = if last == first {
        format!("{first}; the chain was never valid as a whole")
    } else {
        format!("{first}; and within the certificates' validity: {last}")
    };
    (Fact::fail(detail), None)
}

/// Step 7.
fn expiry(certs: &[CertInfo], now: SystemTime) -> Fact {
    let now = unix(now);
    if let Some(c) = certs.iter().find(|c| c.not_after < now) {
        return Fact::fail(format!("{} expired at {}", c.subject, rfc3339(c.not_after)));
    }
    if let Some(c) = certs.iter().find(|c| c.not_before > now) {
        return Fact::fail(format!(
            "{} is not valid before {}",
            c.subject,
            rfc3339(c.not_before)
        ));
    }
    match certs.iter().map(|c| c.not_after).min() {
        Some(until) => Fact::pass(format!(
            "all {} certificates valid until {}",
            certs.len(),
            rfc3339(until)
        )),
        None => Fact::not_run("no certificate"),
    }
}

/// Step 6.
fn identity(
    leaf: &CertInfo,
    identities: &[Identity],
    chain: modelseal_verifier::Status,
) -> (Fact, Vec<usize>) {
    if identities.is_empty() {
        return (
            Fact::skipped("the policy lists no trusted identity"),
            Vec::new(),
        );
    }
    let matched: Vec<usize> = identities
        .iter()
        .enumerate()
        .filter(|(_, id)| id.matches(leaf))
        .map(|(i, _)| i)
        .collect();
    let untrusted = if chain == modelseal_verifier::Status::Pass {
        ""
    } else {
        " (but the chain is not trusted)"
    };
    if matched.is_empty() {
        let err = modelseal_verifier::identity::check(leaf, identities)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        return (Fact::fail(format!("{err}{untrusted}")), matched);
    }
    let names: Vec<String> = matched
        .iter()
        .filter_map(|i| identities.get(*i))
        .map(ToString::to_string)
        .collect();
    (
        Fact::pass(format!("signer matches {}{untrusted}", names.join(", "))),
        matched,
    )
}

/// Step 8.
fn revocation(
    policy: &Policy,
    ders: &[Vec<u8>],
    certs: &[CertInfo],
    path: Option<&(ValidatedChain, SystemTime)>,
    anchors: Option<&TrustAnchors>,
    now: SystemTime,
) -> Fact {
    let rules = policy.revocation();
    if rules.is_empty() {
        return Fact::skipped("the policy gives no CRL or deny list");
    }
    if let Some(why) = certs.iter().find_map(|c| rules.deny().denies(c)) {
        return Fact::fail(why);
    }
    let mut done = Vec::new();
    if !rules.deny().is_empty() {
        done.push(format!(
            "no certificate on the deny list of {} entries",
            rules.deny().len()
        ));
    }
    if !rules.crls().is_empty() {
        let check = CrlCheck {
            crls: rules.crls(),
            coverage: rules.coverage(),
        };
        if let Some(stale) = check.stale_at(unix(now)) {
            return Fact::fail(format!(
                "the CRL of {} is stale: its nextUpdate was {}",
                stale.issuer(),
                rfc3339(stale.next_update())
            ));
        }
        let (Some((_, at)), Some(anchors)) = (path, anchors) else {
            return Fact::not_run(
                "CRLs are checked along a validated chain, and the chain did not validate",
            );
        };
        match chain::validate_with(ders, anchors, *at, Some(&check)) {
            Ok(_) => done.push(format!(
                "not revoked by {} CRL{} (coverage: {})",
                rules.crls().len(),
                if rules.crls().len() == 1 { "" } else { "s" },
                coverage_name(rules.coverage())
            )),
            Err(e) => return Fact::fail(e.to_string()),
        }
    }
    Fact::pass(done.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelseal_verifier::DistinguishedName;

    fn cert(nb: i64, na: i64) -> CertInfo {
        CertInfo {
            subject: DistinguishedName::default(),
            issuer: DistinguishedName::default(),
            sans: vec![],
            serial: "01".into(),
            sha256: String::new(),
            spki_sha256: String::new(),
            spki_der: vec![],
            not_before: nb,
            not_after: na,
            digital_signature: true,
            code_signing: true,
            is_ca: false,
            signature_algorithm: String::new(),
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
        assert_eq!(
            expiry(&[cert(0, 300)], now).status,
            modelseal_verifier::Status::Pass
        );
        let f = expiry(&[cert(0, 300), cert(0, 200)], now);
        assert_eq!(f.status, modelseal_verifier::Status::Fail);
        assert!(
            f.detail.contains("expired at 1970-01-01T00:03:20Z"),
            "{}",
            f.detail
        );
        let f = expiry(&[cert(260, 300)], now);
        assert!(f.detail.contains("not valid before"), "{}", f.detail);
    }
}
