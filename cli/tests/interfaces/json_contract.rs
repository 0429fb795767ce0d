//! The `--json` contract (docs/json.md): every command and subcommand, on
//! success, rejection and error, prints one document whose verdict matches
//! its exit code, and that an independent validator (`check-jsonschema`,
//! installed by `.ci/deps/deploy-tools.sh`) accepts against
//! docs/schemas/v1/modelseal.schema.json.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use crate::common::{Run, Sandbox, fixture, flip_byte};
use std::path::PathBuf;
use std::process::Command;

fn schema() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas/v1/modelseal.schema.json")
}

/// `check-jsonschema` from `$MODELSEAL_JSONSCHEMA_VENV` or the workspace's
/// `.venv-deploy` (where `./test.sh` installs it with the deploy tools).
fn check_jsonschema() -> PathBuf {
    let venv = std::env::var_os("MODELSEAL_JSONSCHEMA_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-deploy"),
        PathBuf::from,
    );
    let bin = venv.join("bin/check-jsonschema");
    assert!(
        bin.is_file(),
        "check-jsonschema not found at {}: run ./test.sh, or `bash .ci/deps/deploy-tools.sh` \
         (or set MODELSEAL_JSONSCHEMA_VENV to a venv that has it)",
        bin.display()
    );
    bin
}

