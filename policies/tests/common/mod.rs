//! Helpers for policy tests: fixture paths, signing test models with the
//! fixtures PKI, writing policy files, verifying.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use modelseal_policies::{PolicyOutcome, PolicySet, SignatureInput, VerifyOptions, verify};
use modelseal_signer::{RsaScheme, SignOptions, SigningKey, sign};
use modelseal_verifier::chain::certificates_from_pem;

/// A path under the repository's `fixtures/`.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

/// A fixture path as a JSON string value (absolute, so policies written
/// anywhere can use it).
pub(crate) fn abs(rel: &str) -> String {
    fs::canonicalize(fixture(rel))
        .unwrap()
        .display()
        .to_string()
}

/// 2030-01-01T00:00:00Z: inside every good certificate's validity.
pub(crate) fn t2030() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_893_456_000)
}

/// Copy the demo model to `dir/rel`.
pub(crate) fn model(dir: &Path, rel: &str) -> PathBuf {
    let dest = dir.join(rel);
    copy_tree(&fixture("models/demo"), &dest);
    dest
}

/// Recursively copy a file or directory.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap();
    }
}

/// Sign `model` with the fixtures key `pki/<name>.key` and the chain
/// `pki/<chain>` (leaf first); returns the bundle JSON.
pub(crate) fn sign_with(model: &Path, name: &str, chain: &str) -> Vec<u8> {
    let pem = fs::read(fixture(&format!("pki/{name}.key"))).unwrap();
    let key = SigningKey::from_pem(&pem, None, RsaScheme::default()).unwrap();
    let certs =
        certificates_from_pem(&fs::read(fixture(&format!("pki/{chain}"))).unwrap()).unwrap();
    let opts = SignOptions {
        certificates: &certs,
        ..SignOptions::new(&key)
    };
    sign(model, &opts).unwrap().bundle.to_json()
}

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
