//! `modelseal policy check|explain` and `modelseal verify --policy`, run as
//! the real binary against fixtures/policies/example.json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crate::common;
use crate::common::{Sandbox, fixture};
use serde_json::Value;

/// A sandbox laid out like the fixtures: `pki/`, `policies/example.json`
/// (whose relative paths then resolve), and models under
/// `policies/models/`.
fn setup() -> Sandbox {
    let sb = Sandbox::new();
    sb.copy("pki", "pki");
    sb.copy("policies/example.json", "policies/example.json");
    for m in [
        "prod/bert",
        "staging/bert",
        "vendor/llama-3",
        "elsewhere/vendor-llama",
        "scratch/x",
        "unlisted/x",
    ] {
        sb.copy("models/demo", &format!("policies/models/{m}"));
    }
    sb
}

/// Sign `model` (under `policies/models/`) as `who` into `out`.
fn sign(sb: &Sandbox, model: &str, who: &str, out: &str) {
    let (key, cert) = match who {
        "a" => ("p256/leaf", "p256/leaf"),
        "b" => ("p256/leaf-b", "p256/leaf-b"),
        "p384" => ("p384/leaf", "p384/leaf"),
        "revoked" => ("bad/revoked", "bad/revoked"),
        other => panic!("{other}"),
    };
    let chain = if who == "p384" {
        "p384/chain.pem"
    } else {
        "p256/chain.pem"
    };
    let key = sb.key(&format!("pki/{key}.key"));
    sb.run([
        "sign".as_ref(),
        sb.path(&format!("policies/models/{model}")).as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--cert".as_ref(),
        sb.path(&format!("pki/{cert}.pem")).as_os_str(),
        "--chain".as_ref(),
        sb.path(&format!("pki/{chain}")).as_os_str(),
        "-s".as_ref(),
        sb.path(out).as_os_str(),
        "-q".as_ref(),
    ])
    .code(0);
}

fn verify(sb: &Sandbox, model: &str, sigs: &[&str], extra: &[&str]) -> common::Run {
    let mut args = vec![
        "verify".to_owned(),
        format!("policies/models/{model}"),
        "--policy".to_owned(),
        "policies/example.json".to_owned(),
        "--at".to_owned(),
        "2030-01-01T00:00:00Z".to_owned(),
    ];
    for s in sigs {
        args.push("--signature".into());
        args.push((*s).to_owned());
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    sb.run(args)
}

/// The check `name` of signature `sig` (or the quorum) in a `--json` report.
fn check<'a>(doc: &'a Value, name: &str, sig: Option<&str>) -> &'a Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name && c["signature"].as_str() == sig)
        .unwrap_or_else(|| panic!("no {name} for {sig:?} in {doc:#}"))
}

#[test]
fn check_valid_and_invalid_policies() {
    let sb = setup();
    let r = sb.run(["policy", "check", "policies/example.json"]);
    r.code(0)
        .stdout_has("4 policies")
        .stdout_has("production: strict");
    let doc = sb
        .run(["policy", "check", "policies/example.json", "--json"])
        .code(0)
        .json();
    assert_eq!(doc["verdict"], "ok");
    assert_eq!(doc["command"], "policy check");
    assert_eq!(
        doc["policies"],
        serde_json::json!(["production", "staging", "vendored", "scratch"])
    );

    let mut bad: Value =
        serde_json::from_slice(&std::fs::read(fixture("policies/example.json")).unwrap()).unwrap();
    bad["policies"][0]["trustStores"] = serde_json::json!(["nope"]);
    bad["policies"][1]["scopes"] = serde_json::json!(["models/{a,b}"]);
    bad["policies"][2]["override"] = serde_json::json!({"integrity": "log"});
    std::fs::write(
        sb.path("policies/bad.json"),
        serde_json::to_vec(&bad).unwrap(),
    )
    .unwrap();
    let r = sb.run(["policy", "check", "policies/bad.json"]);
    r.code(2)
        .no_panic()
        .stderr_has("/policies/0/trustStores/0: no trust store named \"nope\"")
        .stderr_has("/policies/1/scopes/0: invalid scope: brace alternation")
        .stderr_has("/policies/2/override/integrity: integrity cannot be lowered");
    let doc = sb
        .run(["policy", "check", "policies/bad.json", "--json"])
        .code(2)
        .json();
    assert_eq!(doc["verdict"], "error");
    assert_eq!(doc["error"]["kind"], "invalid_policy");
    let pointers: Vec<&str> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/policies/0/trustStores/0",
            "/policies/1/scopes/0",
            "/policies/2/override/integrity"
        ]
    );

    sb.run(["policy", "check", "policies/missing.json"])
        .code(2)
        .stderr_has("cannot read policy");
    let doc = sb
        .run(["policy", "check", "policies/missing.json", "--json"])
        .code(2)
        .json();
    assert_eq!(doc["error"]["kind"], "unreadable_input");
}

