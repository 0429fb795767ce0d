//! `modelseal sign --update`: incremental re-signing with the digest cache.
#![allow(missing_docs, clippy::unwrap_used)]

use crate::common::{Sandbox, fixture};
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn sign(sb: &Sandbox, key: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["sign", "model", "--key", key, "--json"];
    args.extend(extra);
    let run = sb.run(&args);
    run.code(0);
    run.json()
}

#[test]
fn update_rehashes_only_changed_files_and_matches_a_full_resign() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    // ECDSA with RFC 6979 nonces is deterministic: same payload, same bytes.
    let key = sb.key("keys/p256.pkcs8.pem");
    let key = key.to_str().unwrap();
    let first = sign(&sb, key, &["--update", "-s", "inc.sig"]);
    assert_eq!(
        first["cache"],
        serde_json::json!({"reused": 0, "hashed": 7})
    );
    let cache = sb.path("inc.sig.cache");
    assert_eq!(
        fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let again = sign(&sb, key, &["--update", "-s", "inc.sig"]);
    assert_eq!(
        again["cache"],
        serde_json::json!({"reused": 7, "hashed": 0})
    );

    fs::write(sb.path("model/config.json"), b"{\"changed\": true}\n").unwrap();
    let updated = sign(&sb, key, &["--update", "-s", "inc.sig"]);
    assert_eq!(
        updated["cache"],
        serde_json::json!({"reused": 6, "hashed": 1})
    );
    sign(&sb, key, &["-s", "full.sig"]);
    assert_eq!(
        fs::read(sb.path("inc.sig")).unwrap(),
        fs::read(sb.path("full.sig")).unwrap()
    );
    sb.run([
        "verify",
        "model",
        "-s",
        "inc.sig",
        "--public-key",
        fixture("keys/p256.pub.pem").to_str().unwrap(),
    ])
    .code(0);
}

#[test]
fn restoring_mtime_does_not_fool_the_cache() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    let key = key.to_str().unwrap();
    sign(&sb, key, &["--update"]);
    let target = sb.path("model/tokenizer.json");
    let before = fs::metadata(&target).unwrap();
    let mut bytes = fs::read(&target).unwrap();
    bytes[0] ^= 1; // same size
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(&target, &bytes).unwrap();
    fs::File::options()
        .write(true)
        .open(&target)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    assert_eq!(
        fs::metadata(&target).unwrap().modified().unwrap(),
        before.modified().unwrap()
    );
    let out = sign(&sb, key, &["--update"]);
    assert_eq!(
        out["cache"]["hashed"], 1,
        "ctime changed, the file must be hashed again"
    );
    sb.run([
        "verify",
        "model",
        "--public-key",
        fixture("keys/p256.pub.pem").to_str().unwrap(),
    ])
    .code(0);
}

#[test]
fn foreign_corrupt_or_exposed_caches_are_ignored() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    let key = key.to_str().unwrap();
    sign(&sb, key, &["--update"]);
    let cache = sb.path("model.sig.cache");

    // Poison every digest in the cache.
    let mut doc: serde_json::Value = serde_json::from_slice(&fs::read(&cache).unwrap()).unwrap();
    for entry in doc["files"].as_object_mut().unwrap().values_mut() {
        entry["digests"][0][2] = "0".repeat(64).into();
    }
    let poisoned = serde_json::to_vec(&doc).unwrap();
    let public = fixture("keys/p256.pub.pem");
    let verify = || sb.run(["verify", "model", "--public-key", public.to_str().unwrap()]);
    // Group-writable: ignored, everything hashed, the bundle is right.
    fs::write(&cache, &poisoned).unwrap();
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o664)).unwrap();
    assert_eq!(sign(&sb, key, &["--update"])["cache"]["hashed"], 7);
    verify().code(0);
    // Private (the signer's own file): trusted for signing, as documented,
    // but verification never uses it and catches the wrong digests.
    fs::write(&cache, &poisoned).unwrap();
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(sign(&sb, key, &["--update"])["cache"]["hashed"], 0);
    verify().code(1).stderr_has("digest mismatch");

    // Corrupt: ignored, then rewritten.
    fs::write(&cache, b"{not json").unwrap();
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(sign(&sb, key, &["--update"])["cache"]["hashed"], 7);
    assert_eq!(sign(&sb, key, &["--update"])["cache"]["hashed"], 0);

    // Other serialization parameters: not reused.
    assert_eq!(
        sign(&sb, key, &["--update", "--hash", "blake3"])["cache"]["hashed"],
        7
    );
    assert_eq!(
        sign(&sb, key, &["--update", "--shard-size", "4096"])["cache"]["hashed"],
        7
    );
    assert_eq!(
        sign(&sb, key, &["--update", "--shard-size", "4096"])["cache"]["hashed"],
        0
    );
    sb.run([
        "verify",
        "model",
        "--public-key",
        fixture("keys/p256.pub.pem").to_str().unwrap(),
    ])
    .code(0);
}
