//! `modelseal sign` / `modelseal verify` end to end, through the real binary.
#![allow(missing_docs, clippy::unwrap_used)]

use crate::common;
use crate::common::{Sandbox, fixture, flip_byte};
use std::fs;

/// Sign `model` (inside the sandbox) with a fixture key and optional chain.
fn sign(
    sb: &Sandbox,
    model: &str,
    key: &str,
    cert: Option<(&str, &str)>,
    extra: &[&str],
) -> common::Run {
    let key = sb.key(key);
    let mut args: Vec<String> = vec![
        "sign".into(),
        model.into(),
        "--key".into(),
        key.display().to_string(),
    ];
    if let Some((leaf, chain)) = cert {
        args.extend(["--cert".into(), fixture(leaf).display().to_string()]);
        if !chain.is_empty() {
            args.extend(["--chain".into(), fixture(chain).display().to_string()]);
        }
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    sb.run(args)
}

fn verify_root(sb: &Sandbox, model: &str, root: &str, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "verify".to_string(),
        model.into(),
        "--trust-root".into(),
        fixture(root).display().to_string(),
    ];
    if !extra.contains(&"--identity") {
        args.extend(["--identity".into(), "*".into()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    sb.run(args)
}

fn verify_key(sb: &Sandbox, model: &str, public: &str, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "verify".to_string(),
        model.into(),
        "--public-key".into(),
        fixture(public).display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    sb.run(args)
}

/// A sandbox holding the demo model signed with the P-256 release chain.
fn signed_demo() -> Sandbox {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sign(
        &sb,
        "model",
        "pki/p256/leaf.key",
        Some(("pki/p256/leaf.pem", "pki/p256/chain.pem")),
        &[],
    )
    .code(0);
    sb
}

#[test]
fn every_algorithm_signs_and_verifies_with_a_chain() {
    let cases = [
        (
            "pki/rsa/leaf.key",
            "pki/rsa",
            "leaf.pem",
            &[][..],
            "rsa-pss-sha256",
        ),
        (
            "pki/rsa/leaf.key",
            "pki/rsa",
            "leaf.pem",
            &["--rsa-padding", "pkcs1v15"][..],
            "rsa-pkcs1v15-sha256",
        ),
        (
            "pki/rsa/leaf4096.key",
            "pki/rsa",
            "leaf4096.pem",
            &["--rsa-hash", "sha512"][..],
            "rsa-pss-sha512",
        ),
        (
            "pki/ed25519/leaf.key",
            "pki/ed25519",
            "leaf.pem",
            &[][..],
            "ed25519",
        ),
        (
            "pki/p256/leaf.key",
            "pki/p256",
            "leaf.pem",
            &[][..],
            "ecdsa-p256-sha256",
        ),
        (
            "pki/p384/leaf.key",
            "pki/p384",
            "leaf.pem",
            &[][..],
            "ecdsa-p384-sha384",
        ),
    ];
    for (key, dir, leaf, extra, alg) in cases {
        let sb = Sandbox::new();
        sb.copy("models/demo", "model");
        let leaf = format!("{dir}/{leaf}");
        let chain = format!("{dir}/chain.pem");
        sign(&sb, "model", key, Some((&leaf, &chain)), extra)
            .code(0)
            .stdout_has(alg);
        let run = verify_root(&sb, "model", &format!("{dir}/root.pem"), &["--json"]);
        run.code(0);
        let doc = run.json();
        assert_eq!(doc["verdict"], "ok", "{alg}");
        assert_eq!(doc["algorithm"], alg);
        assert_eq!(doc["signer"]["kind"], "certificate");
        let statuses: Vec<_> = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].clone())
            .collect();
        assert_eq!(statuses.len(), 7, "{doc:#}");
        // The bundle names the algorithm in the DSSE keyid.
        let bundle: serde_json::Value =
            serde_json::from_slice(&fs::read(sb.path("model.sig")).unwrap()).unwrap();
        assert_eq!(bundle["dsseEnvelope"]["signatures"][0]["keyid"], alg);
    }
}

#[test]
fn key_bundles_verify_with_the_public_key_only() {
    for (key, public) in [
        ("keys/p256.pkcs8.pem", "keys/p256.pub.pem"),
        ("keys/p384.sec1.pem", "keys/p384.pub.pem"),
        ("keys/ed25519.pkcs8.pem", "keys/ed25519.pub.pem"),
        ("keys/rsa3072.pkcs1.pem", "keys/rsa3072.pub.pem"),
    ] {
        let sb = Sandbox::new();
        sb.copy("models/demo", "model");
        sign(&sb, "model", key, None, &[])
            .code(0)
            .stdout_has("key material");
        let bundle: serde_json::Value =
            serde_json::from_slice(&fs::read(sb.path("model.sig")).unwrap()).unwrap();
        // model_signing's hint: sha256 of the SPKI PEM text.
        let pem = fs::read(fixture(public)).unwrap();
        let hint = modelseal_manifest::HashAlgorithm::Sha256
            .digest(&pem)
            .to_hex();
        assert_eq!(
            bundle["verificationMaterial"]["publicKey"]["hint"],
            hint.as_str(),
            "{key}"
        );
        verify_key(&sb, "model", public, &[])
            .code(0)
            .stdout_has("verified");
        // A key bundle is not trusted through a root.
        verify_root(&sb, "model", "pki/p256/root.pem", &[])
            .code(1)
            .stderr_has("--public-key");
    }
}

#[test]
fn encrypted_keys_need_the_passphrase_from_the_environment() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.enc.pem");
    let args = ["sign", "model", "--key", key.to_str().unwrap()];
    sb.run(args).code(2).stderr_has("passphrase");
    sb.run_env(args, &[("MODELSEAL_KEY_PASSPHRASE", "wrong")])
        .code(2)
        .stderr_has("passphrase");
    sb.run_env(
        args,
        &[("MODELSEAL_KEY_PASSPHRASE", "modelseal-test-passphrase")],
    )
    .code(0);
    let custom = [
        "sign",
        "model",
        "--key",
        key.to_str().unwrap(),
        "--passphrase-env",
        "MY_PASS",
    ];
    sb.run_env(custom, &[("MY_PASS", "modelseal-test-passphrase")])
        .code(0);
    verify_key(&sb, "model", "keys/p256.pub.pem", &[]).code(0);
}