#[test]
fn explain_names_the_policy_and_its_requirements() {
    let sb = setup();
    let r = sb.run([
        "policy",
        "explain",
        "policies/example.json",
        "policies/models/prod/bert",
    ]);
    r.code(0)
        .stdout_has("policy:     production (/policies/0), scope \"models/prod/**\"")
        .stdout_has("checks:     integrity enforce, authenticity enforce, expiry enforce, revocation enforce")
        .stdout_has("signers:    2 distinct of: email:release-a@modelseal.test, email:release-b@modelseal.test")
        .stdout_has("1 CRL from CN=modelseal test intermediate CA P-256");
    let doc = sb
        .run([
            "policy",
            "explain",
            "policies/example.json",
            "policies/models/elsewhere/vendor-llama",
            "--json",
        ])
        .code(0)
        .json();
    assert_eq!(doc["policy"]["name"], "vendored");
    assert_eq!(doc["scope"], "name:vendor-llama");
    assert_eq!(doc["policy"]["checks"]["authenticity"], "log");
    assert_eq!(doc["policy"]["checks"]["integrity"], "enforce");
    sb.run([
        "policy",
        "explain",
        "policies/example.json",
        "policies/models/scratch/x",
    ])
    .code(0)
    .stdout_has("level:      skip")
    .stdout_has("accepted without any signature");
    sb.run([
        "policy",
        "explain",
        "policies/example.json",
        "policies/models/unlisted/x",
    ])
    .code(1)
    .stderr_has("no policy applies");
    sb.run([
        "policy",
        "explain",
        "policies/example.json",
        "policies/models/nonexistent",
    ])
    .code(2)
    .stderr_has("cannot resolve model path");
}

