//! Interoperability with the `openssl` command line (OpenSSL 3): keys it
//! writes load, signatures it makes verify with `PublicKey`, signatures we
//! make verify with it, and our public-key PEM is byte-identical to
//! `openssl pkey -pubout` (model_signing's key hint hashes that text).
//!
//! Requires `openssl` on PATH; the tests fail (not skip) without it.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use modelseal_manifest::{KeyKind, SignatureAlgorithm};
use modelseal_signer::{KeyError, RsaHash, RsaPadding, RsaScheme, SigningKey};
use modelseal_verifier::{PssSaltLength, PublicKey, SignatureError};

const MSG: &[u8] = b"model manifest to be signed\n";
const PASS: &str = "correct-horse-battery-staple";
const PSS: &str = "-sigopt rsa_padding_mode:pss";
const SALT_DIGEST: &str = "-sigopt rsa_pss_saltlen:digest";

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let dir = Dir(tempfile::tempdir().unwrap());
        std::fs::write(dir.path("msg"), MSG).unwrap();
        dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).unwrap();
    }

    /// Runs openssl with the whitespace-separated `args` in this directory
    /// and asserts that it succeeds.
    fn openssl(&self, args: &str) {
        let out = Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(self.0.path())
            .output()
            .expect("the openssl command line must be installed for these tests");
        assert!(
            out.status.success(),
            "openssl {args} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn load(&self, name: &str, scheme: RsaScheme) -> SigningKey {
        SigningKey::from_pem(&self.read(name), None, scheme).unwrap()
    }

    fn load_err(&self, name: &str, passphrase: Option<&str>) -> KeyError {
        SigningKey::from_pem(
            &self.read(name),
            passphrase.map(str::as_bytes),
            RsaScheme::default(),
        )
        .unwrap_err()
    }
}

fn public_of(key: &SigningKey) -> PublicKey {
    PublicKey::from_spki_der(&key.public_key_der()).unwrap()
}

#[test]
fn rsa_interop() {
    let dir = Dir::new();
    dir.openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem");
    dir.openssl("genrsa -traditional -out rsa1.pem 3072");
    assert!(
        dir.read("rsa1.pem")
            .starts_with(b"-----BEGIN RSA PRIVATE KEY-----")
    );
    dir.openssl("pkey -in rsa.pem -pubout -out rsa.pub");
    dir.openssl("pkey -in rsa1.pem -pubout -out rsa1.pub");

    let pkcs1 = dir.load("rsa1.pem", RsaScheme::default());
    assert_eq!(pkcs1.key_kind(), KeyKind::Rsa { bits: 3072 });
    assert_eq!(pkcs1.public_key_pem().as_bytes(), dir.read("rsa1.pub"));

    for hash in [RsaHash::Sha256, RsaHash::Sha384, RsaHash::Sha512] {
        let dgst = match hash {
            RsaHash::Sha256 => "-sha256",
            RsaHash::Sha384 => "-sha384",
            RsaHash::Sha512 => "-sha512",
            other => panic!("no openssl digest flag for {other:?}"),
        };
        let pss = RsaScheme::new(RsaPadding::Pss, hash);
        let pkcs1v15 = RsaScheme::new(RsaPadding::Pkcs1v15, hash);
        let key = dir.load("rsa.pem", pss);
        assert_eq!(key.public_key_pem().as_bytes(), dir.read("rsa.pub"));
        let public = public_of(&key);

        // openssl signs PKCS#1 v1.5, we verify.
        dir.openssl(&format!("dgst {dgst} -sign rsa.pem -out sig msg"));
        assert_eq!(
            public.verify(pkcs1v15.algorithm(), MSG, &dir.read("sig")),
            Ok(())
        );
        // PKCS#1 v1.5 is deterministic: ours is byte-identical.
        let ours = dir.load("rsa.pem", pkcs1v15).sign(MSG).unwrap();
        assert_eq!(ours, dir.read("sig"));

        // openssl signs PSS with salt = digest length, we verify.
        dir.openssl(&format!(
            "dgst {dgst} -sign rsa.pem {PSS} {SALT_DIGEST} -out sig msg"
        ));
        assert_eq!(
            public.verify(pss.algorithm(), MSG, &dir.read("sig")),
            Ok(())
        );

        // openssl's default PSS salt when signing is the maximum: refused by
        // the bundle path, accepted with auto salt detection.
        dir.openssl(&format!("dgst {dgst} -sign rsa.pem {PSS} -out sig msg"));
        let default_salt = dir.read("sig");
        assert_eq!(
            public.verify(pss.algorithm(), MSG, &default_salt),
            Err(SignatureError::InvalidSignature)
        );
        assert_eq!(
            public.verify_with_pss_salt(pss.algorithm(), MSG, &default_salt, PssSaltLength::Auto),
            Ok(())
        );

        // We sign, openssl verifies: PSS with the salt length pinned to the
        // digest length (proves ours is exactly that), and PKCS#1 v1.5.
        dir.write("ours", &key.sign(MSG).unwrap());
        dir.openssl(&format!(
            "dgst {dgst} -verify rsa.pub {PSS} {SALT_DIGEST} -signature ours msg"
        ));
        dir.write("ours", &ours);
        dir.openssl(&format!("dgst {dgst} -verify rsa.pub -signature ours msg"));
    }
}

