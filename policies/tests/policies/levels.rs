//! Every level and override against the good and bad chains of the
//! fixtures PKI, with models signed at test time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use crate::common::{abs, check, load, model, outcome_of, sign_as};
use modelseal_verifier::CertInfo;
use serde_json::{Value, json};

fn policy(level: &str, overrides: Value, identities: Value) -> Value {
    let mut p = json!({
        "name": "p",
        "scopes": ["models/**"],
        "level": level,
        "trustStores": ["p256"],
        "trustedIdentities": identities,
        "revocation": { "crls": [abs("pki/bad/revoked.crl.pem")] }
    });
    if !overrides.is_null() {
        p["override"] = overrides;
    }
    json!({
        "version": "1",
        "trustStores": { "p256": { "certificates": [abs("pki/p256/root.pem")] } },
        "policies": [p]
    })
}

/// (signer, accepted under strict, permissive, audit, the check that fails
/// first under strict).
const TABLE: &[(&str, [bool; 3], &str)] = &[
    ("a", [true, true, true], ""),
    ("b", [true, true, true], ""),
    ("no-san", [true, true, true], ""),
    ("expired-within-ca", [false, true, true], "expiry"),
    ("revoked", [false, true, true], "revocation"),
    ("expired", [false, false, true], "chain"),
    ("not-yet-valid", [false, false, true], "chain"),
    ("other-root", [false, false, true], "chain"),
    ("self-signed", [false, false, true], "chain"),
    ("no-codesigning-eku", [false, false, true], "chain"),
    ("no-digital-signature", [false, false, true], "chain"),
    ("leaf-is-ca", [false, false, true], "chain"),
    ("leaf-under-not-ca", [false, false, true], "chain"),
    ("pathlen-leaf", [false, false, true], "chain"),
    ("sha1", [false, false, true], "chain"),
];

#[test]
fn levels_against_every_fixture_chain() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let bundles: Vec<(&str, Vec<u8>)> = TABLE
        .iter()
        .map(|(who, ..)| (*who, sign_as(&m, who)))
        .collect();
    for (i, level) in ["strict", "permissive", "audit"].into_iter().enumerate() {
        let set = load(dir.path(), &policy(level, Value::Null, json!(["*"])));
        for ((who, want, first), (_, bundle)) in TABLE.iter().zip(&bundles) {
            let o = check(&set, &m, &[(who, bundle)]);
            assert_eq!(
                o.decision.accepted, want[i],
                "{who} under {level}: {:?}",
                o.decision.reason
            );
            if !first.is_empty() && i == 0 {
                let reason = o.decision.reason.clone().unwrap();
                assert!(
                    reason.contains(&format!("{who}: {first} failed")),
                    "{who}: {reason}"
                );
            }
            // Whatever the level, the files were checked for accepted ones,
            // and every failed check is visible with its level.
            if o.decision.accepted {
                assert_eq!(outcome_of(&o, "files").1, "pass", "{who} {level}");
            }
            if !first.is_empty() {
                let (lvl, outcome, _) = outcome_of(&o, first);
                assert_eq!(outcome, "fail", "{who} {level} {first}");
                let want_level = match (level, *first) {
                    ("strict", _) => "enforce",
                    ("permissive", "chain") => "enforce",
                    _ => "log",
                };
                assert_eq!(lvl, want_level, "{who} {level} {first}");
            }
        }
    }
}

#[test]
fn expiry_log_revalidates_inside_the_validity_window() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let bundle = sign_as(&m, "expired-within-ca");
    let set = load(dir.path(), &policy("permissive", Value::Null, json!(["*"])));
    let o = check(&set, &m, &[("x", &bundle)]);
    assert!(o.decision.accepted);
    let (_, chain, detail) = outcome_of(&o, "chain");
    assert_eq!(chain, "pass");
    assert!(
        detail.contains("validated at 2025-07-01T00:00:00Z"),
        "{detail}"
    );
    let (level, expiry, detail) = outcome_of(&o, "expiry");
    assert_eq!((level.as_str(), expiry.as_str()), ("log", "fail"));
    assert!(
        detail.contains("expired at 2025-07-01T00:00:00Z"),
        "{detail}"
    );
    // The CRL was still checked along the path validated in the window.
    assert_eq!(outcome_of(&o, "revocation").1, "pass");

    // A chain that was never valid as a whole is not authentic.
    let bundle = sign_as(&m, "expired");
    let o = check(&set, &m, &[("x", &bundle)]);
    assert!(!o.decision.accepted);
    let (_, chain, detail) = outcome_of(&o, "chain");
    assert_eq!(chain, "fail");
    assert!(detail.contains("expired"), "{detail}");
}

