//! `modelseal verify` with Sigstore trust: keyless bundles made by a
//! private Sigstore-like instance built in the test (Fulcio-like CA, CT
//! log, Rekor v1 and v2 logs), key bundles with evidence, model_signing's
//! old key bundles, and real public bundles from PyPI packages (see
//! `.ci/deps/sigstore-assets.sh`), all offline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../sigstore/tests/instance/mod.rs"]
mod instance;

use crate::common;
use crate::common::{Sandbox, fixture};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use instance::{IDENTITY, ISSUER, Instance, LeafSpec, T0};
use serde_json::{Value, json};

/// The demo model signed with a key, and its OMS payload.
fn model_and_payload(sb: &Sandbox) -> Vec<u8> {
    sb.copy("models/demo", "model");
    let key = sb.key("keys/p256.pkcs8.pem");
    sb.run([
        "sign",
        "model",
        "--key",
        key.to_str().unwrap(),
        "-s",
        "key.sig",
    ])
    .code(0);
    let b: Value = serde_json::from_slice(&std::fs::read(sb.path("key.sig")).unwrap()).unwrap();
    B64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap()
}

fn pae(payload: &[u8]) -> Vec<u8> {
    modelseal_manifest::pae("application/vnd.in-toto+json", payload)
}

fn keyless_bundle(leaf_der: &[u8], entries: Vec<Value>, payload: &[u8], sig: &[u8]) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": B64.encode(leaf_der)}, "tlogEntries": entries},
        "dsseEnvelope": {"payload": B64.encode(payload), "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": B64.encode(sig), "keyid": ""}]}
    })
}

struct Keyless {
    sb: Sandbox,
    inst: Instance,
    payload: Vec<u8>,
}

impl Keyless {
    fn new() -> Keyless {
        let sb = Sandbox::new();
        let payload = model_and_payload(&sb);
        let inst = Instance::new();
        std::fs::write(
            sb.path("root.json"),
            serde_json::to_vec(&inst.trusted_root()).unwrap(),
        )
        .unwrap();
        Keyless { sb, inst, payload }
    }

    /// A keyless bundle of the model, logged in Rekor v1 at `time`.
    fn bundle(&mut self, spec: &LeafSpec, time: i64) -> Value {
        let leaf = self.inst.leaf(spec);
        let sig = leaf.sign(&pae(&self.payload));
        let body = instance::dsse_v1(&leaf.pem(), &sig, &self.payload);
        let entry = self.inst.log_v1(&body, "dsse", "0.0.1", time);
        keyless_bundle(&leaf.der, vec![entry], &self.payload, &sig)
    }

    fn verify(&self, bundle: &Value, extra: &[&str]) -> common::Run {
        std::fs::write(
            self.sb.path("keyless.sig"),
            serde_json::to_vec(bundle).unwrap(),
        )
        .unwrap();
        let mut args = vec![
            "verify",
            "model",
            "-s",
            "keyless.sig",
            "--trusted-root",
            "root.json",
            "--json",
        ];
        args.extend_from_slice(extra);
        self.sb.run(args)
    }
}

const ID: [&str; 4] = [
    "--certificate-identity",
    IDENTITY,
    "--certificate-oidc-issuer",
    ISSUER,
];

fn check<'a>(j: &'a Value, name: &str) -> &'a Value {
    j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {j:#}"))
}