#[test]
fn weak_and_exposed_keys_are_refused() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sign(&sb, "model", "keys/rsa1024.pkcs8.pem", None, &[])
        .code(2)
        .stderr_has("1024");
    sign(&sb, "model", "keys/rsa2048.pkcs8.pem", None, &[]).code(0);
    // Group/world-readable key files are refused.
    let exposed = sb.path("exposed.pem");
    fs::copy(fixture("keys/p256.pkcs8.pem"), &exposed).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&exposed, fs::Permissions::from_mode(0o644)).unwrap();
    sb.run(["sign", "model", "--key", exposed.to_str().unwrap()])
        .code(2)
        .stderr_has("chmod 600");
    // A certificate for another key.
    sign(
        &sb,
        "model",
        "keys/p256.pkcs8.pem",
        Some(("pki/p256/leaf.pem", "")),
        &[],
    )
    .code(2)
    .stderr_has("not the signing key");
}

#[test]
fn shards_blake3_and_single_files() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sign(
        &sb,
        "model",
        "keys/p256.pkcs8.pem",
        None,
        &["--shard-size", "65536"],
    )
    .code(0);
    let doc = verify_key(&sb, "model", "keys/p256.pub.pem", &["--json"]).json();
    assert_eq!(doc["verdict"], "ok");
    flip_byte(&sb.path("model/model.safetensors"), -1);
    verify_key(&sb, "model", "keys/p256.pub.pem", &[])
        .code(1)
        .stderr_has("model.safetensors:196608:262144");

    sb.copy("models/demo", "model2");
    sign(
        &sb,
        "model2",
        "keys/p256.pkcs8.pem",
        None,
        &["--hash", "blake3", "-s", "b3.sig"],
    )
    .code(0);
    verify_key(&sb, "model2", "keys/p256.pub.pem", &["-s", "b3.sig"]).code(0);

    sign(
        &sb,
        "model2/config.json",
        "keys/p256.pkcs8.pem",
        None,
        &["-s", "one.sig"],
    )
    .code(0);
    verify_key(
        &sb,
        "model2/config.json",
        "keys/p256.pub.pem",
        &["-s", "one.sig"],
    )
    .code(0);
    verify_key(
        &sb,
        "model2/tokenizer.json",
        "keys/p256.pub.pem",
        &["-s", "one.sig"],
    )
    .code(1);
}

