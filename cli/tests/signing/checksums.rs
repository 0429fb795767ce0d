//! `modelseal verify --checksums / --raw-signature`, `sign --raw-signature`
//! and `convert`, run as the real binary against fixtures written by
//! `sha256sum`, `sha512sum`, `shasum`, `md5sum` and `openssl`
//! (fixtures/checksums/gen.sh). The sign tests also call `openssl` to check
//! what modelseal writes; they fail (not skip) without it.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Run, Sandbox, fixture, flip_byte};
use modelseal_manifest::HashAlgorithm;

/// The demo model's OMS subject digest (fixtures/models/README.md).
const DEMO_SUBJECT: &str = "aa6efb8aebb149dc7e82761d0b9a6f39ba4a994d6516474a817690885d4b8eec";

fn sums(name: &str) -> PathBuf {
    fixture(&format!("checksums/{name}"))
}

fn key(name: &str) -> PathBuf {
    fixture(&format!("keys/{name}.pub.pem"))
}

fn demo() -> PathBuf {
    fixture("models/demo")
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

/// `verify MODEL --checksums SUMS [extra...]`.
fn verify(s: &Sandbox, model: &Path, sums_file: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "verify".to_owned(),
        arg(model),
        "--checksums".into(),
        arg(sums_file),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    s.run(&args)
}

/// A failure is exactly one line on stderr, naming what failed.
#[track_caller]
/// Exit `code` with one error line holding `needle` (warnings aside).
fn one_line(run: &Run, code: i32, needle: &str) {
    run.code(code).no_panic().stderr_has(needle);
    assert_eq!(
        run.stderr
            .trim_end()
            .lines()
            .filter(|l| !l.starts_with("modelseal: warning: "))
            .count(),
        1,
        "one line:\n{}",
        run.stderr
    );
}

#[test]
fn checksums_written_by_every_tool_verify_as_integrity_only() {
    let s = Sandbox::new();
    for (file, alg) in [
        ("demo.sha256", "sha256"),
        ("demo.binary.sha256", "sha256"),
        ("demo.tag.sha256", "sha256"),
        ("demo.dotslash.sha256", "sha256"),
        ("demo.crlf.sha256", "sha256"),
        ("demo.escaped-prefix.sha256", "sha256"),
        ("demo.openssl.sha256", "sha256"),
        ("demo.openssl-r.sha256", "sha256"),
        ("demo.shasum.sha256", "sha256"),
        ("demo.shasum-tag.sha256", "sha256"),
        ("demo.sha512", "sha512"),
        ("demo.shasum-binary.sha512", "sha512"),
    ] {
        let run = verify(&s, &demo(), &sums(file), &[]);
        run.code(0)
            .stdout_has("guarantee: integrity only (checksums, no signature)")
            .stdout_has(&format!(
                "7 files, 287561 bytes: every {alg} digest matches"
            ));
        let doc = verify(&s, &demo(), &sums(file), &["--json"]).json();
        assert_eq!(doc["verdict"], "ok", "{file}");
        assert_eq!(doc["checksums"]["guarantee"], "integrity-only", "{file}");
        assert_eq!(doc["mode"], "checksums", "{file}");
        assert_eq!(doc["checksums"]["algorithm"], alg, "{file}");
        assert_eq!(doc["checksums"]["files"], 7, "{file}");
        assert!(doc["signer"].is_null(), "{file}");
        let checks = doc["checks"].as_array().unwrap();
        assert_eq!(checks[0]["name"], "trust");
        assert_eq!(checks[0]["status"], "skipped");
        assert_eq!(checks[5]["name"], "digests");
        assert_eq!(checks[5]["status"], "pass");
    }
}

#[test]
fn bad_checksums_files_fail_with_one_line_and_the_right_code() {
    let s = Sandbox::new();
    for (file, code, needle) in [
        (
            "bad-missing-file.sha256",
            1,
            "extra (present, not listed): weights/model-00002-of-00002.safetensors",
        ),
        (
            "bad-lists-absent.sha256",
            1,
            "missing (listed, not present): weights/model-00003-of-00003.safetensors",
        ),
        (
            "bad-changed-digest.sha256",
            1,
            "digest mismatch: model.safetensors",
        ),
        (
            "bad-dotdot.sha256",
            2,
            "line 8: file name \"../config.json\" refused",
        ),
        (
            "bad-absolute.sha256",
            2,
            "line 8: file name \"/dev/null\" refused: absolute path",
        ),
        (
            "bad-duplicate.sha256",
            2,
            "line 8: \"config.json\" is listed twice (first on line 1)",
        ),
        (
            "bad-escaped.sha256",
            2,
            "line 1: file name \"back\\\\slash\" refused",
        ),
        (
            "bad-mixed.sha256",
            2,
            "line 4: sha512 digest in a file of sha256 digests",
        ),
        (
            "bad-md5.md5",
            2,
            "unsupported digest of 32 hex digits (MD5?)",
        ),
        (
            "bad-shasum-universal.sha256",
            2,
            "shasum mode 'U' hashes transformed content",
        ),
    ] {
        let run = verify(&s, &demo(), &sums(file), &[]);
        one_line(&run, code, needle);
        let doc = verify(&s, &demo(), &sums(file), &["--json"]).json();
        assert_eq!(
            doc["verdict"],
            if code == 1 { "rejected" } else { "error" },
            "{file}"
        );
    }
    // The escaped newline name decodes and is refused the same way.
    let run = verify(&s, &demo(), &sums("bad-escaped.sha256"), &["--json"]);
    assert_eq!(run.json()["error"]["kind"], "malformed_checksums");
    let missing = s.path("absent.sha256");
    one_line(
        &verify(&s, &demo(), &missing, &[]),
        2,
        "cannot read checksums file",
    );
}

/// Raw signature over demo.sha256: (signature, key arguments, code, needle).
#[test]
fn raw_signatures_over_checksums_for_every_key_and_padding() {
    let s = Sandbox::new();
    let rsa = arg(&key("rsa3072"));
    let cases: &[(&str, Vec<&str>, i32, &str)] = &[
        (
            "demo.sha256.rsa-pkcs1.sig",
            vec!["--public-key", &rsa],
            0,
            "rsa-pkcs1v15-sha256",
        ),
        (
            "demo.sha256.rsa-pkcs1-sha512.sig",
            vec!["--public-key", &rsa, "--digest", "sha512"],
            0,
            "rsa-pkcs1v15-sha512",
        ),
        (
            "demo.sha256.rsa-pss.sig",
            vec!["--public-key", &rsa, "--rsa-padding", "pss"],
            0,
            "rsa-pss-sha256",
        ),
        // Wrong options: a definite "invalid signature", with the options named.
        (
            "demo.sha256.rsa-pss.sig",
            vec!["--public-key", &rsa],
            1,
            "invalid signature (checked as rsa-pkcs1v15-sha256",
        ),
        (
            "demo.sha256.rsa-pkcs1-sha512.sig",
            vec!["--public-key", &rsa],
            1,
            "invalid signature",
        ),
        (
            "demo.sha256.wrong-key.sig",
            vec!["--public-key", &rsa],
            1,
            "invalid signature",
        ),
    ];
    let owned: Vec<(String, Vec<String>, i32, String)> = cases
        .iter()
        .map(|(f, a, c, n)| {
            (
                (*f).to_owned(),
                a.iter().map(|x| (*x).to_owned()).collect(),
                *c,
                (*n).to_owned(),
            )
        })
        .chain(
            [
                ("demo.sha256.p256.sig", "p256", "ecdsa-p256-sha256"),
                ("demo.sha256.p384.sig", "p384", "ecdsa-p384-sha384"),
                ("demo.sha256.ed25519.sig", "ed25519", "ed25519"),
            ]
            .into_iter()
            .map(|(f, k, alg)| {
                (
                    f.to_owned(),
                    vec!["--public-key".into(), arg(&key(k))],
                    0,
                    alg.to_owned(),
                )
            }),
        )
        .collect();
    for (sig, key_args, code, needle) in &owned {
        let mut extra: Vec<&str> = vec!["--raw-signature"];
        let sig_path = arg(&sums(sig));
        extra.push(&sig_path);
        extra.extend(key_args.iter().map(String::as_str));
        let run = verify(&s, &demo(), &sums("demo.sha256"), &extra);
        if *code == 0 {
            run.code(0)
                .stdout_has("guarantee: authenticity (signed checksums)")
                .stdout_has(&format!("algorithm: {needle} (raw signature)"))
                .stdout_has("every sha256 digest matches");
            extra.push("--json");
            let doc = verify(&s, &demo(), &sums("demo.sha256"), &extra).json();
            assert_eq!(doc["checksums"]["guarantee"], "authenticity", "{sig}");
            assert_eq!(
                doc["checksums"]["guarantee_detail"],
                "authenticity (signed checksums)"
            );
            assert_eq!(doc["mode"], "signed-checksums");
            assert_eq!(doc["algorithm"], needle.as_str());
            assert_eq!(doc["signer"]["kind"], "key");
        } else {
            one_line(&run, *code, needle);
        }
    }

    // ECDSA P-384 takes SHA-384 only; Ed25519 no digest; PSS is RSA only.
    let p384 = arg(&key("p384"));
    let sig = arg(&sums("demo.sha256.p384.sig"));
    let run = verify(
        &s,
        &demo(),
        &sums("demo.sha256"),
        &[
            "--raw-signature",
            &sig,
            "--public-key",
            &p384,
            "--digest",
            "sha256",
        ],
    );
    one_line(
        &run,
        2,
        "ECDSA P-384 raw signatures are checked with sha384",
    );
    let run = verify(
        &s,
        &demo(),
        &sums("demo.sha256"),
        &[
            "--raw-signature",
            &sig,
            "--public-key",
            &p384,
            "--rsa-padding",
            "pss",
        ],
    );
    one_line(
        &run,
        2,
        "an RSA padding was given but the key is ECDSA P-384",
    );
    let ed = arg(&key("ed25519"));
    let sig = arg(&sums("demo.sha256.ed25519.sig"));
    let run = verify(
        &s,
        &demo(),
        &sums("demo.sha256"),
        &[
            "--raw-signature",
            &sig,
            "--public-key",
            &ed,
            "--digest",
            "sha512",
        ],
    );
    one_line(&run, 2, "Ed25519 signs the file itself");

    // A signature over SHA-512 checksums.
    let sig = arg(&sums("demo.sha512.p256.sig"));
    let p256 = arg(&key("p256"));
    verify(
        &s,
        &demo(),
        &sums("demo.sha512"),
        &["--raw-signature", &sig, "--public-key", &p256],
    )
    .code(0)
    .stdout_has("every sha512 digest matches");
    // The signature is over the checksums file: another checksums file with
    // the same content digests is not covered by it.
    let run = verify(
        &s,
        &demo(),
        &sums("demo.binary.sha256"),
        &[
            "--raw-signature",
            &arg(&sums("demo.sha256.p256.sig")),
            "--public-key",
            &p256,
        ],
    );
    one_line(&run, 1, "invalid signature");
    // A validly signed checksums file is still parsed as strictly.
    let run = verify(
        &s,
        &demo(),
        &sums("bad-dotdot.sha256"),
        &[
            "--raw-signature",
            &arg(&sums("bad-dotdot.sha256.rsa-pkcs1.sig")),
            "--public-key",
            &rsa,
        ],
    );
    one_line(&run, 2, "file name \"../config.json\" refused");
}

#[test]
fn raw_signature_with_a_certificate_chain() {
    let s = Sandbox::new();
    let pki = |p: &str| arg(&fixture(&format!("pki/{p}")));
    let base = |sig: &str, cert: &str, root: &str| {
        vec![
            "--raw-signature".to_owned(),
            arg(&sums(sig)),
            "--raw-cert".into(),
            pki(cert),
            "--trust-root".into(),
            pki(root),
        ]
    };
    let run_with = |mut a: Vec<String>, extra: &[&str]| {
        if !extra.contains(&"--identity") {
            a.extend(["--identity".to_owned(), "*".to_owned()]);
        }
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        verify(&s, &demo(), &sums("demo.sha256"), &refs)
    };
    let p256 = base(
        "demo.sha256.pki-p256.sig",
        "p256/fullchain.pem",
        "p256/root.pem",
    );
    let run = run_with(
        p256.clone(),
        &["--identity", "email:release-a@modelseal.test"],
    );
    run.code(0)
        .stdout_has("guarantee: authenticity (signed checksums)")
        .stdout_has("root:      CN=modelseal test root CA P-256");
    let doc = run_with(p256.clone(), &["--json"]).json();
    assert_eq!(doc["signer"]["kind"], "certificate");
    assert_eq!(
        doc["signer"]["intermediates"][0],
        "CN=modelseal test intermediate CA P-256,OU=P-256,O=modelseal test PKI - NOT FOR PRODUCTION"
    );
    let run = run_with(
        p256.clone(),
        &["--identity", "email:release-b@modelseal.test"],
    );
    one_line(&run, 1, "is not email:release-b@modelseal.test");
    // Another root: untrusted.
    let mut other = p256.clone();
    other[5] = pki("p384/root.pem");
    one_line(
        &run_with(other, &["--identity", "email:release-a@modelseal.test"]),
        1,
        "does not chain to a trusted root",
    );
    // --trust-root without --raw-cert, --raw-cert with --public-key.
    let run = run_with(
        vec![
            "--raw-signature".into(),
            arg(&sums("demo.sha256.pki-p256.sig")),
            "--trust-root".into(),
            pki("p256/root.pem"),
        ],
        &[],
    );
    one_line(
        &run,
        2,
        "give the signer's certificate with --raw-cert LEAF.pem",
    );

    let rsa = base(
        "demo.sha256.pki-rsa-pss.sig",
        "rsa/fullchain.pem",
        "rsa/root.pem",
    );
    run_with(rsa, &["--rsa-padding", "pss"])
        .code(0)
        .stdout_has("rsa-pss-sha256");

    let expired = base(
        "demo.sha256.pki-expired.sig",
        "bad/expired.fullchain.pem",
        "p256/root.pem",
    );
    one_line(
        &run_with(expired, &[]),
        1,
        "expired at 2021-01-01T00:00:00Z",
    );
}

#[test]
fn raw_signature_over_one_file() {
    let s = Sandbox::new();
    let file = fixture("models/demo/model.safetensors");
    let run = |sig: &str, extra: &[&str]| {
        let mut a = vec![
            "verify".to_owned(),
            arg(&file),
            "--raw-signature".into(),
            arg(&sums(sig)),
        ];
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        s.run(&a)
    };
    let rsa = arg(&key("rsa3072"));
    for (sig, extra, alg) in [
        (
            "model.safetensors.rsa-pkcs1.sig",
            vec!["--public-key", rsa.as_str()],
            "rsa-pkcs1v15-sha256",
        ),
        (
            "model.safetensors.rsa-pss-sha384.sig",
            vec![
                "--public-key",
                rsa.as_str(),
                "--digest",
                "sha384",
                "--rsa-padding",
                "pss",
            ],
            "rsa-pss-sha384",
        ),
    ] {
        run(sig, &extra)
            .code(0)
            .stdout_has("guarantee: authenticity (signed file)")
            .stdout_has(alg)
            .stdout_has("262144 bytes");
    }
    for (sig, k) in [
        ("model.safetensors.p256.sig", "p256"),
        ("model.safetensors.p384.sig", "p384"),
        ("model.safetensors.ed25519.sig", "ed25519"),
    ] {
        let doc = run(sig, &["--public-key", &arg(&key(k)), "--json"]).json();
        assert_eq!(doc["verdict"], "ok", "{sig}");
        assert_eq!(
            doc["checksums"]["guarantee_detail"],
            "authenticity (signed file)"
        );
        assert_eq!(doc["mode"], "signed-file");
        assert_eq!(doc["checksums"]["bytes"], 262144);
    }
    // Wrong key (P-384 signature, P-256 key: also another algorithm).
    one_line(
        &run(
            "model.safetensors.p384.sig",
            &["--public-key", &arg(&key("p256"))],
        ),
        1,
        "invalid signature",
    );
    // A signature over another file.
    let other = s.copy("models/demo/model.safetensors", "w.safetensors");
    flip_byte(&other, 1000);
    let out = s.run([
        "verify",
        &arg(&other),
        "--raw-signature",
        &arg(&sums("model.safetensors.ed25519.sig")),
        "--public-key",
        &arg(&key("ed25519")),
    ]);
    one_line(&out, 1, "signature: invalid signature");
    // Base64 text instead of the binary signature: malformed input, with the fix.
    one_line(
        &run(
            "model.safetensors.rsa-pkcs1.sig.b64.txt",
            &["--public-key", &rsa],
        ),
        2,
        "looks like Base64 or PEM text",
    );
    // A directory is not one file.
    let out = s.run([
        "verify",
        &arg(&demo()),
        "--raw-signature",
        &arg(&sums("model.safetensors.p256.sig")),
        "--public-key",
        &arg(&key("p256")),
    ]);
    one_line(&out, 2, "a raw signature covers one file");
    // Empty signature file.
    fs::write(s.path("empty.sig"), b"").unwrap();
    one_line(
        &s.run([
            "verify",
            &arg(&file),
            "--raw-signature",
            "empty.sig",
            "--public-key",
            &rsa,
        ]),
        2,
        "the file is empty",
    );
}

#[test]
fn usage_errors_exit_2() {
    let s = Sandbox::new();
    let sums_file = sums("demo.sha256");
    one_line(
        &verify(
            &s,
            &demo(),
            &sums_file,
            &["--public-key", &arg(&key("p256"))],
        ),
        2,
        "add --raw-signature SIG",
    );
    // --signature is the bundle; it does not mix with --checksums.
    verify(&s, &demo(), &sums_file, &["--signature", "model.sig"])
        .code(2)
        .stderr_has("cannot be used with");
    // --digest without --raw-signature.
    verify(&s, &demo(), &sums_file, &["--digest", "sha256"]).code(2);
    // No trust given.
    let run = verify(
        &s,
        &demo(),
        &sums_file,
        &["--raw-signature", &arg(&sums("demo.sha256.p256.sig"))],
    );
    one_line(&run, 2, "a raw signature needs --public-key PUB.pem");
}

/// A model directory holding its own checksums and signature, and git
/// metadata: those are left out; a line listing the checksums file itself,
/// a symlink, and an unlisted file are refused.
#[test]
fn checksums_inside_the_model_git_metadata_and_symlinks() {
    let s = Sandbox::new();
    let model = s.copy("models/demo", "model");
    fs::copy(sums("demo.sha256"), model.join("SHA256SUMS")).unwrap();
    fs::copy(sums("demo.sha256.p256.sig"), model.join("SHA256SUMS.sig")).unwrap();
    fs::create_dir_all(model.join(".git")).unwrap();
    fs::write(model.join(".git/HEAD"), b"ref: refs/heads/main\n").unwrap();
    fs::write(model.join(".gitattributes"), b"*.safetensors filter=lfs\n").unwrap();
    let signed = |s: &Sandbox| {
        s.run([
            "verify",
            "model",
            "--checksums",
            "model/SHA256SUMS",
            "--raw-signature",
            "model/SHA256SUMS.sig",
            "--public-key",
            &arg(&key("p256")),
        ])
    };
    signed(&s).code(0).stdout_has("7 files, 287561 bytes");

    // A signature file inside the model that is not given as
    // --raw-signature is just another file, and must be listed.
    one_line(
        &s.run(["verify", "model", "--checksums", "model/SHA256SUMS"]),
        1,
        "extra (present, not listed): SHA256SUMS.sig",
    );
    fs::remove_file(model.join("SHA256SUMS.sig")).unwrap();

    // Checksums that list .gitattributes check it (it is no longer ignored).
    let mut text = fs::read_to_string(sums("demo.sha256")).unwrap();
    let digest = HashAlgorithm::Sha256
        .digest(b"*.safetensors filter=lfs\n")
        .to_hex();
    text.push_str(&format!("{digest}  .gitattributes\n"));
    fs::write(model.join("SHA256SUMS"), &text).unwrap();
    s.run(["verify", "model", "--checksums", "model/SHA256SUMS"])
        .code(0)
        .stdout_has("8 files");
    fs::write(model.join(".gitattributes"), b"changed\n").unwrap();
    one_line(
        &s.run(["verify", "model", "--checksums", "model/SHA256SUMS"]),
        1,
        "digest mismatch: .gitattributes",
    );
    fs::copy(sums("demo.sha256"), model.join("SHA256SUMS")).unwrap();
    fs::copy(sums("demo.sha256.p256.sig"), model.join("SHA256SUMS.sig")).unwrap();

    // A checksums file that lists itself (`sha256sum * > SHA256SUMS`).
    let mut listed = fs::read_to_string(sums("demo.sha256")).unwrap();
    listed.push_str(&format!(
        "{}  SHA256SUMS\n",
        HashAlgorithm::Sha256.digest(b"").to_hex()
    ));
    fs::write(model.join("SHA256SUMS"), &listed).unwrap();
    one_line(
        &s.run(["verify", "model", "--checksums", "model/SHA256SUMS"]),
        2,
        "line 8: the checksums file lists \"SHA256SUMS\"",
    );
    fs::copy(sums("demo.sha256"), model.join("SHA256SUMS")).unwrap();

    // An unlisted file added to the model.
    fs::write(model.join("weights/evil.py"), b"import os").unwrap();
    one_line(
        &signed(&s),
        1,
        "extra (present, not listed): weights/evil.py",
    );
    fs::remove_file(model.join("weights/evil.py")).unwrap();

    // A symlink, even to a listed file, is refused as for bundles.
    std::os::unix::fs::symlink("config.json", model.join("link.json")).unwrap();
    one_line(&signed(&s), 1, "is a symbolic link");
    fs::remove_file(model.join("link.json")).unwrap();

    // One byte of the weights changed.
    flip_byte(&model.join("weights/model-00001-of-00002.safetensors"), -1);
    one_line(
        &signed(&s),
        1,
        "digest mismatch: weights/model-00001-of-00002.safetensors",
    );
}

#[test]
fn one_file_model_is_found_relative_to_the_checksums_file() {
    let s = Sandbox::new();
    let dir = s.path("release");
    fs::create_dir_all(&dir).unwrap();
    let weights = dir.join("model.safetensors");
    fs::copy(fixture("models/demo/model.safetensors"), &weights).unwrap();
    fs::copy(sums("demo.sha256"), dir.join("SHA256SUMS")).unwrap();
    let run = verify(&s, &weights, &dir.join("SHA256SUMS"), &["--json"]);
    let doc = run.code(0).json();
    assert_eq!(doc["checksums"]["files"], 1);
    assert_eq!(doc["checksums"]["listed"], 7);
    // The checksums file's own directory decides: from elsewhere, not listed.
    one_line(
        &verify(&s, &weights, &sums("demo.sha256"), &[]),
        1,
        "is not listed in the checksums file",
    );
    flip_byte(&weights, 0);
    one_line(
        &verify(&s, &weights, &dir.join("SHA256SUMS"), &[]),
        1,
        "digest mismatch: model.safetensors",
    );
}

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line must be installed for these tests")
        .status
        .success()
}