#[test]
fn production_needs_both_release_signers() {
    let sb = setup();
    sign(&sb, "prod/bert", "a", "a.sig");
    sign(&sb, "prod/bert", "b", "b.sig");
    sign(&sb, "prod/bert", "revoked", "r.sig");
    verify(&sb, "prod/bert", &["a.sig", "b.sig"], &[])
        .code(0)
        .stdout_has("policy:    production (strict)")
        .stdout_has("signers:   2 of 2 required");
    verify(&sb, "prod/bert", &["a.sig"], &[])
        .code(1)
        .stderr_has("quorum not met: 1 of 2 required distinct trusted signers (a.sig)");
    verify(&sb, "prod/bert", &["a.sig", "a.sig"], &[]).code(1);
    verify(&sb, "prod/bert", &["a.sig", "r.sig"], &[])
        .code(1)
        .stderr_has("not counted: r.sig");
    let doc = verify(&sb, "prod/bert", &["r.sig", "a.sig", "b.sig"], &["--json"])
        .code(0)
        .json();
    assert_eq!(doc["verdict"], "ok");
    assert_eq!(doc["policy"]["signers"], 2);
    assert_eq!(doc["signatures"][0]["accepted"], false);
    assert_eq!(doc["signatures"][1]["accepted"], true);
    let revoked = check(&doc, "revocation", Some("r.sig"));
    assert_eq!(
        (revoked["level"].as_str(), revoked["status"].as_str()),
        (Some("enforce"), Some("fail"))
    );
    let quorum = check(&doc, "quorum", None);
    assert_eq!(
        (quorum["level"].as_str(), quorum["status"].as_str()),
        (Some("enforce"), Some("pass"))
    );
    // Every check of every signature is listed with its level and status.
    // (11 per signature: tlog and timestamp are listed, skipped, without
    // Sigstore or TSA trust.)
    assert_eq!(doc["checks"].as_array().unwrap().len(), 3 * 11 + 1);

    // Tampering after signing: rejected whatever the signers.
    std::fs::write(sb.path("policies/models/prod/bert/config.json"), b"{}").unwrap();
    let doc = verify(&sb, "prod/bert", &["a.sig", "b.sig"], &["--json"])
        .code(1)
        .json();
    assert_eq!(doc["verdict"], "rejected");
    assert_eq!(doc["error"]["kind"], "policy_rejected");
    let files = check(&doc, "files", Some("a.sig"));
    assert_eq!(files["status"], "fail");
    assert!(files["detail"].as_str().unwrap().contains("config.json"));
}