#[test]
fn signature_inside_the_model_is_left_out() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sign(
        &sb,
        "model",
        "keys/p256.pkcs8.pem",
        None,
        &["-s", "model/model.sig"],
    )
    .code(0);
    verify_key(
        &sb,
        "model",
        "keys/p256.pub.pem",
        &["-s", "model/model.sig"],
    )
    .code(0);
    // git metadata is ignored like model_signing does.
    fs::create_dir_all(sb.path("model/.git")).unwrap();
    fs::write(sb.path("model/.git/HEAD"), "ref").unwrap();
    verify_key(
        &sb,
        "model",
        "keys/p256.pub.pem",
        &["-s", "model/model.sig"],
    )
    .code(0);
}

#[test]
fn tampering_with_the_model_is_detected_and_named() {
    let p = "pki/p256/root.pem";
    // One byte changed.
    let sb = signed_demo();
    flip_byte(&sb.path("model/config.json"), 3);
    verify_root(&sb, "model", p, &[])
        .code(1)
        .stderr_has("digest mismatch: config.json");
    // A file added.
    let sb = signed_demo();
    fs::write(sb.path("model/extra/new.py"), "print('hi')").unwrap();
    verify_root(&sb, "model", p, &[])
        .code(1)
        .stderr_has("extra (present, not signed): extra/new.py");
    // A file removed.
    let sb = signed_demo();
    fs::remove_file(sb.path("model/tokenizer.json")).unwrap();
    verify_root(&sb, "model", p, &[])
        .code(1)
        .stderr_has("missing (signed, not present): tokenizer.json");
    // A file renamed.
    let sb = signed_demo();
    fs::rename(
        sb.path("model/tokenizer.json"),
        sb.path("model/tokenizer2.json"),
    )
    .unwrap();
    verify_root(&sb, "model", p, &[])
        .code(1)
        .stderr_has("missing")
        .stderr_has("tokenizer2.json");
    // A file truncated.
    let sb = signed_demo();
    let w = sb.path("model/model.safetensors");
    let len = fs::metadata(&w).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&w)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    verify_root(&sb, "model", p, &[])
        .code(1)
        .stderr_has("model.safetensors");
    // A symlink that leaves the directory.
    let sb = signed_demo();
    std::os::unix::fs::symlink("/etc/passwd", sb.path("model/passwd")).unwrap();
    verify_root(&sb, "model", p, &[])
        .code(1)
        .stderr_has("symbolic link");
    // A signed file replaced by a symlink to an identical copy outside.
    let sb = signed_demo();
    fs::copy(sb.path("model/config.json"), sb.path("outside.json")).unwrap();
    fs::remove_file(sb.path("model/config.json")).unwrap();
    std::os::unix::fs::symlink(sb.path("outside.json"), sb.path("model/config.json")).unwrap();
    verify_root(&sb, "model", p, &[])
        .code(1)
        .stderr_has("symbolic link");
}

