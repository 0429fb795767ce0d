//! PKCS#11 keys end to end: a real SoftHSM2 token per test (its own
//! SOFTHSM2_CONF and token directory), keys made with OpenSC's pkcs11-tool
//! or `modelseal keygen`, bundles signed in the token and verified by
//! modelseal's verifier.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Run, Sandbox};

/// Where Debian's softhsm2 package puts the module.
pub(crate) const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "4821-test-pin";

/// A SoftHSM2 token private to one test.
pub(crate) struct Token {
    pub(crate) conf: PathBuf,
    pub(crate) pin_file: PathBuf,
}

fn tool(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{what}: {e} (.ci/deps/softhsm.sh installs softhsm2 and opensc)")
    });
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Token {
    /// Initialise a token labelled `release` in `sb`.
    pub(crate) fn new(sb: &Sandbox) -> Token {
        assert!(
            Path::new(MODULE).exists(),
            "{MODULE} is missing: the PKCS#11 tests need softhsm2 (.ci/deps/softhsm.sh)"
        );
        let dir = sb.path("softhsm");
        fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.join("tokens").display()
            ),
        )
        .unwrap();
        let pin_file = dir.join("pin");
        fs::write(&pin_file, format!("{PIN}\n")).unwrap();
        let t = Token { conf, pin_file };
        tool(
            t.cmd("softhsm2-util").args([
                "--init-token",
                "--free",
                "--label",
                "release",
                "--pin",
                PIN,
                "--so-pin",
                "9999-so",
            ]),
            "softhsm2-util --init-token",
        );
        t
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SOFTHSM2_CONF", &self.conf);
        c
    }

    /// Make a key pair with pkcs11-tool (`EC:prime256v1`, `rsa:3072`, ...).
    pub(crate) fn keypair(&self, key_type: &str, label: &str, id: &str) {
        tool(
            self.cmd("pkcs11-tool").args([
                "--module",
                MODULE,
                "--token-label",
                "release",
                "--login",
                "--pin",
                PIN,
                "--keypairgen",
                "--key-type",
                key_type,
                "--label",
                label,
                "--id",
                id,
            ]),
            "pkcs11-tool --keypairgen",
        );
    }

    /// The public key of `label` as PEM, read out of the token.
    pub(crate) fn public_pem(&self, sb: &Sandbox, label: &str) -> PathBuf {
        let der = sb.path(&format!("{label}.pub.der"));
        tool(
            self.cmd("pkcs11-tool")
                .args([
                    "--module",
                    MODULE,
                    "--token-label",
                    "release",
                    "--read-object",
                    "--type",
                    "pubkey",
                    "--label",
                    label,
                    "-o",
                ])
                .arg(&der),
            "pkcs11-tool --read-object",
        );
        let pem = sb.path(&format!("{label}.pub.pem"));
        tool(
            Command::new("openssl")
                .args(["pkey", "-pubin", "-inform", "DER", "-in"])
                .arg(&der)
                .arg("-out")
                .arg(&pem),
            "openssl pkey",
        );
        pem
    }

    /// The URI of key `label`, PIN from the PIN file.
    pub(crate) fn uri(&self, label: &str) -> String {
        format!(
            "pkcs11:token=release;object={label}?module-path={MODULE}&pin-source=file:{}",
            self.pin_file.display()
        )
    }

    /// Run modelseal with this token's SOFTHSM2_CONF.
    pub(crate) fn run(&self, sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
        let conf = self.conf.display().to_string();
        let mut all = vec![("SOFTHSM2_CONF", conf.as_str())];
        all.extend_from_slice(env);
        sb.run_env(args, &all)
    }
}

