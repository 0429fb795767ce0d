//! `modelseal keygen` into files: modes, no overwrite, encrypted PKCS#8,
//! and keys that sign bundles modelseal verifies.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::Sandbox;

fn mode(p: &std::path::Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn generated_keys_sign_and_verify() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    // One rsa-4096 key (the slowest to make) is enough for that size.
    for alg in [
        "ecdsa-p256",
        "ecdsa-p384",
        "ed25519",
        "rsa-3072",
        "rsa-4096",
    ] {
        let run = sb.run([
            "keygen",
            "--algorithm",
            alg,
            "--out",
            "keys",
            "--name",
            alg,
            "--json",
        ]);
        let doc = run.code(0).json();
        let key = sb.path(&format!("keys/{alg}.key"));
        let public = sb.path(&format!("keys/{alg}.pub.pem"));
        assert_eq!(mode(&key), 0o600, "{alg}");
        assert_eq!(mode(&public), 0o644, "{alg}");
        let signed = sb.run([
            "sign",
            "model",
            "--key",
            &key.display().to_string(),
            "--signature",
            "m.sig",
            "--json",
        ]);
        assert_eq!(
            signed.code(0).json()["key_fingerprint"],
            doc["key_fingerprint"],
            "{alg}"
        );
        sb.run([
            "verify",
            "model",
            "--signature",
            "m.sig",
            "--public-key",
            &public.display().to_string(),
        ])
        .code(0);
        // Never replaced.
        sb.run(["keygen", "--algorithm", alg, "--out", "keys", "--name", alg])
            .code(2)
            .stderr_has("never replaces");
    }
}

#[test]
fn encrypted_keys_need_their_passphrase() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sb.run([
        "keygen",
        "--algorithm",
        "ecdsa-p256",
        "--out",
        "k",
        "--encrypt",
    ])
    .code(2)
    .stderr_has("MODELSEAL_KEY_PASSPHRASE");
    let pass = [("MODELSEAL_KEY_PASSPHRASE", "correct horse battery")];
    sb.run_env(
        [
            "keygen",
            "--algorithm",
            "ecdsa-p256",
            "--out",
            "k",
            "--encrypt",
        ],
        &pass,
    )
    .code(0);
    let key = sb.path("k/signing.key");
    assert!(
        fs::read_to_string(&key)
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    );
    let key = key.display().to_string();
    sb.run(["sign", "model", "--key", &key, "--signature", "m.sig"])
        .code(2)
        .stderr_has("encrypted");
    sb.run_env(
        ["sign", "model", "--key", &key, "--signature", "m.sig"],
        &pass,
    )
    .code(0);
}