fn error_kind(run: &common::Run) -> String {
    let j = run.json();
    j["error"]["kind"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{j:#}"))
}

#[test]
fn a_keyless_model_verifies_offline_with_its_identity() {
    let mut k = Keyless::new();
    let b = k.bundle(&LeafSpec::default(), T0 + 60);
    let run = k.verify(&b, &ID);
    run.code(0);
    let j = run.json();
    assert_eq!(check(&j, "tlog")["status"], "pass", "{j:#}");
    assert!(
        check(&j, "tlog")["detail"]
            .as_str()
            .unwrap()
            .contains("rekor.test.example")
    );
    assert!(
        j["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "timestamp"),
        "no timestamp carried, none checked: {j:#}"
    );
    assert_eq!(check(&j, "trust")["status"], "pass");
    assert_eq!(j["signer"]["kind"], "keyless", "{j:#}");
    assert_eq!(j["signer"]["oidc_issuer"], ISSUER, "{j:#}");
    assert_eq!(check(&j, "identity")["status"], "pass");
    assert_eq!(check(&j, "digests")["status"], "pass");
    let text = serde_json::to_string(&j).unwrap();
    assert!(text.contains("keyless") && text.contains(ISSUER), "{j:#}");

    // Regexp variants, anchored.
    k.verify(
        &b,
        &[
            "--certificate-identity-regexp",
            "https://ci\\.test\\.example/org/.*",
            "--certificate-oidc-issuer-regexp",
            "https://oidc\\..*",
        ],
    )
    .code(0);
    let run = k.verify(
        &b,
        &[
            "--certificate-identity-regexp",
            "ci\\.test\\.example",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    run.code(1);
    assert_eq!(error_kind(&run), "identity_mismatch");
}

#[test]
fn wrong_identity_or_issuer_is_a_rejection_and_a_missing_flag_a_usage_error() {
    let mut k = Keyless::new();
    let b = k.bundle(&LeafSpec::default(), T0 + 60);
    for args in [
        [
            "--certificate-identity",
            "https://ci.test.example/other",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        [
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
        ],
    ] {
        let run = k.verify(&b, &args);
        run.code(1);
        assert_eq!(error_kind(&run), "identity_mismatch");
        assert_eq!(check(&run.json(), "identity")["status"], "fail");
    }
    k.verify(&b, &["--certificate-identity", IDENTITY])
        .code(2)
        .stderr_has("--certificate-oidc-issuer");
    k.verify(&b, &["--certificate-oidc-issuer", ISSUER])
        .code(2)
        .stderr_has("--certificate-identity");
    k.verify(
        &b,
        &[
            "--certificate-identity-regexp",
            "(",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    )
    .code(2);
    // Keyless bundles need keyless flags: --public-key refuses the certificate.
    let run = k.sb.run([
        "verify",
        "model",
        "-s",
        "keyless.sig",
        "--public-key",
        fixture("keys/p256.pub.pem").to_str().unwrap(),
    ]);
    run.code(1);
}

#[test]
fn tampered_or_missing_evidence_is_a_rejection() {
    let mut k = Keyless::new();
    let good = k.bundle(&LeafSpec::default(), T0 + 60);
    let entry = |b: &Value| b["verificationMaterial"]["tlogEntries"][0].clone();
    let with_entry = |b: &Value, e: Value| {
        let mut b = b.clone();
        b["verificationMaterial"]["tlogEntries"] = json!([e]);
        b
    };
    // Tampered SET (integrated time moved).
    let mut e = entry(&good);
    e["integratedTime"] = (T0 + 61).to_string().into();
    let run = k.verify(&with_entry(&good, e), &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "tlog_rejected");
    assert!(
        run.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("signed entry timestamp")
    );
    // Broken inclusion proof.
    let mut e = entry(&good);
    e["inclusionProof"]["hashes"][0] = B64.encode([1u8; 32]).into();
    k.verify(&with_entry(&good, e), &ID)
        .code(1)
        .stdout_has("inclusion proof");
    // Checkpoint with another root hash.
    let mut e = entry(&good);
    let cp = e["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .to_owned();
    let lines: Vec<&str> = cp.split('\n').collect();
    let forged = cp.replacen(lines[2], &B64.encode([3u8; 32]), 1);
    e["inclusionProof"]["checkpoint"]["envelope"] = forged.into();
    k.verify(&with_entry(&good, e), &ID)
        .code(1)
        .stdout_has("checkpoint");
    // No entry at all: no verified time.
    let run = k.verify(
        &with_entry(&good, Value::Null)
            .as_object()
            .map(|_| {
                let mut b = good.clone();
                b["verificationMaterial"]["tlogEntries"] = json!([]);
                b
            })
            .unwrap(),
        &ID,
    );
    run.code(1);
    assert_eq!(error_kind(&run), "evidence_missing");
    // The body records another signature (body/bundle mismatch).
    let other = k.bundle(&LeafSpec::default(), T0 + 60);
    let run = k.verify(&with_entry(&good, entry(&other)), &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "tlog_rejected");
    // The default (public-good) root does not know the private log.
    std::fs::write(k.sb.path("keyless.sig"), serde_json::to_vec(&good).unwrap()).unwrap();
    let mut args = vec!["verify", "model", "-s", "keyless.sig", "--json"];
    args.extend_from_slice(&ID);
    let run = k.sb.run(args);
    run.code(1);
    assert!(
        run.stdout.contains("not in the trusted root"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_leaf_must_be_valid_at_the_logged_time() {
    let mut k = Keyless::new();
    // Logged 20 minutes after the 10-minute certificate expired.
    let late = k.bundle(&LeafSpec::default(), T0 + 1800);
    let run = k.verify(&late, &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "untrusted_certificate");
    // Logged before it was issued.
    let early = k.bundle(&LeafSpec::default(), T0 - 60);
    k.verify(&early, &ID).code(1);
    // A leaf without an SCT, or with a forged one.
    for spec in [
        LeafSpec {
            sct: false,
            ..LeafSpec::default()
        },
        LeafSpec {
            sct_wrong_key: true,
            ..LeafSpec::default()
        },
    ] {
        let b = k.bundle(&spec, T0 + 60);
        let run = k.verify(&b, &ID);
        run.code(1);
        assert_eq!(error_kind(&run), "sct_rejected");
    }
    // A trusted root whose Fulcio CA window ended before the signing.
    let mut root = k.inst.trusted_root();
    root["certificateAuthorities"][0]["validFor"]["end"] = "2025-01-01T00:00:00Z".into();
    std::fs::write(k.sb.path("root.json"), serde_json::to_vec(&root).unwrap()).unwrap();
    let good = k.bundle(&LeafSpec::default(), T0 + 60);
    k.verify(&good, &ID).code(1);
    // A malformed trusted root is an error, not a rejection.
    std::fs::write(k.sb.path("root.json"), b"{\"mediaType\": \"x\"}").unwrap();
    k.verify(&good, &ID).code(2);
}

#[test]
fn rekor_v2_needs_a_timestamp_for_its_time() {
    let mut k = Keyless::new();
    let leaf = k.inst.leaf(&LeafSpec::default());
    let sig = leaf.sign(&pae(&k.payload));
    let body = instance::dsse_v2(&leaf.der, &sig, &k.payload);
    let entry = k.inst.log_v2(&body, "dsse");
    let b = keyless_bundle(&leaf.der, vec![entry], &k.payload, &sig);
    let run = k.verify(&b, &ID);
    run.code(1);
    assert_eq!(check(&run.json(), "tlog")["status"], "pass");
    assert_eq!(error_kind(&run), "evidence_missing");
}

#[test]
fn key_bundles_with_evidence_verify_it() {
    let mut k = Keyless::new();
    let key_pem = std::fs::read_to_string(fixture("keys/p256.pub.pem")).unwrap();
    let kb: Value = serde_json::from_slice(&std::fs::read(k.sb.path("key.sig")).unwrap()).unwrap();
    let sig = B64
        .decode(kb["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    let body = instance::dsse_v1(&key_pem, &sig, &k.payload);
    let entry = k.inst.log_v1(&body, "dsse", "0.0.1", T0 + 60);
    let mut with = kb.clone();
    with["verificationMaterial"]["tlogEntries"] = json!([entry]);
    std::fs::write(k.sb.path("logged.sig"), serde_json::to_vec(&with).unwrap()).unwrap();
    let public = fixture("keys/p256.pub.pem");
    let run = k.sb.run([
        "verify",
        "model",
        "-s",
        "logged.sig",
        "--public-key",
        public.to_str().unwrap(),
        "--trusted-root",
        "root.json",
        "--json",
    ]);
    run.code(0);
    assert_eq!(check(&run.json(), "tlog")["status"], "pass");
    // Against the built-in root the private log is unknown: a present entry must verify.
    let run = k.sb.run([
        "verify",
        "model",
        "-s",
        "logged.sig",
        "--public-key",
        public.to_str().unwrap(),
        "--json",
    ]);
    run.code(1);
    assert_eq!(error_kind(&run), "tlog_rejected");

    // Certificate mode: the entry records the PKI leaf; checked against
    // --trusted-root (or the built-in root, which does not know the log).
    let key = k.sb.key("pki/p256/leaf.key").display().to_string();
    let leaf = fixture("pki/p256/leaf.pem").display().to_string();
    let chain = fixture("pki/p256/chain.pem").display().to_string();
    k.sb.run([
        "sign", "model", "--key", &key, "--cert", &leaf, "--chain", &chain, "-s", "cert.sig",
    ])
    .code(0);
    let cb: Value = serde_json::from_slice(&std::fs::read(k.sb.path("cert.sig")).unwrap()).unwrap();
    let sig = B64
        .decode(cb["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    let payload = B64
        .decode(cb["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let leaf_pem = std::fs::read_to_string(fixture("pki/p256/leaf.pem")).unwrap();
    let entry = k.inst.log_v1(
        &instance::dsse_v1(&leaf_pem, &sig, &payload),
        "dsse",
        "0.0.1",
        T0 + 60,
    );
    let mut with = cb.clone();
    with["verificationMaterial"]["tlogEntries"] = json!([entry]);
    std::fs::write(
        k.sb.path("cert-logged.sig"),
        serde_json::to_vec(&with).unwrap(),
    )
    .unwrap();
    let root = fixture("pki/p256/root.pem").display().to_string();
    let base = [
        "verify",
        "model",
        "-s",
        "cert-logged.sig",
        "--trust-root",
        &root,
        "--identity",
        "*",
        "--json",
    ];
    let mut args = base.to_vec();
    args.extend(["--trusted-root", "root.json"]);
    let run = k.sb.run(&args);
    run.code(0);
    assert_eq!(check(&run.json(), "tlog")["status"], "pass");
    let run = k.sb.run(base);
    run.code(1);
    assert_eq!(error_kind(&run), "tlog_rejected");
}

/// A PEP 740 attestation (PyPI) as the Sigstore bundle it was made from.
fn pep740_to_bundle(att: &Value) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": att["verification_material"]["certificate"]},
            "tlogEntries": att["verification_material"]["transparency_entries"]
        },
        "dsseEnvelope": {"payload": att["envelope"]["statement"], "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": att["envelope"]["signature"]}]}
    })
}

#[test]
fn real_public_good_bundles_verify_offline() {
    let a = modelseal_testkit::sigstore_assets();
    let pa = a.join("pypi-attestations");
    let sb = Sandbox::new();
    // (artifact, bundle or attestation, identity, issuer)
    let cases = [
        (
            "pypi_attestation_models-0.0.4a2.tar.gz",
            "pypi_attestation_models-0.0.4a2.tar.gz.sigstore",
            "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2",
            "https://token.actions.githubusercontent.com",
        ),
        (
            "pypi_attestations-0.0.19.tar.gz",
            "pypi_attestations-0.0.19.tar.gz.publish.attestation",
            "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
            "https://token.actions.githubusercontent.com",
        ),
        (
            "gitlab_oidc_project-0.0.3.tar.gz",
            "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
            "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
            "https://gitlab.com",
        ),
    ];
    for (artifact, bundle, identity, issuer) in cases {
        let raw: Value = serde_json::from_slice(&std::fs::read(pa.join(bundle)).unwrap()).unwrap();
        let b = if raw.get("mediaType").is_some() {
            raw
        } else {
            pep740_to_bundle(&raw)
        };
        std::fs::write(sb.path("b.sig"), serde_json::to_vec(&b).unwrap()).unwrap();
        let art = pa.join(artifact);
        let run = sb.run([
            "verify",
            art.to_str().unwrap(),
            "-s",
            "b.sig",
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
            "--json",
        ]);
        if run.code != 0 {
            panic!("{bundle}: {}\n{}", run.stdout, run.stderr);
        }
        let j = run.json();
        assert_eq!(check(&j, "tlog")["status"], "pass");
        // Another file: its digest is not the statement's subject.
        let other = pa.join("rfc8785-0.1.2-py3-none-any.whl");
        let run = sb.run([
            "verify",
            other.to_str().unwrap(),
            "-s",
            "b.sig",
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            issuer,
            "--json",
        ]);
        run.code(1);
        assert_eq!(error_kind(&run), "digest_mismatch");
        // The signature verified before the digest refused: JSON names who
        // signed, as the audit record does.
        let j = run.json();
        let refused = &j["signatures"][0];
        assert_eq!(refused["accepted"], false);
        assert_eq!(refused["signer"]["kind"], "keyless", "{j}");
        assert_eq!(refused["signer"]["identities"][0], identity, "{j}");
        // Another identity.
        let run = sb.run([
            "verify",
            art.to_str().unwrap(),
            "-s",
            "b.sig",
            "--certificate-identity",
            "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            issuer,
            "--json",
        ]);
        run.code(1);
        assert_eq!(error_kind(&run), "identity_mismatch");
    }
}

#[test]
fn a_staging_bundle_is_rejected_by_the_production_root_and_verifies_with_staging() {
    let a = modelseal_testkit::sigstore_assets();
    let pa = a.join("pypi-attestations");
    let sb = Sandbox::new();
    let art = pa.join("rfc8785-0.1.2-py3-none-any.whl");
    let bundle = pa.join("rfc8785-0.1.2-py3-none-any.whl.sigstore");
    let id = [
        "--certificate-identity",
        "william@yossarian.net",
        "--certificate-oidc-issuer",
        "https://github.com/login/oauth",
    ];
    let mut args = vec![
        "verify",
        art.to_str().unwrap(),
        "-s",
        bundle.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(&id);
    let run = sb.run(&args);
    run.code(1);
    assert_eq!(error_kind(&run), "tlog_rejected");
    let staging = a.join("roots/staging.json");
    args.extend_from_slice(&["--trusted-root", staging.to_str().unwrap()]);
    let run = sb.run(&args);
    if run.code != 0 {
        panic!("{}\n{}", run.stdout, run.stderr);
    }
}

#[test]
fn a_message_signature_covers_one_file() {
    // cosign sign-blob --bundle: a signature over the file, logged as a
    // hashedrekord entry.
    let mut k = Keyless::new();
    let file = k.sb.path("model/model.safetensors");
    let bytes = std::fs::read(&file).unwrap();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    let leaf = k.inst.leaf(&LeafSpec::default());
    let sig = leaf.sign(&bytes);
    let body = instance::hashedrekord_v1(&leaf.pem(), &sig, &digest);
    let entry = k.inst.log_v1(&body, "hashedrekord", "0.0.1", T0 + 30);
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": B64.encode(&leaf.der)}, "tlogEntries": [entry]},
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(digest)},
                             "signature": B64.encode(&sig)}
    });
    std::fs::write(k.sb.path("blob.sig"), serde_json::to_vec(&bundle).unwrap()).unwrap();
    let mut args = vec![
        "verify",
        "model/model.safetensors",
        "-s",
        "blob.sig",
        "--trusted-root",
        "root.json",
        "--json",
    ];
    args.extend_from_slice(&ID);
    let run = k.sb.run(&args);
    run.code(0);
    assert_eq!(check(&run.json(), "signature")["status"], "pass");
    // Another file, or the whole directory: rejected.
    args[1] = "model/config.json";
    let run = k.sb.run(&args);
    run.code(1);
    assert_eq!(error_kind(&run), "digest_mismatch");
    args[1] = "model";
    k.sb.run(&args).code(1);
    // A changed byte of the file.
    common::flip_byte(&file, 100);
    args[1] = "model/model.safetensors";
    k.sb.run(&args).code(1);
}

#[test]
fn ignore_leaves_paths_out_of_the_check() {
    let k = Keyless::new();
    let public = fixture("keys/p256.pub.pem");
    std::fs::write(k.sb.path("model/notes.txt"), b"added after signing").unwrap();
    let base = [
        "verify",
        "model",
        "-s",
        "key.sig",
        "--public-key",
        public.to_str().unwrap(),
    ];
    k.sb.run(base).code(1).stderr_has("notes.txt");
    let mut args = base.to_vec();
    args.extend_from_slice(&["--ignore", "model/notes.txt"]);
    k.sb.run(&args).code(0);
    // Ignoring a signed file makes it missing.
    let mut args = base.to_vec();
    args.extend_from_slice(&[
        "--ignore",
        "model/notes.txt",
        "--ignore",
        "model/config.json",
    ]);
    k.sb.run(&args).code(1).stderr_has("config.json");
    // A path outside the model is a usage error.
    let mut args = base.to_vec();
    args.extend_from_slice(&["--ignore", "key.sig"]);
    k.sb.run(&args).code(2);
}

#[test]
fn the_gate_takes_the_keyless_flags() {
    let mut k = Keyless::new();
    let b = k.bundle(&LeafSpec::default(), T0 + 60);
    std::fs::write(k.sb.path("keyless.sig"), serde_json::to_vec(&b).unwrap()).unwrap();
    let gate = |identity: &str| {
        k.sb.run([
            "gate",
            "model",
            "-s",
            "keyless.sig",
            "--trusted-root",
            "root.json",
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            ISSUER,
            "--",
            "sh",
            "-c",
            "cat \"$MODELSEAL_MODEL_DIR/config.json\" >/dev/null && echo loaded",
        ])
    };
    gate(IDENTITY).code(0).stdout_has("loaded");
    let run = gate("https://ci.test.example/other");
    run.code(1).stderr_has("identity");
    assert!(!run.stdout.contains("loaded"), "{}", run.stdout);
    // A missing issuer is a usage error here too.
    k.sb.run([
        "gate",
        "model",
        "-s",
        "keyless.sig",
        "--certificate-identity",
        IDENTITY,
        "--",
        "true",
    ])
    .code(2)
    .stderr_has("--certificate-oidc-issuer");
}

/// A policy over the private instance: `store` as its trust store,
/// `identities` trusted, `extra` fields added.
fn keyless_policy(k: &Keyless, store: Value, identities: Value, extra: Value) {
    let mut policy = json!({
        "name": "keyless",
        "scopes": ["*"],
        "level": "permissive",
        "trustStores": ["sigstore"],
        "trustedIdentities": identities,
    });
    for (key, v) in extra.as_object().unwrap() {
        policy[key] = v.clone();
    }
    let doc = json!({"version": "1", "trustStores": {"sigstore": store}, "policies": [policy]});
    std::fs::write(k.sb.path("policy.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
}

#[test]
fn a_policy_trusts_a_sigstore_root_keyless_identities_and_requires_a_log_entry() {
    let mut k = Keyless::new();
    let good = k.bundle(&LeafSpec::default(), T0 + 60);
    std::fs::write(k.sb.path("keyless.sig"), serde_json::to_vec(&good).unwrap()).unwrap();
    let verify = |k: &Keyless| {
        k.sb.run([
            "verify",
            "model",
            "--policy",
            "policy.json",
            "-s",
            "keyless.sig",
            "--json",
        ])
    };
    let id = json!([{"issuer": ISSUER, "identityRegexp": "https://ci\\.test\\.example/org/.*"}]);
    keyless_policy(
        &k,
        json!({"sigstore": "root.json"}),
        id.clone(),
        json!({"transparencyLog": "required"}),
    );
    let run = verify(&k);
    run.code(0);
    let j = run.json();
    assert_eq!(check(&j, "tlog")["status"], "pass", "{j:#}");
    assert_eq!(check(&j, "chain")["status"], "pass", "{j:#}");
    assert_eq!(check(&j, "identity")["status"], "pass", "{j:#}");
    k.sb.run(["policy", "explain", "policy.json", "model"])
        .code(0)
        .stdout_has("Sigstore trusted root");

    // Another issuer: the identity check fails.
    keyless_policy(
        &k,
        json!({"sigstore": "root.json"}),
        json!([{"issuer": "https://accounts.google.com", "identity": IDENTITY}]),
        json!({}),
    );
    let run = verify(&k);
    run.code(1);
    assert_eq!(check(&run.json(), "identity")["status"], "fail");

    // A broken inclusion proof: the tlog check fails, and without a
    // verified entry the keyless chain is not trusted either.
    keyless_policy(&k, json!({"sigstore": "root.json"}), id.clone(), json!({}));
    let mut bad = good.clone();
    bad["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0] =
        B64.encode([1u8; 32]).into();
    std::fs::write(k.sb.path("keyless.sig"), serde_json::to_vec(&bad).unwrap()).unwrap();
    let run = verify(&k);
    run.code(1);
    let j = run.json();
    assert_eq!(check(&j, "tlog")["status"], "fail", "{j:#}");
    assert!(
        check(&j, "tlog")["detail"]
            .as_str()
            .unwrap()
            .contains("inclusion proof"),
        "{j:#}"
    );
    assert_eq!(check(&j, "chain")["status"], "fail", "{j:#}");

    // The public-good root does not know the private instance.
    std::fs::write(k.sb.path("keyless.sig"), serde_json::to_vec(&good).unwrap()).unwrap();
    keyless_policy(
        &k,
        json!({"sigstore": "public-good"}),
        id.clone(),
        json!({}),
    );
    let run = verify(&k);
    run.code(1);
    assert_eq!(check(&run.json(), "tlog")["status"], "fail");

    // Policies that cannot work are refused when loaded (exit 2).
    for (store, ids, extra, why) in [
        (
            json!({"certificates": [fixture("pki/p256/root.pem")]}),
            id.clone(),
            json!({}),
            "need a Sigstore trust store",
        ),
        (
            json!({"sigstore": "root.json"}),
            json!(["*"]),
            json!({}),
            "trusts keyless signers",
        ),
        (
            json!({"certificates": [fixture("pki/p256/root.pem")]}),
            json!(["*"]),
            json!({"transparencyLog": "required"}),
            "add a Sigstore trust store",
        ),
        (
            json!({"sigstore": "root.json"}),
            json!([{"issuer": ISSUER}]),
            json!({}),
            "identityRegexp",
        ),
        (
            json!({"sigstore": "root.json", "certificates": ["x.pem"]}),
            id.clone(),
            json!({}),
            "not both",
        ),
        (
            json!({"sigstore": "missing.json"}),
            id.clone(),
            json!({}),
            "missing.json",
        ),
    ] {
        keyless_policy(&k, store, ids, extra);
        k.sb.run(["policy", "check", "policy.json"])
            .code(2)
            .stderr_has(why);
    }
}

#[test]
fn a_policy_over_the_public_good_root_accepts_a_real_bundle() {
    let pa = modelseal_testkit::sigstore_assets().join("pypi-attestations");
    let sb = Sandbox::new();
    let doc = json!({"version": "1",
        "trustStores": {"public": {"sigstore": "public-good"}},
        "policies": [{"name": "pypi", "scopes": ["*"], "level": "permissive",
            "trustStores": ["public"], "transparencyLog": "required",
            "trustedIdentities": [{"issuer": "https://token.actions.githubusercontent.com",
                "identityRegexp": "https://github\\.com/trailofbits/.*"}]}]});
    std::fs::write(sb.path("policy.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
    let art = pa.join("pypi_attestation_models-0.0.4a2.tar.gz");
    let bundle = pa.join("pypi_attestation_models-0.0.4a2.tar.gz.sigstore");
    let run = sb.run([
        "verify",
        art.to_str().unwrap(),
        "--policy",
        "policy.json",
        "-s",
        bundle.to_str().unwrap(),
        "--json",
    ]);
    if run.code != 0 {
        panic!("{}\n{}", run.stdout, run.stderr);
    }
    assert_eq!(check(&run.json(), "tlog")["status"], "pass");
}

/// An RFC 3161 timestamp response over `signature` from the test TSA
/// (fixtures/tsa, `openssl ts -reply`), genTime now.
fn rfc3161(sb: &Sandbox, signature: &[u8]) -> Vec<u8> {
    let ok = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "openssl is required for the TSA tests (.ci/deps/tsa.sh installs it)"
    );
    std::fs::write(sb.path("sig.bin"), signature).unwrap();
    std::fs::write(sb.path("serial"), "01\n").unwrap();
    let config = format!(
        "[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = {serial}\ncrypto_device = builtin\n\
         signer_cert = {cert}\nsigner_key = {key}\nsigner_digest = sha256\n\
         default_policy = 1.3.6.1.4.1.99999.3161.1\ndigests = sha256\naccuracy = secs:1\n\
         ordering = no\ntsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
        serial = sb.path("serial").display(),
        cert = fixture("tsa/tsa.pem").display(),
        key = fixture("tsa/tsa.key").display(),
    );
    std::fs::write(sb.path("tsa.cnf"), config).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(sb.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "ts", "-query", "-data", "sig.bin", "-sha256", "-cert", "-out", "q.tsq",
    ]);
    run(&[
        "ts",
        "-reply",
        "-config",
        "tsa.cnf",
        "-queryfile",
        "q.tsq",
        "-out",
        "r.tsr",
    ]);
    std::fs::read(sb.path("r.tsr")).unwrap()
}

fn der_of(pem_fixture: &str) -> Vec<u8> {
    let pem = std::fs::read(fixture(pem_fixture)).unwrap();
    modelseal_verifier::certificates_from_pem(&pem)
        .unwrap()
        .remove(0)
}

#[test]
fn rekor_v2_with_a_timestamp_of_a_trusted_tsa_verifies() {
    let mut k = Keyless::new();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    // A leaf valid now: genTime (now) is the only verified time.
    let spec = LeafSpec {
        not_before: now - 120,
        ..LeafSpec::default()
    };
    let leaf = k.inst.leaf(&spec);
    let sig = leaf.sign(&pae(&k.payload));
    let body = instance::dsse_v2(&leaf.der, &sig, &k.payload);
    let entry = k.inst.log_v2(&body, "dsse");
    let stamp = |b: &mut Value, token: &[u8]| {
        b["verificationMaterial"]["timestampVerificationData"] =
            json!({"rfc3161Timestamps": [{"signedTimestamp": B64.encode(token)}]});
    };
    let mut b = keyless_bundle(&leaf.der, vec![entry.clone()], &k.payload, &sig);
    stamp(&mut b, &rfc3161(&k.sb, &sig));
    let tsa = |valid_for: Value| {
        json!([{
            "subject": {"organization": "modelseal test TSA", "commonName": "modelseal test TSA"},
            "uri": "https://tsa.test.example",
            "certChain": {"certificates": [
                {"rawBytes": B64.encode(der_of("tsa/tsa.pem"))},
                {"rawBytes": B64.encode(der_of("tsa/root.pem"))}
            ]},
            "validFor": valid_for
        }])
    };
    let write_root = |k: &Keyless, tsas: Value| {
        let mut root = k.inst.trusted_root();
        root["timestampAuthorities"] = tsas;
        std::fs::write(k.sb.path("root.json"), serde_json::to_vec(&root).unwrap()).unwrap();
    };
    write_root(&k, tsa(json!({"start": "2025-01-01T00:00:00Z"})));
    let run = k.verify(&b, &ID);
    run.code(0);
    let j = run.json();
    assert_eq!(check(&j, "tlog")["status"], "pass", "{j:#}");
    assert!(
        check(&j, "tlog")["detail"]
            .as_str()
            .unwrap()
            .contains("Rekor v2"),
        "{j:#}"
    );
    let ts = check(&j, "timestamp");
    assert_eq!(ts["status"], "pass", "{j:#}");
    assert!(
        ts["detail"]
            .as_str()
            .unwrap()
            .contains("https://tsa.test.example"),
        "{ts}"
    );

    // The TSA's window ended before genTime.
    write_root(
        &k,
        tsa(json!({"start": "2025-01-01T00:00:00Z", "end": "2025-06-01T00:00:00Z"})),
    );
    let run = k.verify(&b, &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "invalid_timestamp");
    assert!(
        run.stdout
            .contains("outside the authority's validity window"),
        "{}",
        run.stdout
    );

    // A TSA the trusted root does not list.
    write_root(&k, json!([]));
    let run = k.verify(&b, &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "invalid_timestamp");

    // A timestamp over another signature (imprint mismatch).
    write_root(&k, tsa(json!({"start": "2025-01-01T00:00:00Z"})));
    let mut other = b.clone();
    stamp(&mut other, &rfc3161(&k.sb, b"another signature"));
    let run = k.verify(&other, &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "invalid_timestamp");
    assert!(run.stdout.contains("imprint"), "{}", run.stdout);

    // genTime outside the leaf's validity: a leaf of 2025, stamped now.
    let old = k.inst.leaf(&LeafSpec::default());
    let sig = old.sign(&pae(&k.payload));
    let entry = k
        .inst
        .log_v2(&instance::dsse_v2(&old.der, &sig, &k.payload), "dsse");
    let mut late = keyless_bundle(&old.der, vec![entry], &k.payload, &sig);
    stamp(&mut late, &rfc3161(&k.sb, &sig));
    let run = k.verify(&late, &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "untrusted_certificate");
    assert_eq!(check(&run.json(), "timestamp")["status"], "pass");
}

/// Every file under `dir`, relative, `/`-separated, with its SHA-256.
fn files_of(dir: &std::path::Path, rel: &str, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if entry.file_type().unwrap().is_dir() {
            files_of(&entry.path(), &rel, out);
        } else {
            let bytes = std::fs::read(entry.path()).unwrap();
            let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            out.push((rel, hex));
        }
    }
}

#[test]
fn a_model_signing_0_2_digests_statement_verifies_the_model() {
    // model_signing 0.2.x signed `https://model_signing/Digests/v0.1`
    // statements: one subject per file.
    let mut k = Keyless::new();
    let mut files = Vec::new();
    files_of(&k.sb.path("model"), "", &mut files);
    let subjects: Vec<Value> = files
        .iter()
        .map(|(name, hex)| json!({"name": name, "digest": {"sha256": hex}}))
        .collect();
    let payload = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": "https://model_signing/Digests/v0.1",
        "predicate": {}
    }))
    .unwrap();
    let leaf = k.inst.leaf(&LeafSpec::default());
    let sig = leaf.sign(&pae(&payload));
    let body = instance::dsse_v1(&leaf.pem(), &sig, &payload);
    let entry = k.inst.log_v1(&body, "dsse", "0.0.1", T0 + 60);
    let b = keyless_bundle(&leaf.der, vec![entry], &payload, &sig);
    let run = k.verify(&b, &ID);
    run.code(0);
    let j = run.json();
    assert!(
        check(&j, "statement")["detail"]
            .as_str()
            .unwrap()
            .contains("Digests/v0.1"),
        "{j:#}"
    );
    // A file added after signing, then a changed byte.
    std::fs::write(k.sb.path("model/extra.txt"), b"added").unwrap();
    let run = k.verify(&b, &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "files_mismatch");
    std::fs::remove_file(k.sb.path("model/extra.txt")).unwrap();
    common::flip_byte(&k.sb.path("model/model.safetensors"), 100);
    let run = k.verify(&b, &ID);
    run.code(1);
    assert_eq!(error_kind(&run), "digest_mismatch");
}

#[test]
fn a_statement_about_several_files_verifies_the_one_it_names() {
    // A release attestation: two subjects; the file verified is chosen by
    // its name, and must have that subject's digest.
    let mut k = Keyless::new();
    let mut files = Vec::new();
    files_of(&k.sb.path("model"), "", &mut files);
    let digest_of = |name: &str| files.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let payload = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": "release/model.safetensors", "digest": {"sha256": digest_of("model.safetensors")}},
            {"name": "release/config.json", "digest": {"sha256": digest_of("config.json")}}
        ],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {}
    }))
    .unwrap();
    let leaf = k.inst.leaf(&LeafSpec::default());
    let sig = leaf.sign(&pae(&payload));
    let body = instance::dsse_v1(&leaf.pem(), &sig, &payload);
    let entry = k.inst.log_v1(&body, "dsse", "0.0.1", T0 + 60);
    let b = keyless_bundle(&leaf.der, vec![entry], &payload, &sig);
    std::fs::write(k.sb.path("multi.sig"), serde_json::to_vec(&b).unwrap()).unwrap();
    let verify = |file: &str| {
        let mut args = vec![
            "verify",
            file,
            "-s",
            "multi.sig",
            "--trusted-root",
            "root.json",
            "--json",
        ];
        args.extend_from_slice(&ID);
        k.sb.run(&args)
    };
    verify("model/model.safetensors").code(0);
    verify("model/config.json").code(0);
    // A file no subject names: refused (the statement is about other files).
    let run = verify("model/tokenizer.json");
    run.code(1);
    assert_eq!(check(&run.json(), "statement")["status"], "fail");
    // The named file, changed: its digest no longer matches.
    common::flip_byte(&k.sb.path("model/config.json"), 1);
    let run = verify("model/config.json");
    run.code(1);
    assert_eq!(error_kind(&run), "digest_mismatch");
}