#[test]
fn overrides() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let expired = sign_as(&m, "expired-within-ca");
    let revoked = sign_as(&m, "revoked");
    let foreign = sign_as(&m, "other-root");
    // (level, override, bundle, accepted, check, its level, its outcome)
    type Case<'a> = (&'a str, Value, &'a [u8], bool, &'a str, &'a str, &'a str);
    let cases: &[Case<'_>] = &[
        (
            "strict",
            json!({"expiry": "log"}),
            &expired,
            true,
            "expiry",
            "log",
            "fail",
        ),
        (
            "strict",
            json!({"expiry": "skip"}),
            &expired,
            true,
            "expiry",
            "skip",
            "skipped",
        ),
        (
            "strict",
            json!({"revocation": "skip"}),
            &revoked,
            true,
            "revocation",
            "skip",
            "skipped",
        ),
        (
            "strict",
            json!({"revocation": "log"}),
            &revoked,
            true,
            "revocation",
            "log",
            "fail",
        ),
        (
            "strict",
            json!({"integrity": "enforce"}),
            &revoked,
            false,
            "revocation",
            "enforce",
            "fail",
        ),
        (
            "permissive",
            json!({"authenticity": "log"}),
            &foreign,
            true,
            "chain",
            "log",
            "fail",
        ),
        (
            "permissive",
            json!({"authenticity": "skip"}),
            &foreign,
            true,
            "chain",
            "skip",
            "skipped",
        ),
        (
            "permissive",
            json!({"expiry": "enforce"}),
            &expired,
            false,
            "expiry",
            "enforce",
            "fail",
        ),
        (
            "audit",
            json!({"expiry": "enforce"}),
            &expired,
            false,
            "expiry",
            "enforce",
            "fail",
        ),
        (
            "audit",
            json!({"revocation": "enforce"}),
            &revoked,
            false,
            "revocation",
            "enforce",
            "fail",
        ),
        (
            "audit",
            json!({"authenticity": "enforce"}),
            &foreign,
            false,
            "chain",
            "enforce",
            "fail",
        ),
    ];
    for (level, ov, bundle, accepted, name, want_level, want_outcome) in cases {
        let set = load(dir.path(), &policy(level, ov.clone(), json!(["*"])));
        let o = check(&set, &m, &[("x", bundle)]);
        assert_eq!(
            o.decision.accepted, *accepted,
            "{level} {ov}: {:?}",
            o.decision.reason
        );
        let (lvl, outcome, _) = outcome_of(&o, name);
        assert_eq!(
            (lvl.as_str(), outcome.as_str()),
            (*want_level, *want_outcome),
            "{level} {ov}"
        );
    }
    // Authenticity skipped: the quorum is not counted either.
    let set = load(
        dir.path(),
        &policy("permissive", json!({"authenticity": "skip"}), json!(["*"])),
    );
    let o = check(&set, &m, &[("x", &foreign)]);
    assert_eq!(outcome_of(&o, "quorum").1, "skipped");
}

#[test]
fn identities_are_enforced_or_logged() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let b = sign_as(&m, "b");
    let no_san = sign_as(&m, "no-san");
    let only_a = json!(["email:release-a@modelseal.test"]);
    for (level, accepted) in [("strict", false), ("permissive", false), ("audit", true)] {
        let set = load(dir.path(), &policy(level, Value::Null, only_a.clone()));
        for bundle in [&b, &no_san] {
            let o = check(&set, &m, &[("x", bundle)]);
            assert_eq!(o.decision.accepted, accepted, "{level}");
            let (_, outcome, detail) = outcome_of(&o, "identity");
            assert_eq!(outcome, "fail");
            assert!(
                detail.contains("email:release-a@modelseal.test"),
                "{detail}"
            );
            assert_eq!(outcome_of(&o, "quorum").1, "fail");
        }
    }
    // Subject DN and URI forms.
    for id in [
        "CN=modelseal test release signer B,OU=P-256,O=modelseal test PKI - NOT FOR PRODUCTION",
        "uri:https://modelseal.test/release/b",
    ] {
        let set = load(dir.path(), &policy("strict", Value::Null, json!([id])));
        assert!(check(&set, &m, &[("b", &b)]).decision.accepted, "{id}");
    }
}