#[test]
fn logged_checks_warn_but_pass() {
    let sb = setup();
    sign(&sb, "staging/bert", "revoked", "r.sig");
    verify(&sb, "staging/bert", &["r.sig"], &[])
        .code(0)
        .stdout_has("policy:    staging (permissive)")
        .stderr_has("warning: logged, not enforced: r.sig: revocation fail:")
        .stderr_has("is revoked");
    let doc = verify(&sb, "staging/bert", &["r.sig"], &["--json"])
        .code(0)
        .json();
    let c = check(&doc, "revocation", Some("r.sig"));
    assert_eq!(
        (c["level"].as_str(), c["status"].as_str()),
        (Some("log"), Some("fail"))
    );
    assert_eq!(check(&doc, "expiry", Some("r.sig"))["level"], "log");
    assert!(
        doc["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("logged, not enforced: r.sig: revocation fail:"),
        "{doc:#}"
    );

    // Vendored (audit): a signer outside the vendor CA is logged, not
    // enforced; integrity still is.
    sign(&sb, "vendor/llama-3", "a", "v.sig");
    verify(&sb, "vendor/llama-3", &["v.sig"], &[])
        .code(0)
        .stderr_has("v.sig: chain fail:");
    let doc = verify(&sb, "vendor/llama-3", &["v.sig"], &["--json"])
        .code(0)
        .json();
    assert_eq!(check(&doc, "chain", Some("v.sig"))["level"], "log");
    assert_eq!(check(&doc, "quorum", None)["status"], "fail");
    std::fs::write(sb.path("policies/models/vendor/llama-3/extra.bin"), b"x").unwrap();
    verify(&sb, "vendor/llama-3", &["v.sig"], &[])
        .code(1)
        .stderr_has("extra.bin");
}

#[test]
fn scratch_is_skipped_and_unlisted_models_are_rejected() {
    let sb = setup();
    // No signature file at all: a skip policy reads none.
    let doc = verify(&sb, "scratch/x", &["missing.sig"], &["--json"])
        .code(0)
        .json();
    assert_eq!(doc["verdict"], "ok");
    assert_eq!(doc["policy"]["level"], "skip");
    sign(&sb, "unlisted/x", "a", "u.sig");
    let doc = verify(&sb, "unlisted/x", &["u.sig"], &["--json"])
        .code(1)
        .json();
    assert_eq!(doc["verdict"], "rejected");
    assert_eq!(doc["error"]["kind"], "no_policy");
    verify(&sb, "unlisted/x", &["u.sig"], &[])
        .code(1)
        .stderr_has("no policy applies");
}

#[test]
fn usage_and_input_errors_exit_2() {
    let sb = setup();
    sign(&sb, "prod/bert", "a", "a.sig");
    // --policy excludes the plain trust options.
    verify(
        &sb,
        "prod/bert",
        &["a.sig"],
        &["--trust-root", "pki/p256/root.pem"],
    )
    .code(2);
    verify(&sb, "prod/bert", &["a.sig"], &["--identity", "email:x@y"]).code(2);
    // Several bundles need a policy.
    sb.run([
        "verify",
        "policies/models/prod/bert",
        "-s",
        "a.sig",
        "-s",
        "a.sig",
        "--trust-root",
        "pki/p256/root.pem",
    ])
    .code(2)
    .stderr_has("need --policy");
    // Unreadable bundle, invalid policy, malformed bundles.
    verify(&sb, "prod/bert", &["a.sig", "nope.sig"], &[])
        .code(2)
        .stderr_has("nope.sig");
    std::fs::write(
        sb.path("policies/broken.json"),
        b"{\"version\": \"1\", \"policies\": 3}",
    )
    .unwrap();
    sb.run([
        "verify",
        "policies/models/prod/bert",
        "-s",
        "a.sig",
        "--policy",
        "policies/broken.json",
    ])
    .code(2)
    .stderr_has("/policies: expected an array");
    std::fs::write(sb.path("junk.sig"), b"{}").unwrap();
    let doc = verify(&sb, "prod/bert", &["junk.sig", "junk.sig"], &["--json"])
        .code(2)
        .json();
    assert_eq!(doc["verdict"], "error");
    assert_eq!(check(&doc, "bundle", Some("junk.sig"))["status"], "fail");
    // The plain path is unchanged.
    sb.run([
        "verify",
        "policies/models/prod/bert",
        "-s",
        "a.sig",
        "--trust-root",
        "pki/p256/root.pem",
        "--identity",
        "*",
        "--at",
        "2030-01-01T00:00:00Z",
    ])
    .code(0);
}

/// Issue 19 item 1: a production model replaced by a link to a scratch
/// model must not pick the scratch `skip` policy, nor may a link below a
/// scope's root stand for another model; the same for `policy explain`.
#[test]
fn a_symlink_does_not_choose_the_policy() {
    let sb = setup();
    sign(&sb, "prod/bert", "a", "a.sig");
    sign(&sb, "prod/bert", "b", "b.sig");
    let bert = sb.path("policies/models/prod/bert");
    std::fs::remove_dir_all(&bert).unwrap();
    std::os::unix::fs::symlink("../scratch/x", &bert).unwrap();
    let r = verify(&sb, "prod/bert", &["a.sig", "b.sig"], &[]);
    r.code(2)
        .stderr_has("symbolic link")
        .stderr_has("\"scratch\"")
        .stderr_has("instead of \"production\"");
    assert!(!r.stdout.contains("skip"), "{}", r.stdout);
    let doc = verify(&sb, "prod/bert", &["a.sig", "b.sig"], &["--json"])
        .code(2)
        .json();
    assert_eq!(doc["error"]["kind"], "symlinked_model");
    let r = sb.run([
        "policy",
        "explain",
        "policies/example.json",
        "policies/models/prod/bert",
    ]);
    r.code(2).stderr_has("symbolic link");
    assert!(!r.stdout.contains("skip"), "{}", r.stdout);

    // A link within one scope (same policy) is refused too, naming it.
    std::fs::remove_file(&bert).unwrap();
    sb.copy("models/demo", "policies/models/prod/bert");
    std::os::unix::fs::symlink("bert", sb.path("policies/models/prod/alias")).unwrap();
    verify(&sb, "prod/alias", &["a.sig", "b.sig"], &[])
        .code(2)
        .stderr_has("models/prod/alias is a symbolic link below the root of scope");
    // `..` after a link is not normalized away into another model.
    std::os::unix::fs::symlink("../scratch/x", sb.path("policies/models/prod/lnk")).unwrap();
    sb.copy("models/demo", "policies/models/scratch/bert");
    verify(&sb, "prod/lnk/../bert", &["a.sig", "b.sig"], &[])
        .code(2)
        .stderr_has("`..` follows a symbolic link");
    // The real path still verifies, and a lexical `..` is fine.
    verify(&sb, "prod/bert", &["a.sig", "b.sig"], &[])
        .code(0)
        .stdout_has("policy:    production (strict)");
    verify(&sb, "scratch/../prod/bert", &["a.sig", "b.sig"], &[]).code(0);
}

/// Issue 19 item 9: a scope may pin the signed subject names of the models
/// it covers, so a model signed by the same signers under another name
/// cannot stand in for one of them.
#[test]
fn a_scope_pins_the_signed_model_names() {
    let sb = setup();
    sb.copy("models/demo", "policies/models/prod/gpt");
    std::fs::write(sb.path("policies/models/prod/gpt/config.json"), b"{}").unwrap();
    let path = sb.path("policies/example.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["policies"][0]["scopes"] = serde_json::json!([
        {"scope": "models/prod/bert", "modelNames": ["bert"]},
        {"scope": "models/prod/gpt", "modelNames": ["gpt", "gpt-2"]}
    ]);
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    sb.run(["policy", "check", "policies/example.json"]).code(0);
    sb.run([
        "policy",
        "explain",
        "policies/example.json",
        "policies/models/prod/gpt",
    ])
    .code(0)
    .stdout_has("names:      the signed model name must be one of: gpt, gpt-2");
    sign(&sb, "prod/bert", "a", "a.sig");
    sign(&sb, "prod/bert", "b", "b.sig");
    sign(&sb, "prod/gpt", "a", "ga.sig");
    sign(&sb, "prod/gpt", "b", "gb.sig");
    verify(&sb, "prod/bert", &["a.sig", "b.sig"], &[]).code(0);
    verify(&sb, "prod/gpt", &["ga.sig", "gb.sig"], &[]).code(0);
    // gpt, signed by the same two signers, in bert's place.
    std::fs::remove_dir_all(sb.path("policies/models/prod/bert")).unwrap();
    sb.copy("models/demo", "policies/models/prod/bert");
    std::fs::write(sb.path("policies/models/prod/bert/config.json"), b"{}").unwrap();
    let doc = verify(&sb, "prod/bert", &["ga.sig", "gb.sig"], &["--json"])
        .code(1)
        .json();
    assert_eq!(doc["error"]["kind"], "policy_rejected");
    let statement = check(&doc, "statement", Some("ga.sig"));
    assert_eq!(statement["status"], "fail");
    assert!(
        statement["detail"]
            .as_str()
            .unwrap()
            .contains("the signed model name \"gpt\" is not the required \"bert\""),
        "{statement}"
    );
    // A name list that is not a list of names is refused when loading.
    doc_with_scopes(
        &sb,
        serde_json::json!([{"scope": "models/prod/bert", "modelNames": []}]),
    );
    sb.run(["policy", "check", "policies/example.json"])
        .code(2)
        .stderr_has("/policies/0/scopes/0/modelNames");
    doc_with_scopes(
        &sb,
        serde_json::json!([{"scope": "models/prod/bert", "names": ["x"]}]),
    );
    sb.run(["policy", "check", "policies/example.json"])
        .code(2)
        .stderr_has("/policies/0/scopes/0/names");
}

