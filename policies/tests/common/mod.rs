//! Helpers for policy tests: fixture paths, signing test models with the
//! fixtures PKI, writing policy files, verifying.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;

use modelseal_policies::{PolicyOutcome, PolicySet, SignatureInput, VerifyOptions, verify};

#[allow(unused_imports)] // each test binary uses some
pub(crate) use modelseal_testkit::{
    abs, copy_tree, demo_model as model, fixture, sign_with, t2030,
};

/// The bundle of a good or bad fixture certificate, by short name:
/// `a`, `b` (p256 release signers), `rsa`, `ed25519`, `p384`, or a
/// `bad/NAME` certificate.
pub(crate) fn sign_as(model: &Path, who: &str) -> Vec<u8> {
    match who {
        "a" => sign_with(model, "p256/leaf", "p256/fullchain.pem"),
        "b" => sign_with(model, "p256/leaf-b", "p256/fullchain-leaf-b.pem"),
        "rsa" => sign_with(model, "rsa/leaf", "rsa/fullchain.pem"),
        "ed25519" => sign_with(model, "ed25519/leaf", "ed25519/fullchain.pem"),
        "p384" => sign_with(model, "p384/leaf", "p384/fullchain.pem"),
        "self-signed" => sign_with(model, "bad/self-signed", "bad/self-signed.pem"),
        "other-root" => sign_with(model, "bad/other-root/leaf", "bad/other-root/fullchain.pem"),
        bad => sign_with(
            model,
            &format!("bad/{bad}"),
            &format!("bad/{bad}.fullchain.pem"),
        ),
    }
}

/// Write `json` to `dir/policy.json` and load it.
pub(crate) fn load(dir: &Path, json: &serde_json::Value) -> PolicySet {
    let path = dir.join("policy.json");
    fs::write(&path, serde_json::to_vec_pretty(json).unwrap()).unwrap();
    PolicySet::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Verify `model` with these bundles at 2030-01-01.
pub(crate) fn check(set: &PolicySet, model: &Path, bundles: &[(&str, &[u8])]) -> PolicyOutcome {
    let inputs: Vec<SignatureInput<'_>> = bundles
        .iter()
        .map(|(label, bytes)| SignatureInput {
            label,
            path: None,
            bytes,
        })
        .collect();
    let opts = VerifyOptions::new(t2030());
    verify(set, model, &inputs, &opts).unwrap_or_else(|e| panic!("{e}"))
}

/// The outcome and level of check `name` of signature 0 (or the quorum).
pub(crate) fn outcome_of(o: &PolicyOutcome, name: &str) -> (String, String, String) {
    let c = o
        .decision
        .checks
        .iter()
        .find(|c| c.name.as_str() == name && c.signature.is_none_or(|s| s == 0))
        .unwrap_or_else(|| panic!("no check {name}"));
    (
        c.level.as_str().to_owned(),
        c.outcome.to_string(),
        c.detail.clone(),
    )
}