#[test]
fn sign_raw_signature_verifies_with_openssl_and_modelseal() {
    let s = Sandbox::new();
    let target = s.copy("checksums/demo.sha256", "SHA256SUMS");
    let file = arg(&target);
    /// (private key, sign options, openssl verify arguments, verify options)
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let cases: [Case<'_>; 6] = [
        ("rsa3072", &[], &["dgst", "-sha256"], &[]),
        (
            "rsa3072",
            &["--digest", "sha512"],
            &["dgst", "-sha512"],
            &["--digest", "sha512"],
        ),
        (
            "rsa3072",
            &["--rsa-padding", "pss"],
            &["dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss"],
            &["--rsa-padding", "pss"],
        ),
        ("p256", &[], &["dgst", "-sha256"], &[]),
        ("p384", &[], &["dgst", "-sha384"], &[]),
        ("ed25519", &[], &[], &[]),
    ];
    for (k, opts, check, verify_opts) in cases {
        let private = s.key(&format!("keys/{k}.pkcs8.pem"));
        let mut args = vec![
            "sign".to_owned(),
            file.clone(),
            "--key".into(),
            arg(&private),
            "--raw-signature".into(),
            "out.sig".into(),
        ];
        args.extend(opts.iter().map(|x| (*x).to_owned()));
        let run = s.run(&args);
        run.code(0).stdout_has("check it:  openssl");
        let pub_key = arg(&key(k));
        let ok = if check.is_empty() {
            openssl(
                s.dir.path(),
                &[
                    "pkeyutl", "-verify", "-pubin", "-inkey", &pub_key, "-rawin", "-in", &file,
                    "-sigfile", "out.sig",
                ],
            )
        } else {
            let mut a: Vec<&str> = check.to_vec();
            a.extend(["-verify", &pub_key, "-signature", "out.sig", &file]);
            openssl(s.dir.path(), &a)
        };
        assert!(ok, "openssl rejects the {k} {opts:?} signature");
        let mut v = vec!["--raw-signature", "out.sig", "--public-key", &pub_key];
        v.extend(verify_opts.iter().copied());
        verify(&s, &demo(), &target, &v)
            .code(0)
            .stdout_has("authenticity (signed checksums)");
    }
    // The key-file permission rule holds for raw signatures too.
    let loose = s.key("keys/p256.pkcs8.pem");
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o644)).unwrap();
    one_line(
        &s.run([
            "sign",
            &file,
            "--key",
            &arg(&loose),
            "--raw-signature",
            "x.sig",
        ]),
        2,
        "let group or others read it",
    );
    assert!(!s.path("x.sig").exists());
    // Options that do not fit the key; a directory; bundle-only options.
    let p384 = arg(&s.key("keys/p384.pkcs8.pem"));
    one_line(
        &s.run([
            "sign",
            &file,
            "--key",
            &p384,
            "--raw-signature",
            "x.sig",
            "--digest",
            "sha256",
        ]),
        2,
        "checked with sha384",
    );
    one_line(
        &s.run([
            "sign",
            &arg(&demo()),
            "--key",
            &p384,
            "--raw-signature",
            "x.sig",
        ]),
        2,
        "a raw signature covers one file",
    );
    s.run([
        "sign",
        &file,
        "--key",
        &p384,
        "--raw-signature",
        "x.sig",
        "--shard-size",
        "100",
    ])
    .code(2);
}