/// The RSA-PSS grid bundles may use (2048/3072/4096 bits x SHA-256/384/512,
/// MGF1 with the same hash, salt = hash length), with OpenSSL as the
/// independent implementation. Wycheproof has no vectors for 3072 bits with
/// SHA-384 or SHA-512 and a single one for 2048 with SHA-512; this fills
/// the grid: OpenSSL's signatures verify with `PublicKey`, ours verify with
/// OpenSSL with the salt length pinned, and a flipped bit fails for both.
#[test]
fn rsa_pss_grid_against_openssl() {
    let dir = Dir::new();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    for (bits, file) in [
        (2048, "keys/rsa2048.pkcs8.pem"),
        (3072, "keys/rsa3072.pkcs8.pem"),
        (4096, "pki/rsa/leaf4096.key"),
    ] {
        dir.write("k.pem", &std::fs::read(fixtures.join(file)).unwrap());
        dir.openssl("pkey -in k.pem -pubout -out k.pub");
        for (hash, dgst) in [
            (RsaHash::Sha256, "-sha256"),
            (RsaHash::Sha384, "-sha384"),
            (RsaHash::Sha512, "-sha512"),
        ] {
            let scheme = RsaScheme::new(RsaPadding::Pss, hash);
            let key = dir.load("k.pem", scheme);
            assert_eq!(key.key_kind(), KeyKind::Rsa { bits });
            let public = public_of(&key);
            let alg = scheme.algorithm();

            dir.openssl(&format!(
                "dgst {dgst} -sign k.pem {PSS} {SALT_DIGEST} -out sig msg"
            ));
            let mut theirs = dir.read("sig");
            assert_eq!(public.verify(alg, MSG, &theirs), Ok(()), "{bits} {dgst}");
            theirs[bits / 16] ^= 0x10;
            assert_eq!(
                public.verify(alg, MSG, &theirs),
                Err(SignatureError::InvalidSignature)
            );

            let mut ours = key.sign(MSG).unwrap();
            dir.write("ours", &ours);
            dir.openssl(&format!(
                "dgst {dgst} -verify k.pub {PSS} {SALT_DIGEST} -signature ours msg"
            ));
            ours[7] ^= 0x01;
            dir.write("ours", &ours);
            let out = Command::new("openssl")
                .args(
                    format!("dgst {dgst} -verify k.pub {PSS} {SALT_DIGEST} -signature ours msg")
                        .split_whitespace(),
                )
                .current_dir(dir.0.path())
                .output()
                .unwrap();
            assert!(!out.status.success(), "openssl accepted a flipped bit");
        }
    }
}

#[test]
fn ecdsa_interop() {
    let dir = Dir::new();
    // `ecparam -genkey` writes an EC PARAMETERS block before the SEC1 key.
    dir.openssl("ecparam -name prime256v1 -genkey -out p256.pem");
    assert!(
        dir.read("p256.pem")
            .starts_with(b"-----BEGIN EC PARAMETERS-----")
    );
    dir.openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem");
    // `openssl ec` converts PKCS#8 to SEC1.
    dir.openssl("ec -in p384.pem -out p384-sec1.pem");
    assert!(
        dir.read("p384-sec1.pem")
            .starts_with(b"-----BEGIN EC PRIVATE KEY-----")
    );

    for (file, dgst, alg) in [
        ("p256.pem", "-sha256", SignatureAlgorithm::EcdsaP256Sha256),
        ("p384.pem", "-sha384", SignatureAlgorithm::EcdsaP384Sha384),
        (
            "p384-sec1.pem",
            "-sha384",
            SignatureAlgorithm::EcdsaP384Sha384,
        ),
    ] {
        let key = dir.load(file, RsaScheme::default());
        assert_eq!(key.algorithm(), alg);
        dir.openssl(&format!("pkey -in {file} -pubout -out pub"));
        assert_eq!(key.public_key_pem().as_bytes(), dir.read("pub"), "{file}");
        let public = public_of(&key);

        dir.openssl(&format!("dgst {dgst} -sign {file} -out sig msg"));
        assert_eq!(public.verify(alg, MSG, &dir.read("sig")), Ok(()), "{file}");

        dir.write("ours", &key.sign(MSG).unwrap());
        dir.openssl(&format!("dgst {dgst} -verify pub -signature ours msg"));
    }
    // Both encodings of the P-384 key are the same key.
    assert_eq!(
        dir.load("p384.pem", RsaScheme::default()).public_key_der(),
        dir.load("p384-sec1.pem", RsaScheme::default())
            .public_key_der()
    );
}