#[test]
fn integrity_is_enforced_at_every_level() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let a = sign_as(&m, "a");
    let foreign = sign_as(&m, "other-root");
    let weights = m.join("model.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&weights, &bytes).unwrap();
    for level in ["strict", "permissive", "audit"] {
        let set = load(dir.path(), &policy(level, Value::Null, json!(["*"])));
        for (bundle, candidate) in [(&a, true), (&foreign, level == "audit")] {
            let o = check(&set, &m, &[("x", bundle)]);
            assert!(
                !o.decision.accepted,
                "{level}: a tampered model must be rejected"
            );
            let (lvl, outcome, detail) = outcome_of(&o, "files");
            // The files are only hashed for a signature that passed every
            // other enforced check.
            let want = if candidate { "fail" } else { "not run" };
            assert_eq!(
                (lvl.as_str(), outcome.as_str()),
                ("enforce", want),
                "{level}: {detail}"
            );
            if candidate {
                assert!(detail.contains("model.safetensors"), "{detail}");
            }
            assert!(!o.decision.undecided);
        }
    }
    // A corrupted signature is an integrity failure too, even under audit.
    let mut forged: Value = serde_json::from_slice(&a).unwrap();
    let sig = forged["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = if sig.starts_with('M') {
        sig.replacen('M', "N", 1)
    } else {
        format!("M{}", &sig[1..])
    };
    forged["dsseEnvelope"]["signatures"][0]["sig"] = json!(flipped);
    let forged = serde_json::to_vec(&forged).unwrap();
    let set = load(dir.path(), &policy("audit", Value::Null, json!(["*"])));
    let o = check(&set, &m, &[("x", &forged)]);
    assert!(!o.decision.accepted);
    assert_eq!(outcome_of(&o, "signature").1, "fail");
    // Malformed bundles make no decision.
    let o = check(&set, &m, &[("x", b"{not json")]);
    assert!(!o.decision.accepted && o.decision.undecided);
}

#[test]
fn algorithm_rules() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let rsa = sign_as(&m, "rsa");
    let rsa4096 = common::sign_with(&m, "rsa/leaf4096", "rsa/fullchain-leaf4096.pem");
    let ed = sign_as(&m, "ed25519");
    let a = sign_as(&m, "a");
    let p384 = sign_as(&m, "p384");
    let doc = |algorithms: Value| {
        json!({
            "version": "1",
            "trustStores": { "all": { "certificates": [
                abs("pki/rsa/root.pem"), abs("pki/ed25519/root.pem"), abs("pki/p256/root.pem"),
                abs("pki/p384/root.pem")
            ] } },
            "policies": [{
                "name": "p", "scopes": ["models/**"], "level": "audit",
                "trustStores": ["all"], "trustedIdentities": ["*"],
                "algorithms": algorithms
            }]
        })
    };
    // Defaults: RSA-3072 PSS, Ed25519, P-256 and P-384 pass.
    let set = load(dir.path(), &doc(json!({})));
    for bundle in [&rsa, &rsa4096, &ed, &a, &p384] {
        let o = check(&set, &m, &[("x", bundle)]);
        assert!(o.decision.accepted, "{:?}", o.decision.reason);
        assert_eq!(outcome_of(&o, "algorithm").1, "pass");
    }
    // RSA minimum 4096: the 3072 leaf fails, and so does the 4096 leaf
    // under its RSA-3072 intermediate. Integrity: even under audit.
    let set = load(dir.path(), &doc(json!({"rsaMinBits": 4096})));
    for (bundle, needle) in [
        (&rsa, "signing key is RSA-3072"),
        (&rsa4096, "intermediate"),
    ] {
        let o = check(&set, &m, &[("x", bundle)]);
        assert!(!o.decision.accepted);
        let (lvl, outcome, detail) = outcome_of(&o, "algorithm");
        assert_eq!((lvl.as_str(), outcome.as_str()), ("enforce", "fail"));
        assert!(detail.contains(needle), "{detail}");
    }
    // Only Ed25519.
    let set = load(dir.path(), &doc(json!({"allowed": ["ed25519"]})));
    assert!(check(&set, &m, &[("x", &ed)]).decision.accepted);
    let o = check(&set, &m, &[("x", &a)]);
    assert!(!o.decision.accepted);
    assert!(
        outcome_of(&o, "algorithm")
            .2
            .contains("ecdsa-p256-sha256 is not an allowed algorithm")
    );
}

