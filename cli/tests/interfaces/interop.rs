//! Interoperability with the OpenSSF Model Signing reference tool
//! (`model-signing` 1.1.1), both directions.
//!
//! - Bundles made by the reference tool (fixtures/interop/oms) verify with
//!   `modelseal verify`; the ones signed with faulty certificates are
//!   rejected even where the reference tool accepts them.
//! - Bundles made by `modelseal sign` verify with `model_signing verify`.
//!   That direction needs the reference tool: `./test.sh` installs it in a
//!   virtualenv (`.ci/deps/model-signing.sh`, `.venv-oms` or
//!   `MODELSEAL_OMS_VENV`); without it the test fails and says how to get it.
#![allow(missing_docs, clippy::unwrap_used)]

use crate::common;
use crate::common::{Sandbox, fixture};
use std::path::PathBuf;
use std::process::Command;

fn oms(rel: &str) -> String {
    fixture(&format!("interop/oms/{rel}")).display().to_string()
}

#[test]
fn reference_bundles_verify() {
    let sb = Sandbox::new();
    let model = oms("model");
    let cases: Vec<Vec<String>> = vec![
        vec![oms("model.sig"), "--trust-root".into(), oms("pki/root.pem")],
        vec![
            oms("p384/model.sig"),
            "--trust-root".into(),
            oms("p384/pki/root.pem"),
            "--identity".into(),
            "*".into(),
        ],
        vec![
            oms("key-p256/model.sig"),
            "--public-key".into(),
            oms("key-p256/signing.pub"),
        ],
        vec![
            oms("p384/key/model.sig"),
            "--public-key".into(),
            oms("p384/key/signing.pub"),
        ],
        vec![
            oms("extra/shards-p256.sig"),
            "--trust-root".into(),
            oms("pki/root.pem"),
            "--identity".into(),
            "*".into(),
        ],
        vec![
            oms("extra/blake3-p256.sig"),
            "--trust-root".into(),
            oms("pki/root.pem"),
            "--identity".into(),
            "*".into(),
        ],
        vec![
            oms("extra/blake2-p256.sig"),
            "--trust-root".into(),
            oms("pki/root.pem"),
            "--identity".into(),
            "*".into(),
        ],
        vec![
            oms("extra/keyid-nonempty.sig"),
            "--trust-root".into(),
            oms("pki/root.pem"),
            "--identity".into(),
            "*".into(),
        ],
    ];
    for case in cases {
        let mut args = vec![
            "verify".to_string(),
            model.clone(),
            "--json".into(),
            "-s".into(),
        ];
        args.extend(case.iter().cloned());
        if case.iter().any(|a| a == "--trust-root") && !case.iter().any(|a| a == "--identity") {
            args.extend(["--identity".into(), "*".into()]);
        }
        let run = sb.run(&args);
        run.code(0);
        assert_eq!(run.json()["verdict"], "ok", "{case:?}");
    }
    // Signature inside the model directory, ignore paths recorded.
    sb.run([
        "verify",
        &oms("extra/model-ignore"),
        "-s",
        &oms("extra/model-ignore/model.sig"),
        "--trust-root",
        &oms("pki/root.pem"),
        "--identity",
        "*",
    ])
    .code(0);
    // Shards with component ordering and an empty file.
    sb.run([
        "verify",
        fixture("models/ordering").to_str().unwrap(),
        "-s",
        &oms("extra/shards-ordering-p256.sig"),
        "--trust-root",
        &oms("pki/root.pem"),
        "--identity",
        "*",
    ])
    .code(0);
}

#[test]
fn reference_bundles_with_faulty_certificates_are_rejected() {
    let sb = Sandbox::new();
    let demo = fixture("models/demo").display().to_string();
    let p256 = fixture("pki/p256/root.pem").display().to_string();
    let ok = ["cert-p256-leaf", "cert-p256-leaf-b"];
    // The reference tool accepts several of these; modelseal must not.
    let bad = [
        "cert-expired-within-ca",
        "cert-expired",
        "cert-leaf-is-ca",
        "cert-leaf-under-not-ca",
        "cert-no-codesigning-eku",
        "cert-no-digital-signature",
        "cert-not-yet-valid",
        "cert-other-root",
        "cert-pathlen-leaf",
        "cert-self-signed",
        "cert-sha1",
    ];
    for name in ok {
        sb.run([
            "verify",
            &demo,
            "-s",
            &oms(&format!("extra/demo/{name}.sig")),
            "--trust-root",
            &p256,
            "--identity",
            "*",
        ])
        .code(0);
    }
    for name in bad {
        sb.run([
            "verify",
            &demo,
            "-s",
            &oms(&format!("extra/demo/{name}.sig")),
            "--trust-root",
            &p256,
            "--identity",
            "*",
        ])
        .code(1)
        .no_panic()
        .stderr_has("certificate");
    }
    let p384 = fixture("pki/p384/root.pem").display().to_string();
    sb.run([
        "verify",
        &demo,
        "-s",
        &oms("extra/demo/cert-p384-leaf.sig"),
        "--trust-root",
        &p384,
        "--identity",
        "*",
    ])
    .code(0);
    let pubkey = fixture("keys/p256.pub.pem").display().to_string();
    sb.run([
        "verify",
        &demo,
        "-s",
        &oms("extra/demo/key-p256.sig"),
        "--public-key",
        &pubkey,
    ])
    .code(0);
    // P-521 is not a supported algorithm: refused as unusable input.
    let p521 = fixture("keys/p521.pub.pem").display().to_string();
    sb.run([
        "verify",
        &demo,
        "-s",
        &oms("extra/demo/key-p521.sig"),
        "--public-key",
        &p521,
    ])
    .code(2)
    .stderr_has("P-521");
}