#[test]
fn identity_pinning() {
    let sb = signed_demo();
    let p = "pki/p256/root.pem";
    verify_root(
        &sb,
        "model",
        p,
        &["--identity", "email:release-a@modelseal.test"],
    )
    .code(0);
    verify_root(
        &sb,
        "model",
        p,
        &["--identity", "uri:https://modelseal.test/release/a"],
    )
    .code(0);
    verify_root(
        &sb,
        "model",
        p,
        &["--identity", "O=modelseal test PKI - NOT FOR PRODUCTION, OU=P-256, CN=modelseal test release signer A"],
    )
    .code(0);
    verify_root(
        &sb,
        "model",
        p,
        &["--identity", "email:release-b@modelseal.test"],
    )
    .code(1)
    .stderr_has("identity");
    verify_root(
        &sb,
        "model",
        p,
        &["--identity", "CN=modelseal test release signer A"],
    )
    .code(1);
    // Signer B with A's identity pinned.
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sign(
        &sb,
        "model",
        "pki/p256/leaf-b.key",
        Some(("pki/p256/leaf-b.pem", "pki/p256/chain.pem")),
        &[],
    )
    .code(0);
    verify_root(
        &sb,
        "model",
        p,
        &["--identity", "email:release-a@modelseal.test"],
    )
    .code(1);
    verify_root(
        &sb,
        "model",
        p,
        &["--identity", "email:release-b@modelseal.test"],
    )
    .code(0);
    // Identity required of a key bundle.
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sign(&sb, "model", "keys/p256.pkcs8.pem", None, &[]).code(0);
    verify_key(&sb, "model", "keys/p256.pub.pem", &["--identity", "x@y"])
        .code(1)
        .stderr_has("bare key");
}

/// Each certificate fault of fixtures/pki/bad, signed and then verified
/// against the P-256 root: (key, cert, chain, expected message).
#[test]
fn certificate_faults_are_rejected_with_the_reason() {
    let cases = [
        (
            "expired",
            "expired.pem",
            "pki/p256/chain.pem",
            "expired at 2021-01-01",
        ),
        (
            "not-yet-valid",
            "not-yet-valid.pem",
            "pki/p256/chain.pem",
            "not valid before 2090-01-01",
        ),
        (
            "no-codesigning-eku",
            "no-codesigning-eku.pem",
            "pki/p256/chain.pem",
            "codeSigning",
        ),
        (
            "no-digital-signature",
            "no-digital-signature.pem",
            "pki/p256/chain.pem",
            "digitalSignature",
        ),
        (
            "leaf-is-ca",
            "leaf-is-ca.pem",
            "pki/p256/chain.pem",
            "is a CA certificate",
        ),
        (
            "leaf-under-not-ca",
            "leaf-under-not-ca.pem",
            "pki/bad/leaf-under-not-ca.chain.pem",
            "not a CA",
        ),
        (
            "pathlen-leaf",
            "pathlen-leaf.pem",
            "pki/bad/pathlen-leaf.chain.pem",
            "path length",
        ),
        (
            "other-root/leaf",
            "other-root/leaf.pem",
            "pki/bad/other-root/chain.pem",
            "trusted root",
        ),
        ("self-signed", "self-signed.pem", "", "trusted root"),
        ("sha1", "sha1.pem", "pki/p256/chain.pem", "SHA-1"),
        // The intermediate left out of the bundle.
        ("expired", "../p256/leaf.pem", "", "trusted root"),
    ];
    for (key, cert, chain, want) in cases {
        let sb = Sandbox::new();
        sb.copy("models/demo", "model");
        let key = if cert.starts_with("../") {
            "pki/p256/leaf.key".to_string()
        } else {
            format!("pki/bad/{key}.key")
        };
        let cert = format!("pki/bad/{cert}");
        // `sign` refuses these certificates; put them in after signing.
        sign(&sb, "model", &key, None, &[]).code(0);
        let mut pems = vec![fixture(&cert)];
        if !chain.is_empty() {
            pems.push(fixture(chain));
        }
        common::attach_chain(&sb.path("model.sig"), &pems);
        let run = verify_root(&sb, "model", "pki/p256/root.pem", &["--json"]);
        run.code(1).no_panic();
        let doc = run.json();
        assert_eq!(doc["verdict"], "rejected", "{cert}");
        assert_eq!(doc["error"]["kind"], "untrusted_certificate", "{cert}");
        let msg = doc["error"]["message"].as_str().unwrap();
        assert!(msg.contains(want), "{cert}: {msg:?} lacks {want:?}");
        let trust = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "trust")
            .unwrap()
            .clone();
        assert_eq!(trust["status"], "fail");
    }
}