#[test]
fn deny_lists_and_crl_rules() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let a = sign_as(&m, "a");
    let pem = std::fs::read(common::fixture("pki/p256/leaf.pem")).unwrap();
    let der = modelseal_verifier::certificates_from_pem(&pem)
        .unwrap()
        .remove(0);
    let info = CertInfo::from_der(&der).unwrap();
    let inter_pem = std::fs::read(common::fixture("pki/p256/intermediate.pem")).unwrap();
    let inter_der = modelseal_verifier::certificates_from_pem(&inter_pem)
        .unwrap()
        .remove(0);
    let inter = CertInfo::from_der(&inter_der).unwrap();
    let doc = |revocation: Value| {
        json!({
            "version": "1",
            "trustStores": { "p256": { "certificates": [abs("pki/p256/root.pem")] } },
            "policies": [{
                "name": "p", "scopes": ["models/**"], "level": "strict",
                "trustStores": ["p256"], "trustedIdentities": ["*"],
                "revocation": revocation
            }]
        })
    };
    let fp_colons: String = info
        .spki_sha256
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    let denied = [
        (json!({"deny": {"serials": ["0B:BB"]}}), "serial number bbb"),
        (json!({"deny": {"serials": ["3003"]}}), "serial number 3003"),
        (
            json!({"deny": {"spkiSha256": [fp_colons]}}),
            "key fingerprint",
        ),
        (
            json!({"deny": {"certSha256": [info.sha256.clone()]}}),
            "certificate fingerprint",
        ),
        (
            json!({"deny": {"spkiSha256": [inter.spki_sha256.clone()]}}),
            "intermediate CA",
        ),
    ];
    for (i, (rev, needle)) in denied.into_iter().enumerate() {
        let set = load(dir.path(), &doc(rev.clone()));
        let o = check(&set, &m, &[("a", &a)]);
        if i == 0 {
            // 0x0bbb is no certificate of this path.
            assert!(o.decision.accepted, "{rev}");
            continue;
        }
        assert!(!o.decision.accepted, "{rev}");
        let detail = outcome_of(&o, "revocation").2;
        assert!(detail.contains(needle), "{rev}: {detail}");
    }
    // Every certificate of the chain must be covered: no list from the root.
    let set = load(
        dir.path(),
        &doc(json!({"crls": [abs("pki/bad/revoked.crl.der")], "crlCoverage": "chain"})),
    );
    let o = check(&set, &m, &[("a", &a)]);
    assert!(!o.decision.accepted);
    assert!(
        outcome_of(&o, "revocation")
            .2
            .contains("revocation status unknown")
    );
    // A stale CRL fails revocation (checked at the real verification time).
    let set = load(
        dir.path(),
        &json!({
            "version": "1",
            "trustStores": { "p256": { "certificates": [abs("pki/p256/root.pem")] } },
            "policies": [{
                "name": "p", "scopes": ["models/**"], "level": "strict",
                "override": {"expiry": "skip"},
                "trustStores": ["p256"], "trustedIdentities": ["*"],
                "revocation": {"crls": [abs("pki/bad/revoked.crl.pem")]}
            }]
        }),
    );
    let inputs = [modelseal_policies::SignatureInput {
        label: "a",
        path: None,
        bytes: &a,
    }];
    let opts = modelseal_policies::VerifyOptions::new(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(2_400_000_000), // 2046
    );
    let o = modelseal_policies::verify(&set, &m, &inputs, &opts).unwrap();
    assert!(!o.decision.accepted);
    let (_, outcome, detail) = outcome_of(&o, "revocation");
    assert_eq!(outcome, "fail");
    assert!(detail.contains("stale"), "{detail}");
    assert_eq!(outcome_of(&o, "chain").1, "pass");
}

#[test]
fn skip_accepts_without_reading_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/scratch/x");
    let set = load(
        dir.path(),
        &json!({
            "version": "1",
            "policies": [{ "name": "scratch", "scopes": ["models/scratch/**"], "level": "skip" }]
        }),
    );
    let o = check(&set, &m, &[("garbage", b"not a bundle")]);
    assert!(o.decision.accepted);
    assert!(o.approval().is_some_and(|a| a.verified().is_empty()));
    assert_eq!(outcome_of(&o, "quorum").1, "skipped");
}