/// How the key gets into the token.
enum Maker {
    /// `pkcs11-tool --keypairgen --key-type TYPE`.
    Tool(&'static str),
    /// `modelseal keygen --algorithm ALG --out pkcs11:...`.
    Keygen(&'static str),
}

fn sign_and_verify(maker: Maker, extra: &[&str]) {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let t = Token::new(&sb);
    let uri = t.uri("model-signing");
    let pem = match maker {
        Maker::Tool(key_type) => {
            t.keypair(key_type, "model-signing", "01");
            t.public_pem(&sb, "model-signing")
        }
        Maker::Keygen(alg) => {
            let run = t.run(
                &sb,
                &[
                    "keygen",
                    "--algorithm",
                    alg,
                    "--out",
                    &uri,
                    "--public-out",
                    "token.pub.pem",
                    "--json",
                ],
                &[],
            );
            let doc = run.code(0).json();
            assert!(!run.stdout.contains(PIN));
            assert!(
                doc["public_key_pem"]
                    .as_str()
                    .unwrap()
                    .starts_with("-----BEGIN PUBLIC KEY-----")
            );
            // Not twice under one label.
            t.run(&sb, &["keygen", "--algorithm", alg, "--out", &uri], &[])
                .code(2)
                .stderr_has("exists already");
            sb.path("token.pub.pem")
        }
    };
    let mut args = vec![
        "sign",
        "model",
        "--key",
        &uri,
        "--signature",
        "m.sig",
        "--json",
    ];
    args.extend_from_slice(extra);
    let run = t.run(&sb, &args, &[]);
    let doc = run.code(0).json();
    let pem = pem.display().to_string();
    // The signature made in the token verifies with modelseal's verifier.
    let mut verify = vec![
        "verify",
        "model",
        "--signature",
        "m.sig",
        "--public-key",
        &pem,
    ];
    verify.extend_from_slice(extra);
    sb.run(&verify).code(0);
    // The fingerprint is the public key's.
    let fp = doc["key_fingerprint"].as_str().unwrap().to_owned();
    let v = sb.run([
        "verify",
        "model",
        "--signature",
        "m.sig",
        "--public-key",
        &pem,
        "--json",
    ]);
    assert!(
        v.stdout.contains(fp.trim_start_matches("sha256:")),
        "{}",
        v.stdout
    );
    // Tampering is still caught.
    fs::write(sb.path("model/config.json"), "{}").unwrap();
    sb.run(&verify).code(1);
}

#[test]
fn ecdsa_p256_in_a_token() {
    sign_and_verify(Maker::Tool("EC:prime256v1"), &[]);
}

#[test]
fn ecdsa_p384_made_by_keygen_in_a_token() {
    sign_and_verify(Maker::Keygen("ecdsa-p384"), &[]);
}

#[test]
fn rsa_pss_and_pkcs1_in_a_token() {
    sign_and_verify(Maker::Tool("rsa:2048"), &[]);
    sign_and_verify(
        Maker::Tool("rsa:2048"),
        &["--rsa-padding", "pkcs1v15", "--digest", "sha384"],
    );
}

#[test]
fn ed25519_made_by_keygen_in_a_token() {
    sign_and_verify(Maker::Keygen("ed25519"), &[]);
}

#[test]
fn the_pin_never_appears() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let t = Token::new(&sb);
    t.keypair("EC:prime256v1", "k", "02");
    let wrong = "pkcs11:token=release;object=k?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=9137-wrong-pin";
    for json in [false, true] {
        let mut args = vec!["sign", "model", "--key", wrong, "--signature", "m.sig"];
        if json {
            args.push("--json");
        }
        let run = t.run(&sb, &args, &[]);
        run.code(2).no_panic();
        assert!(
            run.stderr.contains("C_Login") || run.stdout.contains("C_Login"),
            "{run:?}"
        );
        assert!(
            !run.stderr.contains("9137") && !run.stdout.contains("9137"),
            "{run:?}"
        );
    }
    // The PIN from the environment, wrong: same.
    let uri = format!("pkcs11:token=release;object=k?module-path={MODULE}");
    let run = t.run(
        &sb,
        &["sign", "model", "--key", &uri, "--signature", "m.sig"],
        &[("MODELSEAL_PKCS11_PIN", "5566-env-pin")],
    );
    run.code(2);
    assert!(!run.stderr.contains("5566") && !run.stdout.contains("5566"));
    assert!(!sb.path("m.sig").exists());
}

#[test]
fn module_from_the_environment_and_lookup_errors() {
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let t = Token::new(&sb);
    t.keypair("EC:prime256v1", "k", "03");
    let pin = format!("pin-source=file:{}", t.pin_file.display());
    let no_module = format!("pkcs11:token=release;object=k?{pin}");
    t.run(
        &sb,
        &["sign", "model", "--key", &no_module, "--signature", "m.sig"],
        &[],
    )
    .code(2)
    .stderr_has("MODELSEAL_PKCS11_MODULE");
    t.run(
        &sb,
        &["sign", "model", "--key", &no_module, "--signature", "m.sig"],
        &[("MODELSEAL_PKCS11_MODULE", MODULE)],
    )
    .code(0);
    let other_token = format!("pkcs11:token=nope;object=k?module-path={MODULE}&{pin}");
    t.run(
        &sb,
        &[
            "sign",
            "model",
            "--key",
            &other_token,
            "--signature",
            "n.sig",
        ],
        &[],
    )
    .code(2)
    .stderr_has("no token matches token=nope");
    let other_key = format!("pkcs11:token=release;object=nope?module-path={MODULE}&{pin}");
    t.run(
        &sb,
        &["sign", "model", "--key", &other_key, "--signature", "n.sig"],
        &[],
    )
    .code(2)
    .stderr_has("no private key matches");
    let by_slot = format!("pkcs11:slot-id=0;object=k?module-path={MODULE}&{pin}");
    t.run(
        &sb,
        &["sign", "model", "--key", &by_slot, "--signature", "n.sig"],
        &[],
    )
    .code(2)
    .stderr_has("slot-id is not accepted");
    assert!(!sb.path("n.sig").exists());
}

/// A code-signing certificate for the public key `pem` (made in the
/// token), issued by the P-256 test intermediate with the openssl CLI.
fn certify(sb: &Sandbox, pem: &Path, out: &str) -> PathBuf {
    let fixture = crate::common::fixture;
    let ext = sb.path("token-cert.ext");
    fs::write(
        &ext,
        "basicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature\n\
         extendedKeyUsage = critical, codeSigning\n\
         subjectAltName = email:token@modelseal.test\n\
         subjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid\n",
    )
    .unwrap();
    // A throwaway request: -force_pubkey puts the token's key in its place.
    let csr = sb.path("token.csr");
    tool(
        Command::new("openssl")
            .args([
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args([
                "-nodes",
                "-subj",
                "/O=modelseal test PKI - NOT FOR PRODUCTION/CN=token signer",
            ])
            .arg("-keyout")
            .arg(sb.path("throwaway.key"))
            .arg("-out")
            .arg(&csr),
        "openssl req",
    );
    let cert = sb.path(out);
    tool(
        Command::new("openssl")
            .args(["x509", "-req", "-in"])
            .arg(&csr)
            .arg("-force_pubkey")
            .arg(pem)
            .arg("-CA")
            .arg(fixture("pki/p256/intermediate.pem"))
            .arg("-CAkey")
            .arg(fixture("pki/p256/intermediate.key"))
            .args(["-set_serial", "0x7001", "-days", "30", "-sha256"])
            .arg("-extfile")
            .arg(&ext)
            .arg("-out")
            .arg(&cert),
        "openssl x509 -req",
    );
    cert
}

#[test]
fn a_token_key_with_a_certificate_signs_and_converts() {
    let fixture = crate::common::fixture;
    let sb = Sandbox::new();
    sb.copy("models/demo", "model");
    let t = Token::new(&sb);
    t.keypair("EC:prime256v1", "cs", "04");
    let pem = t.public_pem(&sb, "cs");
    let cert = certify(&sb, &pem, "token.pem").display().to_string();
    let chain = fixture("pki/p256/chain.pem").display().to_string();
    let root = fixture("pki/p256/root.pem").display().to_string();
    let uri = t.uri("cs");
    let verify = |sig: &str| {
        sb.run([
            "verify",
            "model",
            "--signature",
            sig,
            "--trust-root",
            &root,
            "--identity",
            "email:token@modelseal.test",
            "--json",
        ])
    };

    // sign: the token's key, its certificate and chain in the bundle.
    let doc = t
        .run(
            &sb,
            &[
                "sign",
                "model",
                "--key",
                &uri,
                "--cert",
                &cert,
                "--chain",
                &chain,
                "--signature",
                "m.sig",
                "--json",
            ],
            &[],
        )
        .code(0)
        .json();
    assert_eq!(doc["material"], "certificate", "{doc:#}");
    let v = verify("m.sig").code(0).json();
    assert_eq!(v["identity"], "email:token@modelseal.test", "{v:#}");
    assert_eq!(v["signer"]["serial"], "7001", "{v:#}");
    // Another key's certificate: refused before anything is written.
    let leaf = fixture("pki/p256/leaf.pem").display().to_string();
    t.run(
        &sb,
        &[
            "sign",
            "model",
            "--key",
            &uri,
            "--cert",
            &leaf,
            "--signature",
            "x.sig",
        ],
        &[],
    )
    .code(2)
    .stderr_has("is not the signing key's");
    assert!(!sb.path("x.sig").exists());

    // convert: SHA256SUMS re-signed with the token's key.
    let sums = fixture("checksums/demo.sha256").display().to_string();
    let doc = t
        .run(
            &sb,
            &[
                "convert",
                "model",
                "--checksums",
                &sums,
                "--key",
                &uri,
                "--cert",
                &cert,
                "--chain",
                &chain,
                "-s",
                "c.sig",
                "--json",
            ],
            &[],
        )
        .code(0)
        .json();
    assert_eq!(doc["material"], "certificate", "{doc:#}");
    let v = verify("c.sig").code(0).json();
    assert_eq!(v["identity"], "email:token@modelseal.test");
    // A token key without a certificate converts into a key bundle.
    t.run(
        &sb,
        &[
            "convert",
            "model",
            "--checksums",
            &sums,
            "--key",
            &uri,
            "-s",
            "k.sig",
        ],
        &[],
    )
    .code(0);
    sb.run([
        "verify",
        "model",
        "--signature",
        "k.sig",
        "--public-key",
        &pem.display().to_string(),
    ])
    .code(0);
}
