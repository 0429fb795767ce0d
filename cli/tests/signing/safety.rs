//! Each guard of `sign` (issue: the signer overwrote keys and model files,
//! signed empty models, used gigabytes for tiny shards, signed with
//! certificates `verify` refuses). Every test fails if its guard goes.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::{Sandbox, fixture};

fn model(sb: &Sandbox) -> std::path::PathBuf {
    sb.copy("models/demo", "model")
}

fn p256(sb: &Sandbox) -> (String, String, String, String) {
    (
        sb.key("pki/p256/leaf.key").display().to_string(),
        fixture("pki/p256/leaf.pem").display().to_string(),
        fixture("pki/p256/chain.pem").display().to_string(),
        fixture("pki/p256/root.pem").display().to_string(),
    )
}

#[test]
fn the_signature_never_replaces_the_key() {
    let sb = Sandbox::new();
    model(&sb);
    let (key, ..) = p256(&sb);
    let before = fs::read(&key).unwrap();
    sb.run(["sign", "model", "--key", &key, "--signature", &key])
        .code(2)
        .stderr_has("refusing to write");
    // Even with --force, and through another path to the same file.
    let other = format!("{}/../{}", sb.path("model").display(), "pki_p256_leaf.key");
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        &other,
        "--force",
    ])
    .code(2)
    .stderr_has("the signature would replace it");
    assert_eq!(fs::read(&key).unwrap(), before);
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn the_signature_never_replaces_a_certificate() {
    let sb = Sandbox::new();
    model(&sb);
    let (key, ..) = p256(&sb);
    let leaf = sb.copy("pki/p256/leaf.pem", "leaf.pem");
    let chain = sb.copy("pki/p256/chain.pem", "chain.pem");
    for target in ["leaf.pem", "chain.pem"] {
        sb.run([
            "sign",
            "model",
            "--key",
            &key,
            "--cert",
            "leaf.pem",
            "--chain",
            "chain.pem",
            "--signature",
            target,
            "--force",
        ])
        .code(2)
        .stderr_has("the signature would replace it");
    }
    assert_eq!(
        fs::read(leaf).unwrap(),
        fs::read(fixture("pki/p256/leaf.pem")).unwrap()
    );
    assert_eq!(
        fs::read(chain).unwrap(),
        fs::read(fixture("pki/p256/chain.pem")).unwrap()
    );
}

#[test]
fn the_signature_never_replaces_model_content() {
    let sb = Sandbox::new();
    let m = model(&sb);
    let (key, ..) = p256(&sb);
    let before = fs::read(m.join("config.json")).unwrap();
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        "model/config.json",
        "--force",
    ])
    .code(2)
    .stderr_has("it is a file of the model");
    assert_eq!(fs::read(m.join("config.json")).unwrap(), before);
    // A new signature file inside the model is fine (and left out of it),
    // and so is re-signing over it.
    let outside = sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        "out.sig",
        "--json",
    ]);
    let resources = outside.code(0).json()["resources"].clone();
    for _ in 0..2 {
        let run = sb.run([
            "sign",
            "model",
            "--key",
            &key,
            "--signature",
            "model/model.sig",
            "--json",
        ]);
        assert_eq!(run.code(0).json()["resources"], resources);
    }
}

#[test]
fn an_existing_file_that_is_not_a_bundle_needs_force() {
    let sb = Sandbox::new();
    model(&sb);
    let (key, ..) = p256(&sb);
    fs::write(sb.path("notes.txt"), "my notes").unwrap();
    sb.run(["sign", "model", "--key", &key, "--signature", "notes.txt"])
        .code(2)
        .stderr_has("pass --force");
    assert_eq!(
        fs::read_to_string(sb.path("notes.txt")).unwrap(),
        "my notes"
    );
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        "notes.txt",
        "--force",
    ])
    .code(0);
    let written = sb.path("notes.txt");
    assert!(
        fs::read_to_string(&written)
            .unwrap()
            .starts_with("{\"mediaType\"")
    );
    assert_eq!(
        fs::metadata(&written).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // A bundle is replaced without --force (re-signing).
    sb.run(["sign", "model", "--key", &key, "--signature", "notes.txt"])
        .code(0);
    // A directory never.
    fs::create_dir(sb.path("dir.sig")).unwrap();
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--signature",
        "dir.sig",
        "--force",
    ])
    .code(2)
    .stderr_has("directory");
}

