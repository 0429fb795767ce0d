//! k-of-n: distinct valid signatures from distinct trusted identities,
//! given as several bundles.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{abs, check, load, model, outcome_of, sign_as};
use serde_json::json;

fn two_of_three(level: &str) -> serde_json::Value {
    json!({
        "version": "1",
        "trustStores": { "release": { "certificates": [abs("pki/p256/root.pem")] } },
        "policies": [{
            "name": "release",
            "scopes": ["models/**"],
            "level": level,
            "trustStores": ["release"],
            "trustedIdentities": [
                "email:release-a@modelseal.test",
                "email:release-b@modelseal.test",
                "email:revoked@modelseal.test"
            ],
            "requiredSignatures": 2,
            "revocation": { "crls": [abs("pki/bad/revoked.crl.pem")] }
        }]
    })
}

#[test]
fn two_of_three_with_one_revoked_signer() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let a = sign_as(&m, "a");
    let b = sign_as(&m, "b");
    let revoked = sign_as(&m, "revoked");
    let set = load(dir.path(), &two_of_three("strict"));
    // (bundles, accepted, signers counted)
    type Bundles<'a> = &'a [(&'a str, &'a [u8])];
    let cases: &[(Bundles<'_>, bool, usize)] = &[
        (&[("a", &a), ("b", &b)], true, 2),
        (&[("a", &a), ("revoked", &revoked)], false, 1),
        (&[("revoked", &revoked), ("a", &a), ("b", &b)], true, 2),
        (&[("a", &a)], false, 1),
        (&[("a", &a), ("a-again", &a)], false, 1),
        (&[("revoked", &revoked)], false, 0),
    ];
    for (bundles, accepted, signers) in cases {
        let labels: Vec<&str> = bundles.iter().map(|(l, _)| *l).collect();
        let o = check(&set, &m, bundles);
        assert_eq!(
            o.decision.accepted, *accepted,
            "{labels:?}: {:?}",
            o.decision.reason
        );
        assert_eq!(o.decision.signers, *signers, "{labels:?}");
        let (level, outcome, detail) = outcome_of(&o, "quorum");
        assert_eq!(level, "enforce");
        assert_eq!(outcome == "pass", *accepted, "{labels:?}: {detail}");
        assert!(
            detail.starts_with(&format!("{signers} of 2 required")),
            "{detail}"
        );
        // The revoked bundle is reported, never counted, never a veto.
        for (i, (label, _)) in bundles.iter().enumerate() {
            let counted = o.signatures[i].accepted;
            assert_eq!(counted, *label != "revoked", "{labels:?}: {label}");
            if *label == "revoked" {
                let c = o
                    .decision
                    .checks
                    .iter()
                    .find(|c| c.signature == Some(i) && c.name.as_str() == "revocation")
                    .unwrap();
                assert_eq!(c.outcome.to_string(), "fail");
            }
        }
    }
    // Same bundles under permissive: revocation is only logged, so the
    // revoked signer counts.
    let o = check(&set, &m, &[("a", &a), ("revoked", &revoked)]);
    let reason = o.decision.reason.unwrap();
    assert!(
        reason.starts_with("quorum not met: 1 of 2 required distinct trusted signers (a); not counted: revoked: revocation failed:"),
        "{reason}"
    );
    let set = load(dir.path(), &two_of_three("permissive"));
    let o = check(&set, &m, &[("a", &a), ("revoked", &revoked)]);
    assert!(o.decision.accepted, "{:?}", o.decision.reason);
    assert_eq!(o.decision.signers, 2);
    // Under audit the shortfall is logged.
    let set = load(dir.path(), &two_of_three("audit"));
    let o = check(&set, &m, &[("a", &a)]);
    assert!(o.decision.accepted);
    assert_eq!(
        outcome_of(&o, "quorum"),
        (
            "log".into(),
            "fail".into(),
            o.decision.checks.last().unwrap().detail.clone()
        )
    );
}

#[test]
fn one_tampered_manifest_does_not_count() {
    // B signed a different model: its bundle verifies, its files do not
    // match this model, so only A counts.
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let other = model(dir.path(), "models/other");
    std::fs::write(other.join("config.json"), b"{\"changed\": true}").unwrap();
    let a = sign_as(&m, "a");
    let b_other = sign_as(&other, "b");
    let set = load(dir.path(), &two_of_three("strict"));
    let o = check(&set, &m, &[("a", &a), ("b", &b_other)]);
    assert!(!o.decision.accepted);
    assert_eq!(o.decision.signers, 1);
    let files_b = o
        .decision
        .checks
        .iter()
        .find(|c| c.signature == Some(1) && c.name.as_str() == "files")
        .unwrap();
    assert_eq!(files_b.outcome.to_string(), "fail");
    assert!(files_b.detail.contains("config.json"), "{}", files_b.detail);
}