#[test]
fn convert_signs_exactly_what_was_verified() {
    let s = Sandbox::new();
    let model = s.copy("models/demo", "model");
    let p256_priv = arg(&s.key("keys/p256.pkcs8.pem"));
    let rsa = arg(&key("rsa3072"));
    let convert = |sums_file: &str, sig: Option<&str>, out: &str, extra: &[&str]| {
        let mut a = vec![
            "convert".to_owned(),
            arg(&model),
            "--checksums".into(),
            arg(&sums(sums_file)),
            "--key".into(),
            p256_priv.clone(),
            "-s".into(),
            out.to_owned(),
        ];
        if let Some(sig) = sig {
            a.extend([
                "--raw-signature".to_owned(),
                arg(&sums(sig)),
                "--public-key".into(),
                rsa.clone(),
            ]);
        }
        a.extend(extra.iter().map(|x| (*x).to_owned()));
        s.run(&a)
    };
    let check_bundle = |out: &str| {
        s.run([
            "verify",
            "model",
            "-s",
            out,
            "--public-key",
            &arg(&key("p256")),
            "--json",
        ])
        .code(0)
        .json()
    };

    // Signed SHA-256 checksums -> bundle with the same digests.
    let run = convert(
        "demo.sha256",
        Some("demo.sha256.rsa-pkcs1.sig"),
        "a.sig",
        &[],
    );
    run.code(0)
        .stdout_has("checked:   authenticity (signed checksums)")
        .stdout_has(&format!("subject:   sha256:{DEMO_SUBJECT}"));
    assert_eq!(check_bundle("a.sig")["subject_digest"], DEMO_SUBJECT);

    // SHA-512 checksums (unsigned): the SHA-256 manifest from the same pass
    // is the same manifest.
    let doc = convert("demo.sha512", None, "b.sig", &["--json"])
        .code(0)
        .json();
    assert_eq!(doc["checksums_algorithm"], "sha512");
    assert_eq!(doc["guarantee"], "integrity-only");
    assert_eq!(doc["command"], "convert");
    assert_eq!(
        doc["warnings"][0],
        "the checksums were not signed: this bundle vouches for the files on your key's authority alone"
    );
    assert_eq!(doc["subject_digest"], DEMO_SUBJECT);
    assert_eq!(doc["resources"], 7);
    assert_eq!(check_bundle("b.sig")["subject_digest"], DEMO_SUBJECT);
    convert("demo.sha512", None, "b2.sig", &[])
        .code(0)
        .stderr_has("warning: the checksums were not signed: this bundle vouches for the files on your key's authority alone");

    // Nothing is written when verification fails.
    one_line(
        &convert(
            "demo.sha256",
            Some("demo.sha256.wrong-key.sig"),
            "c.sig",
            &[],
        ),
        1,
        "invalid signature",
    );
    one_line(
        &convert("bad-changed-digest.sha256", None, "d.sig", &[]),
        1,
        "digest mismatch: model.safetensors",
    );
    one_line(
        &convert("bad-dotdot.sha256", None, "e.sig", &[]),
        2,
        "refused",
    );
    for out in ["c.sig", "d.sig", "e.sig"] {
        assert!(
            !s.path(out).exists(),
            "{out} written after a failed verification"
        );
    }
    // The model changed after the checksums were made.
    flip_byte(&model.join("config.json"), 3);
    one_line(
        &convert(
            "demo.sha256",
            Some("demo.sha256.rsa-pkcs1.sig"),
            "f.sig",
            &[],
        ),
        1,
        "digest mismatch: config.json",
    );
    assert!(!s.path("f.sig").exists());
    flip_byte(&model.join("config.json"), 3);

    // A certificate bundle, written inside the model next to the checksums.
    fs::copy(sums("demo.sha256"), model.join("SHA256SUMS")).unwrap();
    let leaf_key = arg(&s.key("pki/p256/leaf.key"));
    let run = s.run([
        "convert",
        "model",
        "--checksums",
        "model/SHA256SUMS",
        "--key",
        &leaf_key,
        "--cert",
        &arg(&fixture("pki/p256/leaf.pem")),
        "--chain",
        &arg(&fixture("pki/p256/chain.pem")),
        "-s",
        "model/model.sig",
    ]);
    run.code(0).stdout_has("certificate material");
    // Run twice: the bundle from the first run is left out, not "extra".
    s.run([
        "convert",
        "model",
        "--checksums",
        "model/SHA256SUMS",
        "--key",
        &leaf_key,
        "--cert",
        &arg(&fixture("pki/p256/leaf.pem")),
        "--chain",
        &arg(&fixture("pki/p256/chain.pem")),
        "-s",
        "model/model.sig",
    ])
    .code(0);
    let doc = s
        .run([
            "verify",
            "model",
            "-s",
            "model/model.sig",
            "--trust-root",
            &arg(&fixture("pki/p256/root.pem")),
            "--identity",
            "*",
            "--json",
        ])
        .code(0)
        .json();
    assert_eq!(doc["subject_digest"], DEMO_SUBJECT);
    // The bundle pins the files: SHA256SUMS is left out, a new file is extra.
    fs::write(model.join("new.bin"), b"x").unwrap();
    s.run([
        "verify",
        "model",
        "-s",
        "model/model.sig",
        "--trust-root",
        &arg(&fixture("pki/p256/root.pem")),
        "--identity",
        "*",
    ])
    .code(1)
    .stderr_has("extra (present, not signed): new.bin");
}