fn doc_with_scopes(sb: &Sandbox, scopes: Value) {
    let path = sb.path("policies/example.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["policies"][0]["scopes"] = scopes;
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
}

/// Run `openssl ARGS` in the sandbox; it must be installed and succeed.
fn openssl(sb: &Sandbox, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(sb.dir.path())
        .output()
        .expect("the openssl command line must be installed for this test");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Issue 19 item 13: the same P-256 key in a second certificate with a
/// compressed point (a CA copying the CSR's encoding) counted as a second
/// signer in 2-of-2 and escaped an `spkiSha256` deny entry. Keys are now
/// identified by their canonical encoding (uncompressed point).
#[test]
fn one_key_in_two_encodings_is_one_signer() {
    let sb = setup();
    // Signer A's key, compressed, certified by the release CA with signer
    // B's identity.
    openssl(
        &sb,
        &[
            "ec",
            "-in",
            "pki/p256/leaf.key",
            "-conv_form",
            "compressed",
            "-out",
            "c.key",
        ],
    );
    openssl(
        &sb,
        &[
            "req",
            "-new",
            "-key",
            "c.key",
            "-subj",
            "/CN=compressed",
            "-out",
            "c.csr",
        ],
    );
    std::fs::write(
        sb.path("c.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=codeSigning\nsubjectAltName=email:release-b@modelseal.test\n",
    )
    .unwrap();
    openssl(
        &sb,
        &[
            "x509",
            "-req",
            "-in",
            "c.csr",
            "-CA",
            "pki/p256/intermediate.pem",
            "-CAkey",
            "pki/p256/intermediate.key",
            "-set_serial",
            "0x3999",
            "-days",
            "3650",
            "-extfile",
            "c.ext",
            "-out",
            "pki/p256/compressed.pem",
        ],
    );
    let text = String::from_utf8(openssl(
        &sb,
        &["x509", "-in", "pki/p256/compressed.pem", "-noout", "-text"],
    ))
    .unwrap();
    assert!(
        text.contains("pub:\n                    03:")
            || text.contains("pub:\n                    02:"),
        "{text}"
    );
    sign(&sb, "prod/bert", "a", "a.sig");
    sign(&sb, "prod/bert", "b", "b.sig");
    let key = sb.key("pki/p256/leaf.key");
    sb.run([
        "sign".as_ref(),
        sb.path("policies/models/prod/bert").as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--cert".as_ref(),
        sb.path("pki/p256/compressed.pem").as_os_str(),
        "--chain".as_ref(),
        sb.path("pki/p256/chain.pem").as_os_str(),
        "-s".as_ref(),
        sb.path("c.sig").as_os_str(),
        "-q".as_ref(),
    ])
    .code(0);
    verify(&sb, "prod/bert", &["a.sig", "b.sig"], &[]).code(0);
    verify(&sb, "prod/bert", &["a.sig", "c.sig"], &[])
        .code(1)
        .stderr_has("quorum not met: 1 of 2 required distinct trusted signers");

    // A deny entry for the key (SHA-256 of its uncompressed SPKI, as
    // openssl writes it) covers both certificates.
    let spki = openssl(
        &sb,
        &["x509", "-in", "pki/p256/leaf.pem", "-noout", "-pubkey"],
    );
    std::fs::write(sb.path("a.pub.pem"), spki).unwrap();
    let der = openssl(
        &sb,
        &["pkey", "-pubin", "-in", "a.pub.pem", "-outform", "DER"],
    );
    std::fs::write(sb.path("a.pub.der"), der).unwrap();
    let digest = String::from_utf8(openssl(&sb, &["dgst", "-sha256", "-r", "a.pub.der"])).unwrap();
    let digest = digest.split_whitespace().next().unwrap().to_owned();
    let path = sb.path("policies/example.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["policies"][0]["revocation"]["deny"] = serde_json::json!({"spkiSha256": [digest]});
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    for sig in ["a.sig", "c.sig"] {
        let doc = verify(&sb, "prod/bert", &[sig, "b.sig"], &["--json"])
            .code(1)
            .json();
        let revocation = check(&doc, "revocation", Some(sig));
        assert_eq!(revocation["status"], "fail", "{sig}: {revocation}");
        assert!(
            revocation["detail"].as_str().unwrap().contains(&digest),
            "{sig}: {revocation}"
        );
    }
}
