//! An approval holds the verifier's proofs of the files: a file check that
//! checks nothing cannot produce one, nor can a proof of another model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{abs, load, model, sign_as, t2030};
use modelseal_manifest::{HashOptions, Inspect};
use modelseal_policies::{SignatureInput, VerifyOptions, verify_with};
use modelseal_verifier::check_model_with;
use modelseal_verifier::{Authenticated, Report, Verified};
use serde_json::json;

fn policy() -> serde_json::Value {
    json!({
        "version": "1",
        "trustStores": { "release": { "certificates": [abs("pki/p256/root.pem")] } },
        "policies": [{
            "name": "release",
            "scopes": ["models/**"],
            "level": "strict",
            "trustStores": ["release"],
            "trustedIdentities": ["email:release-a@modelseal.test"],
            "revocation": { "crls": [abs("pki/bad/revoked.crl.pem")] }
        }]
    })
}

#[test]
fn the_approval_holds_the_verifiers_proof_of_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let a = sign_as(&m, "a");
    let set = load(dir.path(), &policy());
    let inputs = [SignatureInput {
        label: "a",
        path: None,
        bytes: &a,
    }];
    let opts = VerifyOptions::new(t2030());
    let mut seen = Vec::new();
    let mut check = |auth: Authenticated, walk: &_, _: Option<&dyn Inspect>| {
        // The policy hands over the manifest the verifier authenticated;
        // its trust is the policy's to decide.
        seen.push(auth.manifest().subject_digest().to_hex());
        check_model_with(
            auth,
            &m,
            walk,
            &HashOptions::default(),
            &mut Report::default(),
        )
    };
    let o = verify_with(&set, &m, &inputs, &opts, &mut check).unwrap();
    assert!(o.decision.accepted, "{:?}", o.decision.reason);
    let approval = o.approval().unwrap();
    let [v] = approval.verified() else {
        panic!("one proof expected")
    };
    assert_eq!(
        Some(v.authenticated().manifest().subject_digest().to_hex()),
        o.signatures[0].subject_digest
    );
    assert_eq!(seen.len(), 1);
}

#[test]
fn a_proof_of_another_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "models/demo");
    let other = model(dir.path(), "models/other");
    std::fs::write(other.join("extra.txt"), b"not in the first model").unwrap();
    let a = sign_as(&m, "a");
    let b = sign_as(&other, "a");
    let set = load(dir.path(), &policy());
    let opts = VerifyOptions::new(t2030());
    // A proof for the other model, obtained honestly.
    let mut proof: Option<Verified> = None;
    let mut honest = |auth: Authenticated, walk: &_, _: Option<&dyn Inspect>| {
        let v = check_model_with(
            auth,
            &other,
            walk,
            &HashOptions::default(),
            &mut Report::default(),
        )?;
        proof = Some(v.clone());
        Ok(v)
    };
    let inputs_b = [SignatureInput {
        label: "b",
        path: None,
        bytes: &b,
    }];
    let o = verify_with(&set, &other, &inputs_b, &opts, &mut honest).unwrap();
    assert!(o.decision.accepted, "{:?}", o.decision.reason);
    let proof = proof.unwrap();
    // Handing that proof back for the first model's manifest approves
    // nothing.
    let mut lying = |_: Authenticated, _: &_, _: Option<&dyn Inspect>| Ok(proof.clone());
    let inputs_a = [SignatureInput {
        label: "a",
        path: None,
        bytes: &a,
    }];
    let o = verify_with(&set, &m, &inputs_a, &opts, &mut lying).unwrap();
    assert!(!o.decision.accepted);
    assert!(o.approval().is_none());
    let files = o
        .decision
        .checks
        .iter()
        .find(|c| c.name.as_str() == "files")
        .unwrap();
    assert!(
        files.detail.contains("another manifest"),
        "{}",
        files.detail
    );
    // And a check that fails approves nothing either.
    let mut failing = |_: Authenticated, _: &_, _: Option<&dyn Inspect>| {
        Err(modelseal_verifier::Error::NotRun {
            reason: "nothing checked".into(),
        })
    };
    let o = verify_with(&set, &m, &inputs_a, &opts, &mut failing).unwrap();
    assert!(!o.decision.accepted && o.approval().is_none());
}