#[test]
fn nothing_to_sign_is_refused() {
    let sb = Sandbox::new();
    let (key, ..) = p256(&sb);
    fs::create_dir(sb.path("empty")).unwrap();
    sb.run(["sign", "empty", "--key", &key, "--signature", "e.sig"])
        .code(2)
        .stderr_has("nothing to sign");
    assert!(!sb.path("e.sig").exists());
    fs::create_dir(sb.path("ignored")).unwrap();
    fs::write(sb.path("ignored/a.bin"), b"a").unwrap();
    sb.run([
        "sign",
        "ignored",
        "--key",
        &key,
        "--signature",
        "i.sig",
        "--ignore",
        "a.bin",
    ])
    .code(2)
    .stderr_has("every file is ignored");
    assert!(!sb.path("i.sig").exists());
}

#[test]
fn tiny_shards_and_oversized_manifests_are_refused_before_hashing() {
    let sb = Sandbox::new();
    let (key, ..) = p256(&sb);
    fs::create_dir(sb.path("big")).unwrap();
    // 1 TiB, sparse: hashing it would take hours; counting it takes nothing.
    let f = fs::File::create(sb.path("big/weights.bin")).unwrap();
    f.set_len(1 << 40).unwrap();
    sb.run([
        "sign",
        "big",
        "--key",
        &key,
        "--signature",
        "b.sig",
        "--shard-size",
        "1",
    ])
    .code(2)
    .stderr_has("below the minimum of 1024 bytes");
    let run = sb.run([
        "sign",
        "big",
        "--key",
        &key,
        "--signature",
        "b.sig",
        "--shard-size",
        "65536",
        "--json",
    ]);
    run.code(2).no_panic();
    let doc = run.json();
    let msg = doc["error"]["message"].as_str().unwrap();
    assert!(msg.contains("16777216 resources"), "{msg}");
    assert!(msg.contains("choose a larger shard size"), "{msg}");
    assert!(!sb.path("b.sig").exists());
}

#[test]
fn certificates_verify_would_refuse_are_refused_at_signing() {
    let sb = Sandbox::new();
    model(&sb);
    let chain = fixture("pki/p256/chain.pem").display().to_string();
    let cases = [
        ("pki/bad/no-codesigning-eku", "codeSigning"),
        ("pki/bad/no-digital-signature", "digitalSignature"),
        ("pki/bad/expired", "not valid now"),
        ("pki/bad/not-yet-valid", "not valid now"),
        ("pki/bad/leaf-is-ca", "CA certificate"),
    ];
    for (base, why) in cases {
        let key = sb.key(&format!("{base}.key")).display().to_string();
        let cert = fixture(&format!("{base}.pem")).display().to_string();
        sb.run([
            "sign",
            "model",
            "--key",
            &key,
            "--cert",
            &cert,
            "--signature",
            "c.sig",
        ])
        .code(2)
        .stderr_has(why);
        assert!(!sb.path("c.sig").exists(), "{base}: a bundle was written");
    }
    // Wrong key for the certificate: both fingerprints, in the form the
    // success output uses.
    let (key, leaf, ..) = p256(&sb);
    let other = sb.key("pki/p384/leaf.key").display().to_string();
    let run = sb.run([
        "sign",
        "model",
        "--key",
        &other,
        "--cert",
        &leaf,
        "--signature",
        "c.sig",
    ]);
    run.code(2).stderr_has("is not the signing key's (sha256:");
    let ok = sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--cert",
        &leaf,
        "--chain",
        &chain,
        "--signature",
        "c.sig",
        "--json",
    ]);
    ok.code(0);
    let fp = ok.json()["key_fingerprint"].as_str().unwrap().to_owned();
    assert!(fp.starts_with("sha256:") && fp.len() == 71, "{fp}");
    let wrong = sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--cert",
        &fixture("pki/p384/leaf.pem").display().to_string(),
        "--signature",
        "d.sig",
    ]);
    wrong
        .code(2)
        .stderr_has(&format!("is not the signing key's ({fp})"));
    // A leaf that does not chain to the given intermediate.
    sb.run([
        "sign",
        "model",
        "--key",
        &key,
        "--cert",
        &leaf,
        "--chain",
        &fixture("pki/rsa/chain.pem").display().to_string(),
        "--signature",
        "e.sig",
    ])
    .code(2)
    .stderr_has("does not chain to the given intermediates");
    assert!(!sb.path("e.sig").exists());
}