/// Validate `files` against the schema; the validator's exit code and output.
fn validate(files: &[PathBuf]) -> (i32, String) {
    let out = Command::new(check_jsonschema())
        .arg("--schemafile")
        .arg(schema())
        .args(files)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The documents collected so far, each written to a file.
struct Docs {
    sb: Sandbox,
    files: Vec<PathBuf>,
}

impl Docs {
    /// Run `args`, expect exit `code` and one document (on stdout, or on
    /// stderr for `gate`) for `command` whose verdict matches the code.
    fn run(&mut self, command: &str, args: &[&str], code: i32) -> serde_json::Value {
        let run = self.sb.run(args);
        self.check(command, &run, code)
    }

    fn check(&mut self, command: &str, run: &Run, code: i32) -> serde_json::Value {
        run.code(code).no_panic();
        let text = if command == "gate" {
            &run.stderr
        } else {
            &run.stdout
        };
        let doc: serde_json::Value = serde_json::Deserializer::from_str(text)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no JSON document for {args:?}:\n{text}", args = command))
            .unwrap();
        let verdict = match code {
            0 => "ok",
            1 => "rejected",
            _ => "error",
        };
        assert_eq!(doc["verdict"], verdict, "{doc:#}");
        assert_eq!(doc["command"], command, "{doc:#}");
        assert_eq!(doc["schema_version"], 1);
        assert_eq!(doc["error"].is_null(), code == 0, "{doc:#}");
        let file = self.sb.path(&format!("doc-{:02}.json", self.files.len()));
        std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        self.files.push(file);
        doc
    }
}

#[test]
fn every_command_prints_one_valid_document() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    sb.copy("pki", "pki");
    sb.copy("policies/example.json", "policies/example.json");
    sb.copy("models/demo", "policies/models/staging/bert");
    let key = sb.key("pki/p256/leaf.key").display().to_string();
    let pubkey = fixture("keys/p256.pub.pem").display().to_string();
    let rawkey = sb.key("keys/p256.pkcs8.pem").display().to_string();
    let sums = fixture("checksums/demo.sha256").display().to_string();
    let mut d = Docs {
        sb,
        files: Vec::new(),
    };
    let signing = [
        "--key",
        &key,
        "--cert",
        "pki/p256/leaf.pem",
        "--chain",
        "pki/p256/chain.pem",
        "--json",
    ];

    // keygen: files, then refused (never replaces them).
    let kg = ["keygen", "--algorithm", "ed25519", "--out", "kg", "--json"];
    let doc = d.run("keygen", &kg, 0);
    assert_eq!(doc["algorithm"], "ed25519");
    d.run("keygen", &kg, 2);

    // sign: bundle, raw signature, error.
    let mut args = vec!["sign", "model"];
    args.extend(signing);
    let doc = d.run("sign", &args, 0);
    assert_eq!(doc["material"], "certificate");
    assert!(
        doc["key_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    d.sb.copy("checksums/demo.sha256", "SHA256SUMS");
    d.run(
        "sign",
        &[
            "sign",
            "SHA256SUMS",
            "--key",
            &rawkey,
            "--raw-signature",
            "SUMS.sig",
            "--json",
        ],
        0,
    );
    d.run(
        "sign",
        &["sign", "model", "--key", "absent.pem", "--json"],
        2,
    );

    // verify: bundle, checksums, signed checksums, policy; each verdict.
    let root = [
        "--trust-root",
        "pki/p256/root.pem",
        "--identity",
        "email:release-a@modelseal.test",
    ];
    let mut args = vec!["verify", "model", "--json"];
    args.extend(root);
    let ok = d.run("verify", &args, 0);
    assert_eq!(ok["mode"], "bundle");
    assert_eq!(ok["signatures"][0]["accepted"], true);
    assert_eq!(ok["identity"], "email:release-a@modelseal.test");
    assert_eq!(ok["warnings"], serde_json::json!([]));
    // Certificate mode never accepts "any signer" implicitly.
    let implicit = d.run(
        "verify",
        &[
            "verify",
            "model",
            "--json",
            "--trust-root",
            "pki/p256/root.pem",
        ],
        2,
    );
    assert_eq!(implicit["error"]["kind"], "usage");
    assert!(
        implicit["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--identity '*'")
    );
    let any = d.run(
        "verify",
        &[
            "verify",
            "model",
            "--json",
            "--trust-root",
            "pki/p256/root.pem",
            "--identity",
            "*",
        ],
        0,
    );
    assert!(
        any["warnings"][0].as_str().unwrap().contains("any signer"),
        "{any:#}"
    );
    let mut missing = args.clone();
    missing.extend(["-s", "absent.sig"]);
    let err = d.run("verify", &missing, 2);
    assert_eq!(err["error"]["kind"], "unreadable_input");
    d.run(
        "verify",
        &["verify", "model", "--checksums", &sums, "--json"],
        0,
    );
    d.run(
        "verify",
        &[
            "verify",
            "model",
            "--checksums",
            "SHA256SUMS",
            "--raw-signature",
            "SUMS.sig",
            "--public-key",
            &pubkey,
            "--json",
        ],
        0,
    );
    let mut args_pol = vec!["sign", "policies/models/staging/bert", "-s", "a.sig"];
    args_pol.extend(signing);
    d.run("sign", &args_pol, 0);
    let policy = [
        "--policy",
        "policies/example.json",
        "--at",
        "2030-01-01T00:00:00Z",
        "--json",
    ];
    let mut args = vec!["verify", "policies/models/staging/bert", "-s", "a.sig"];
    args.extend(policy);
    let pol = d.run("verify", &args, 0);
    assert_eq!(pol["mode"], "policy");
    assert_eq!(pol["policy"]["name"], "staging");
    let mut args = vec!["verify", "model", "-s", "a.sig"];
    args.extend(policy);
    d.run("verify", &args, 1);

    // convert.
    d.run(
        "convert",
        &[
            "convert",
            "model",
            "--checksums",
            &sums,
            "--key",
            &rawkey,
            "-s",
            "c.sig",
            "--json",
        ],
        0,
    );

    // gate: the document on stderr, before COMMAND (exit: COMMAND's).
    let mut args = vec!["gate", "model", "--json"];
    args.extend(root);
    args.extend(["--", "true"]);
    let g = d.run("gate", &args, 0);
    assert_eq!(g["started"], true);
    flip_byte(&d.sb.path("model/model.safetensors"), 10);
    let g = d.run("gate", &args, 1);
    assert_eq!(g["started"], false);
    assert_eq!(g["error"]["kind"], "digest_mismatch");
    let mut args = vec!["verify", "model", "--json"];
    args.extend(root);
    d.run("verify", &args, 1);
    // A missing file fails the files check, named as such.
    std::fs::remove_file(d.sb.path("model/config.json")).unwrap();
    let files = d.run("verify", &args, 1);
    assert_eq!(files["error"]["kind"], "files_mismatch");

    // audit: every subcommand.
    d.run(
        "audit keygen",
        &["audit", "keygen", "--out", "keys", "--json"],
        0,
    );
    d.run(
        "audit keygen",
        &["audit", "keygen", "--out", "keys", "--json"],
        2,
    );
    let append = [
        "audit",
        "append",
        "--log",
        "a.log",
        "--key",
        "keys/writer.key",
        "--user",
        "u",
        "--action",
        "model.test",
        "--ip",
        "127.0.0.1",
        "--result",
        "success",
        "--json",
    ];
    let a = d.run("audit append", &append, 0);
    assert_eq!(a["sequence"], 0);
    d.run(
        "audit checkpoint",
        &[
            "audit",
            "checkpoint",
            "--log",
            "a.log",
            "--key",
            "keys/writer.key",
            "--out",
            "cp.json",
            "--json",
        ],
        0,
    );
    let verify_log = [
        "audit",
        "verify",
        "--log",
        "a.log",
        "--key",
        "keys/verifier.key",
        "--json",
    ];
    d.run("audit verify", &verify_log, 0);
    d.run(
        "audit keygen",
        &["audit", "keygen", "--out", "other", "--json"],
        0,
    );
    let t = d.run(
        "audit verify",
        &[
            "audit",
            "verify",
            "--log",
            "a.log",
            "--key",
            "other/verifier.key",
            "--json",
        ],
        1,
    );
    assert_eq!(t["tampered"]["kind"], "wrong_key");

    // policy check and explain.
    d.run(
        "policy check",
        &["policy", "check", "policies/example.json", "--json"],
        0,
    );
    std::fs::write(d.sb.path("bad.json"), b"{\"policies\": 1}").unwrap();
    let bad = d.run(
        "policy check",
        &["policy", "check", "bad.json", "--json"],
        2,
    );
    assert_eq!(bad["error"]["kind"], "invalid_policy");
    d.run(
        "policy explain",
        &[
            "policy",
            "explain",
            "policies/example.json",
            "policies/models/staging/bert",
            "--json",
        ],
        0,
    );

    // scan (content safety) of the demo model: clean.
    d.run(
        "scan",
        &["scan", "policies/models/staging/bert", "--json"],
        0,
    );

    // Sigstore keyless: a real public-good bundle verified offline (signer
    // kind keyless, tlog check), then another identity (rejected).
    let assets = modelseal_testkit::sigstore_assets();
    let pa = assets.join("pypi-attestations");
    let artifact = pa.join("pypi_attestation_models-0.0.4a2.tar.gz");
    let bundle = pa.join("pypi_attestation_models-0.0.4a2.tar.gz.sigstore");
    let mut keyless = vec![
        "verify".to_owned(),
        artifact.display().to_string(),
        "-s".to_owned(),
        bundle.display().to_string(),
        "--certificate-identity".to_owned(),
        "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2".to_owned(),
        "--certificate-oidc-issuer".to_owned(),
        "https://token.actions.githubusercontent.com".to_owned(),
        "--json".to_owned(),
    ];
    let args: Vec<&str> = keyless.iter().map(String::as_str).collect();
    let doc = d.run("verify", &args, 0);
    assert_eq!(doc["signer"]["kind"], "keyless", "{doc:#}");
    assert!(
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "tlog")
    );
    keyless[5] = "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main".to_owned();
    let args: Vec<&str> = keyless.iter().map(String::as_str).collect();
    let doc = d.run("verify", &args, 1);
    assert_eq!(doc["error"]["kind"], "identity_mismatch", "{doc:#}");

    // Usage errors clap finds are documents too, on stdout.
    let u = d.run("verify", &["verify", "--json"], 2);
    assert_eq!(u["error"]["kind"], "usage");
    assert!(u["error"]["message"].as_str().unwrap().contains("<MODEL>"));
    d.run("audit append", &["audit", "append", "--json", "--bogus"], 2);
    d.run("gate", &["gate", "model", "--json"], 2);

    let (code, out) = validate(&d.files);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_schema_rejects_documents_outside_the_contract() {
    let sb = Sandbox::new();
    let good = serde_json::json!({
        "schema_version": 1, "command": "audit keygen", "verdict": "ok", "error": null,
        "warnings": [], "writer_key": "k/writer.key", "verifier_key": "k/verifier.key",
        "log_id": "x",
    });
    let mut cases = vec![("good", good.clone())];
    let mut old_word = good.clone();
    old_word["verdict"] = "verified".into();
    cases.push(("old verdict word", old_word));
    let mut no_error = good.clone();
    no_error["verdict"] = "rejected".into();
    cases.push(("rejected without error", no_error));
    let mut missing_field = good.clone();
    missing_field.as_object_mut().unwrap().remove("writer_key");
    cases.push(("command field missing", missing_field));
    for (i, (name, doc)) in cases.iter().enumerate() {
        let file = sb.path(&format!("{i}.json"));
        std::fs::write(&file, doc.to_string()).unwrap();
        let (code, out) = validate(&[file]);
        assert_eq!(code == 0, *name == "good", "{name}: {out}");
    }
}