#[test]
fn verification_time_can_be_set() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    // `sign` refuses the expired certificate; put it in after signing.
    sign(&sb, "model", "pki/bad/expired-within-ca.key", None, &[]).code(0);
    common::attach_chain(
        &sb.path("model.sig"),
        &[
            fixture("pki/bad/expired-within-ca.pem"),
            fixture("pki/p256/chain.pem"),
        ],
    );
    verify_root(&sb, "model", "pki/p256/root.pem", &[])
        .code(1)
        .stderr_has("expired");
    verify_root(
        &sb,
        "model",
        "pki/p256/root.pem",
        &["--at", "2025-03-01T00:00:00Z"],
    )
    .code(0);
    verify_root(&sb, "model", "pki/p256/root.pem", &["--at", "yesterday"])
        .code(2)
        .stderr_has("RFC 3339");
}

#[test]
fn wrong_keys_and_algorithms_are_rejected() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sign(&sb, "model", "keys/p256.pkcs8.pem", None, &[]).code(0);
    // Another key of the same algorithm: the hint names another key.
    verify_key(&sb, "model", "pki/p256/leaf.pem", &[]).code(2);
    let other = sb.path("other.pub");
    let leaf_key = sb.key("pki/p256/leaf.key");
    let out = std::process::Command::new("openssl")
        .args([
            "pkey",
            "-in",
            leaf_key.to_str().unwrap(),
            "-pubout",
            "-out",
            other.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    verify_key(&sb, "model", other.to_str().unwrap(), &[])
        .code(1)
        .stderr_has("another key");
    // Without the hint, the signature itself fails.
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&fs::read(sb.path("model.sig")).unwrap()).unwrap();
    bundle["verificationMaterial"]["publicKey"]["hint"] = "".into();
    fs::write(sb.path("nohint.sig"), serde_json::to_vec(&bundle).unwrap()).unwrap();
    verify_key(&sb, "model", other.to_str().unwrap(), &["-s", "nohint.sig"])
        .code(1)
        .stderr_has("invalid signature");
    // A key of another algorithm.
    verify_key(&sb, "model", "keys/p384.pub.pem", &["-s", "nohint.sig"])
        .code(1)
        .stderr_has("ecdsa-p256-sha256");
    verify_key(&sb, "model", "keys/ed25519.pub.pem", &["-s", "nohint.sig"]).code(1);
    // The keyid naming an algorithm the key cannot make.
    bundle["dsseEnvelope"]["signatures"][0]["keyid"] = "rsa-pss-sha256".into();
    fs::write(sb.path("badalg.sig"), serde_json::to_vec(&bundle).unwrap()).unwrap();
    verify_key(&sb, "model", "keys/p256.pub.pem", &["-s", "badalg.sig"])
        .code(1)
        .stderr_has("rsa-pss-sha256");
}