#[test]
fn ed25519_interop() {
    let dir = Dir::new();
    dir.openssl("genpkey -algorithm ED25519 -out ed.pem");
    dir.openssl("pkey -in ed.pem -pubout -out ed.pub");
    let key = dir.load("ed.pem", RsaScheme::default());
    assert_eq!(key.public_key_pem().as_bytes(), dir.read("ed.pub"));
    let public = public_of(&key);

    dir.openssl("pkeyutl -sign -rawin -inkey ed.pem -in msg -out sig");
    // Ed25519 is deterministic: ours is byte-identical to openssl's.
    let ours = key.sign(MSG).unwrap();
    assert_eq!(ours, dir.read("sig"));
    assert_eq!(
        public.verify(SignatureAlgorithm::Ed25519, MSG, &ours),
        Ok(())
    );

    dir.write("ours", &ours);
    dir.openssl("pkeyutl -verify -pubin -inkey ed.pub -rawin -in msg -sigfile ours");
}

#[test]
fn encrypted_pkcs8() {
    let dir = Dir::new();
    dir.openssl("genpkey -algorithm ED25519 -out ed.pem");
    dir.openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem");
    dir.openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem");
    for plain in ["ed.pem", "ec.pem", "rsa.pem"] {
        let encrypted = format!("enc-{plain}");
        dir.openssl(&format!(
            "pkcs8 -topk8 -v2 aes-256-cbc -in {plain} -passout pass:{PASS} -out {encrypted}"
        ));
        assert!(
            dir.read(&encrypted)
                .starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        );

        let key = SigningKey::from_pem(
            &dir.read(&encrypted),
            Some(PASS.as_bytes()),
            RsaScheme::default(),
        )
        .unwrap();
        let expected = dir.load(plain, RsaScheme::default());
        assert_eq!(key.public_key_der(), expected.public_key_der(), "{plain}");
        let public = public_of(&key);
        assert_eq!(
            public.verify(key.algorithm(), MSG, &key.sign(MSG).unwrap()),
            Ok(())
        );

        assert_eq!(dir.load_err(&encrypted, None), KeyError::PassphraseRequired);
        assert_eq!(
            dir.load_err(&encrypted, Some("wrong")),
            KeyError::WrongPassphrase
        );
        assert_eq!(
            dir.load_err(&encrypted, Some("")),
            KeyError::WrongPassphrase
        );
        // A passphrase given for a plain key is ignored.
        assert!(
            SigningKey::from_pem(&dir.read(plain), Some(b"unused"), RsaScheme::default()).is_ok()
        );
    }
    // Many wrong passphrases: padding that happens to be valid must still
    // end as WrongPassphrase, never as a malformed or loaded key.
    for i in 0..64 {
        let wrong = format!("wrong-{i}");
        assert_eq!(
            dir.load_err("enc-ed.pem", Some(&wrong)),
            KeyError::WrongPassphrase
        );
    }

    // Legacy OpenSSL-encrypted PEM (Proc-Type headers).
    dir.openssl(&format!(
        "genrsa -traditional -aes128 -passout pass:{PASS} -out legacy.pem 2048"
    ));
    assert_eq!(
        dir.load_err("legacy.pem", Some(PASS)),
        KeyError::LegacyEncryptedPem {
            label: "RSA PRIVATE KEY".to_owned()
        }
    );
}

#[test]
fn refused_keys() {
    let dir = Dir::new();
    dir.openssl("genrsa -traditional -out rsa1024.pem 1024");
    assert_eq!(
        dir.load_err("rsa1024.pem", None),
        KeyError::WeakRsaKey { bits: 1024 }
    );
    dir.openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1536 -out rsa1536.pem");
    assert_eq!(
        dir.load_err("rsa1536.pem", None),
        KeyError::WeakRsaKey { bits: 1536 }
    );
    // The weak key's own signature does not verify either.
    dir.openssl("pkey -in rsa1536.pem -pubout -out rsa1536.pub");
    dir.openssl("dgst -sha256 -sign rsa1536.pem -out sig msg");
    let public = PublicKey::from_pem(&dir.read("rsa1536.pub")).unwrap();
    assert_eq!(
        public.verify(SignatureAlgorithm::RsaPkcs1Sha256, MSG, &dir.read("sig")),
        Err(SignatureError::WeakKey { bits: 1536 })
    );

    dir.openssl("genpkey -algorithm ED448 -out ed448.pem");
    assert_eq!(
        dir.load_err("ed448.pem", None),
        KeyError::UnsupportedKeyType {
            algorithm: "Ed448 (1.3.101.113)".to_owned()
        }
    );
    dir.openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.pem");
    assert_eq!(
        dir.load_err("p521.pem", None),
        KeyError::UnsupportedCurve {
            curve: "P-521 (1.3.132.0.35)".to_owned()
        }
    );
    dir.openssl("ecparam -name secp256k1 -genkey -noout -out k256.pem");
    assert_eq!(
        dir.load_err("k256.pem", None),
        KeyError::UnsupportedCurve {
            curve: "secp256k1 (1.3.132.0.10)".to_owned()
        }
    );
    // An RSASSA-PSS-restricted key (id-RSASSA-PSS algorithm identifier).
    dir.openssl("genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out pss.pem");
    assert_eq!(
        dir.load_err("pss.pem", None),
        KeyError::UnsupportedKeyType {
            algorithm: "RSASSA-PSS (1.2.840.113549.1.1.10)".to_owned()
        }
    );
    dir.openssl("pkey -in pss.pem -pubout -out pss.pub");
    assert!(matches!(
        PublicKey::from_pem(&dir.read("pss.pub")),
        Err(SignatureError::UnsupportedKey { .. })
    ));
}