/// The reference CLI: `$MODELSEAL_OMS_VENV/bin/model_signing`, else the
/// workspace's `.venv-oms` (where `./test.sh` installs it). A missing tool
/// fails the test with what to run.
fn model_signing() -> PathBuf {
    let venv = std::env::var_os("MODELSEAL_OMS_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-oms"),
        PathBuf::from,
    );
    let ms = venv.join("bin/model_signing");
    assert!(
        ms.is_file(),
        "model_signing (the OpenSSF reference tool) not found at {}: run ./test.sh, \
         or `bash .ci/deps/model-signing.sh` and set MODELSEAL_OMS_VENV to its venv",
        ms.display()
    );
    ms
}

#[test]
fn modelseal_bundles_verify_with_the_reference_tool() {
    let ms = model_signing();
    let cases = [
        (
            "pki/p256/leaf.key",
            Some((
                "pki/p256/leaf.pem",
                "pki/p256/chain.pem",
                "pki/p256/root.pem",
            )),
            None,
        ),
        (
            "pki/p384/leaf.key",
            Some((
                "pki/p384/leaf.pem",
                "pki/p384/chain.pem",
                "pki/p384/root.pem",
            )),
            None,
        ),
        ("keys/p256.pkcs8.pem", None, Some("keys/p256.pub.pem")),
        ("keys/p384.sec1.pem", None, Some("keys/p384.pub.pem")),
    ];
    for (key, cert, public) in cases {
        let sb = Sandbox::new();
        sb.copy("models/demo", "model");
        let keyfile = sb.key(key);
        let mut args = vec![
            "sign".to_string(),
            "model".into(),
            "--key".into(),
            keyfile.display().to_string(),
        ];
        if let Some((leaf, chain, _)) = cert {
            args.extend(["--cert".into(), fixture(leaf).display().to_string()]);
            args.extend(["--chain".into(), fixture(chain).display().to_string()]);
        }
        sb.run(&args).code(0);
        let mut cmd = Command::new(&ms);
        cmd.current_dir(sb.dir.path()).arg("verify");
        match (cert, public) {
            (Some((_, _, root)), _) => {
                cmd.args([
                    "certificate",
                    "model",
                    "--signature",
                    "model.sig",
                    "--certificate_chain",
                ])
                .arg(fixture(root));
            }
            (None, Some(public)) => {
                cmd.args(["key", "model", "--signature", "model.sig", "--public_key"])
                    .arg(fixture(public));
            }
            (None, None) => unreachable!(),
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "model_signing rejected the bundle signed with {key}:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // And a tampered model fails there too.
        common::flip_byte(&sb.path("model/config.json"), 0);
        let out = cmd.output().unwrap();
        assert!(
            !out.status.success(),
            "model_signing accepted a tampered model ({key})"
        );
    }
}

/// Shard bundles record their empty files in a predicate field of
/// modelseal's (`modelseal_empty_files`, issue 19 item 3); the reference
/// library ignores predicate fields it does not know, so it still verifies
/// them. Its CLI always hashes by files, so this uses its API with the
/// shard size given, as `fixtures/interop/oms/extra/README.md` describes.
#[test]
fn modelseal_shard_bundles_with_empty_files_verify_with_the_reference_api() {
    let python = model_signing().with_file_name("python");
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    std::fs::write(sb.path("model/empty.txt"), b"").unwrap();
    std::fs::write(sb.path("model/extra/__init__.py"), b"").unwrap();
    let key = sb.key("keys/p256.pkcs8.pem");
    sb.run([
        "sign",
        "model",
        "--key",
        key.to_str().unwrap(),
        "--shard-size",
        "65536",
        "-s",
        "model.sig",
        "-q",
    ])
    .code(0);
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.path("model.sig")).unwrap()).unwrap();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        bundle["dsseEnvelope"]["payload"].as_str().unwrap(),
    )
    .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["predicate"]["modelseal_empty_files"],
        serde_json::json!(["empty.txt", "extra/__init__.py"])
    );
    let script = "import sys\n\
        from model_signing import hashing, verifying\n\
        cfg = verifying.Config().use_elliptic_key_verifier(public_key=sys.argv[3])\n\
        cfg.set_hashing_config(hashing.Config().use_shard_serialization(shard_size=65536))\n\
        cfg.verify(sys.argv[1], sys.argv[2])\n";
    let reference = || {
        Command::new(&python)
            .current_dir(sb.dir.path())
            .args(["-c", script, "model", "model.sig"])
            .arg(fixture("keys/p256.pub.pem"))
            .output()
            .unwrap()
    };
    let out = reference();
    assert!(
        out.status.success(),
        "model_signing rejected a modelseal shard bundle:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::flip_byte(&sb.path("model/config.json"), 0);
    assert!(!reference().status.success(), "a tampered model passed");
}
