//! Error messages say what was wrong and what to do, with the right exit
//! code; old option names still work as hidden aliases.
#![allow(missing_docs, clippy::unwrap_used)]

use crate::common::{Run, Sandbox, fixture};

/// stderr without warnings, as one string.
fn error_line(run: &Run) -> String {
    run.stderr
        .lines()
        .filter(|l| !l.starts_with("modelseal: warning: "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn signed_demo() -> Sandbox {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem").display().to_string();
    sb.run(["sign", "model", "--key", &key, "-q"]).code(0);
    sb
}

#[test]
fn input_errors_are_not_called_verification_failures() {
    let sb = signed_demo();
    let public = fixture("keys/p256.pub.pem").display().to_string();
    let run = sb.run([
        "verify",
        "model",
        "--public-key",
        &public,
        "-s",
        "absent.sig",
    ]);
    run.code(2);
    let err = error_line(&run);
    assert!(!err.contains("verification failed"), "{err}");
    assert!(err.contains("absent.sig"), "{err}");
    // A rejection still is one.
    std::fs::write(sb.path("model/config.json"), b"{}").unwrap();
    let run = sb.run(["verify", "model", "--public-key", &public]);
    run.code(1).stderr_has("verification failed: integrity");
}

#[test]
fn a_bundle_inside_the_model_is_pointed_at() {
    let sb = signed_demo();
    std::fs::rename(sb.path("model.sig"), sb.path("model/model.sig")).unwrap();
    let public = fixture("keys/p256.pub.pem").display().to_string();
    sb.run(["verify", "model", "--public-key", &public])
        .code(2)
        .stderr_has("model/model.sig exists: pass --signature model/model.sig");
}

#[test]
fn one_file_against_a_directory_bundle_says_so() {
    let sb = signed_demo();
    let public = fixture("keys/p256.pub.pem").display().to_string();
    let run = sb.run(["verify", "model/config.json", "--public-key", &public]);
    run.code(1)
        .stderr_has("model/config.json is one file, but the bundle signs a directory of 7 files")
        .stderr_has("verify the directory");
    assert!(
        !run.stderr.contains("\".\"") && !run.stderr.contains(": ."),
        "{}",
        run.stderr
    );
}

#[test]
fn key_problems_name_the_fix() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    // A public key: said to be one, not "chmod 600".
    sb.copy("keys/p256.pub.pem", "signer.pub");
    let run = sb.run(["sign", "model", "--key", "signer.pub"]);
    run.code(2).stderr_has("found PEM block \"PUBLIC KEY\"");
    assert!(!run.stderr.contains("chmod"), "{}", run.stderr);
    // An encrypted key without its passphrase names the variable.
    let enc = sb.key("keys/p256.pkcs8.enc.pem").display().to_string();
    sb.run(["sign", "model", "--key", &enc])
        .code(2)
        .stderr_has("$MODELSEAL_KEY_PASSPHRASE is not set");
    sb.run([
        "sign",
        "model",
        "--key",
        &enc,
        "--passphrase-env",
        "RELEASE_PASS",
    ])
    .code(2)
    .stderr_has("$RELEASE_PASS is not set");
    sb.run_env(
        ["sign", "model", "--key", &enc, "-q"],
        &[("MODELSEAL_KEY_PASSPHRASE", "modelseal-test-passphrase")],
    )
    .code(0);
}

#[test]
fn times_and_names_are_explained() {
    let sb = signed_demo();
    let root = fixture("pki/p256/root.pem").display().to_string();
    sb.run([
        "verify",
        "model",
        "--trust-root",
        &root,
        "--identity",
        "*",
        "--at",
        "2026-12-01",
    ])
    .code(2)
    .stderr_has("--at \"2026-12-01\" is not an RFC 3339 time")
    .stderr_has("e.g. 2026-12-01T00:00:00Z");
    // Help and usage use the same placeholder.
    let help = sb.run(["verify", "--help"]);
    help.code(0).stdout_has("<MODEL>");
    assert!(!help.stdout.contains("MODEL_PATH"), "{}", help.stdout);
    // Hidden aliases are accepted but not shown.
    assert!(!help.stdout.contains("--cert ") && help.stdout.contains("--raw-cert"));
    let sign_help = sb.run(["sign", "--help"]).stdout.clone();
    assert!(sign_help.contains("--digest") && !sign_help.contains("--rsa-hash"));
}

#[test]
fn old_option_names_still_work() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let rsa = sb.key("keys/rsa2048.pkcs8.pem").display().to_string();
    sb.run([
        "sign",
        "model",
        "--key",
        &rsa,
        "--rsa-hash",
        "sha384",
        "--json",
    ])
    .code(0)
    .stdout_has("rsa-pss-sha384");
    // verify --cert is --raw-cert.
    let sums = fixture("checksums/demo.sha256").display().to_string();
    let run = sb.run([
        "verify",
        &fixture("models/demo").display().to_string(),
        "--checksums",
        &sums,
        "--raw-signature",
        &fixture("checksums/demo.sha256.pki-p256.sig")
            .display()
            .to_string(),
        "--cert",
        &fixture("pki/p256/fullchain.pem").display().to_string(),
        "--trust-root",
        &fixture("pki/p256/root.pem").display().to_string(),
        "--identity",
        "email:release-a@modelseal.test",
        "-q",
    ]);
    run.code(0);
}