/// Raw signatures over a file (`detached::sign_file`): streamed digests for
/// RSA and ECDSA, whole file for Ed25519; openssl verifies every one.
#[test]
fn detached_file_signatures_verify_with_openssl() {
    use modelseal_signer::sign_file;
    let dir = Dir::new();
    // Larger than the hashing buffer, so the digest is streamed in pieces.
    let big: Vec<u8> = (0..700_000u32).map(|i| (i * 31 % 251) as u8).collect();
    dir.write("file.bin", &big);
    dir.openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem");
    dir.openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem");
    dir.openssl("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem");
    dir.openssl("genpkey -algorithm ED25519 -out ed.pem");
    for k in ["rsa", "p256", "p384", "ed"] {
        dir.openssl(&format!("pkey -in {k}.pem -pubout -out {k}.pub"));
    }

    // RSA PKCS#1 v1.5 is deterministic: byte-identical to `openssl dgst`.
    for (hash, dgst) in [
        (RsaHash::Sha256, "-sha256"),
        (RsaHash::Sha384, "-sha384"),
        (RsaHash::Sha512, "-sha512"),
    ] {
        let key = dir.load("rsa.pem", RsaScheme::new(RsaPadding::Pkcs1v15, hash));
        let (sig, len) = sign_file(&key, &dir.path("file.bin")).unwrap();
        assert_eq!(len, big.len() as u64);
        dir.openssl(&format!("dgst {dgst} -sign rsa.pem -out theirs file.bin"));
        assert_eq!(sig, dir.read("theirs"), "{dgst}");

        let pss = dir.load("rsa.pem", RsaScheme::new(RsaPadding::Pss, hash));
        dir.write("ours", &sign_file(&pss, &dir.path("file.bin")).unwrap().0);
        dir.openssl(&format!(
            "dgst {dgst} -verify rsa.pub {PSS} -signature ours file.bin"
        ));
        dir.openssl(&format!(
            "dgst {dgst} -verify rsa.pub {PSS} {SALT_DIGEST} -signature ours file.bin"
        ));
    }

    // ECDSA (RFC 6979, deterministic): the prehashed signature equals the
    // whole-message one, and openssl verifies it.
    for (k, dgst) in [("p256", "-sha256"), ("p384", "-sha384")] {
        let key = dir.load(&format!("{k}.pem"), RsaScheme::default());
        let (sig, _) = sign_file(&key, &dir.path("file.bin")).unwrap();
        assert_eq!(sig, key.sign(&big).unwrap(), "{k}");
        dir.write("ours", &sig);
        dir.openssl(&format!(
            "dgst {dgst} -verify {k}.pub -signature ours file.bin"
        ));
    }

    // Ed25519: identical to `pkeyutl -sign -rawin`.
    let ed = dir.load("ed.pem", RsaScheme::default());
    let (sig, _) = sign_file(&ed, &dir.path("file.bin")).unwrap();
    dir.openssl("pkeyutl -sign -rawin -inkey ed.pem -in file.bin -out theirs");
    assert_eq!(sig, dir.read("theirs"));

    // A digest cannot be signed with Ed25519, nor one of the wrong length.
    assert!(matches!(
        ed.sign_prehashed(&[0u8; 32]),
        Err(KeyError::Signing { .. })
    ));
    let p256 = dir.load("p256.pem", RsaScheme::default());
    assert!(matches!(
        p256.sign_prehashed(&[0u8; 48]),
        Err(KeyError::Signing { .. })
    ));
    // A directory is not one file.
    assert!(matches!(
        sign_file(&p256, dir.0.path()),
        Err(modelseal_signer::Error::InvalidOption { .. })
    ));
}