#[test]
fn malformed_bundles_exit_2_with_a_reason() {
    let sb = signed_demo();
    let good = fs::read(sb.path("model.sig")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "invalid JSON"),
        ("truncated", good[..good.len() / 2].to_vec(), "invalid JSON"),
        ("not utf-8", b"\xff\xfe{}".to_vec(), "invalid JSON"),
        ("not json", b"hello".to_vec(), "invalid JSON"),
        (
            "deep",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            "invalid JSON",
        ),
        (
            "duplicate keys",
            {
                let s = String::from_utf8(good.clone()).unwrap();
                s.replacen("{\"mediaType\"", "{\"mediaType\":\"x\",\"mediaType\"", 1)
                    .into_bytes()
            },
            "duplicate key",
        ),
    ];
    for (what, bytes, want) in cases {
        fs::write(sb.path("bad.sig"), bytes).unwrap();
        verify_root(&sb, "model", "pki/p256/root.pem", &["-s", "bad.sig"])
            .code(2)
            .no_panic()
            .stderr_has(want);
        let _ = what;
    }
    // A 100 MB document is refused without being parsed.
    let f = fs::File::create(sb.path("huge.sig")).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap();
    verify_root(&sb, "model", "pki/p256/root.pem", &["-s", "huge.sig"])
        .code(2)
        .stderr_has("limit");
    // Missing signature file.
    verify_root(&sb, "model", "pki/p256/root.pem", &["-s", "nope.sig"])
        .code(2)
        .stderr_has("cannot read");
    // Edited payload: the signature no longer verifies.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["dsseEnvelope"]["payload"] = "e30=".into();
    fs::write(sb.path("edited.sig"), serde_json::to_vec(&v).unwrap()).unwrap();
    verify_root(&sb, "model", "pki/p256/root.pem", &["-s", "edited.sig"])
        .code(1)
        .stderr_has("invalid signature");
    // Usage errors.
    sb.run(["verify", "model"])
        .code(2)
        .stderr_has("--trust-root");
    sb.run([
        "verify",
        "model",
        "--trust-root",
        fixture("keys/p256.pub.pem").to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("no CERTIFICATE");
}

#[test]
fn signed_statements_with_escaping_names_are_refused() {
    // Sign, with the library, a statement naming `../outside`; the signature
    // is valid, so only the statement check stands between it and the disk.
    use modelseal_manifest::{Bundle, Envelope, VerificationMaterial, key_hint, pae};
    let sb = signed_demo();
    let key = modelseal_signer::SigningKey::from_pem(
        &fs::read(fixture("keys/p256.pkcs8.pem")).unwrap(),
        None,
        Default::default(),
    )
    .unwrap();
    for name in ["../outside", "/etc/passwd", "a/../../b", "a\\..\\b"] {
        let digest = modelseal_manifest::HashAlgorithm::Sha256.digest(b"x");
        let subject = modelseal_manifest::HashAlgorithm::Sha256.digest(digest.as_bytes());
        let payload = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "m", "digest": {"sha256": subject.to_hex()}}],
            "predicateType": "https://model_signing/signature/v1.0",
            "predicate": {
                "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false},
                "resources": [{"name": name, "algorithm": "sha256", "digest": digest.to_hex()}],
            }
        });
        let payload = serde_json::to_vec(&payload).unwrap();
        let pt = "application/vnd.in-toto+json".to_string();
        let signature = key.sign(&pae(&pt, &payload)).unwrap();
        let bundle = Bundle {
            material: VerificationMaterial::PublicKey {
                hint: key_hint(&key.public_key_der()),
                raw: None,
            },
            envelope: Envelope {
                payload_type: pt,
                payload,
                signature,
                keyid: String::new(),
            },
            version: modelseal_manifest::BundleVersion::V0_3,
            evidence: modelseal_manifest::Evidence::default(),
        };
        fs::write(sb.path("evil.sig"), bundle.to_json()).unwrap();
        let run = verify_key(
            &sb,
            "model",
            "keys/p256.pub.pem",
            &["-s", "evil.sig", "--json"],
        );
        run.code(2).no_panic();
        let doc = run.json();
        assert_eq!(doc["error"]["kind"], "malformed_bundle", "{name}");
        let statement = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "statement")
            .unwrap()
            .clone();
        assert_eq!(statement["status"], "fail", "{name}");
    }
}

#[test]
fn json_output_for_errors_is_one_document() {
    let sb = signed_demo();
    let run = verify_root(
        &sb,
        "model",
        "pki/p256/root.pem",
        &["-s", "missing.sig", "--json"],
    );
    run.code(2);
    let doc = run.json();
    assert_eq!(doc["verdict"], "error");
    assert_eq!(doc["error"]["kind"], "unreadable_input");
    let run = sb.run(["verify", "model", "--json"]);
    run.code(2);
    assert_eq!(run.json()["verdict"], "error");
}

#[test]
fn a_closed_stdout_does_not_turn_a_verdict_into_a_panic() {
    let sb = signed_demo();
    for (model_change, want) in [(false, 0), (true, 1)] {
        if model_change {
            flip_byte(&sb.path("model/config.json"), 0);
        }
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // every write to stdout fails with EPIPE
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_modelseal"))
            .current_dir(sb.dir.path())
            .args([
                "verify",
                "model",
                "--json",
                "--identity",
                "*",
                "--trust-root",
            ])
            .arg(fixture("pki/p256/root.pem"))
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(out.status.code(), Some(want), "{stderr}");
    }
}
