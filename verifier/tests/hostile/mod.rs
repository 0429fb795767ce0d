//! Shared fixtures for the hostile-input property tests: a small model,
//! bundles signed at test time with the committed test keys, and the
//! verification entry point every property goes through.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use modelseal_manifest::HashOptions;
use modelseal_manifest::{Bundle, Manifest};
use modelseal_signer::{RsaScheme, SigningKey};
use modelseal_verifier::{IdentityRequirement, Options, Outcome};
use modelseal_verifier::{PublicKey, Trust, TrustAnchors, Verified};

pub use modelseal_testkit::{key, read_fixture, t2030 as at};

/// One signed bundle and what verifies it.
pub struct Signed {
    pub what: &'static str,
    pub json: Vec<u8>,
    pub bundle: Bundle,
    pub manifest: Manifest,
    pub trust: Trust,
    pub key: SigningKey,
}

impl Signed {
    /// Verify `bundle_json` against the fixture model with this trust.
    pub fn verify(&self, bundle_json: &[u8]) -> Outcome {
        modelseal_verifier::verify(&model().0, bundle_json, &self.options())
    }

    pub fn options(&self) -> Options<'_> {
        let mut opts = Options::new(&self.trust, IdentityRequirement::Any, at());
        opts.hash = HashOptions {
            threads: Some(1),
            ..HashOptions::default()
        };
        opts
    }

    /// The property every mutated bundle must satisfy: it does not verify,
    /// or it verifies exactly what the original signed. Returns whether it
    /// verified.
    #[track_caller]
    pub fn must_not_verify_other_content(&self, mutated: &[u8]) -> bool {
        match self.verify(mutated).result {
            Err(_) => false,
            Ok(v) => {
                self.assert_same_content(mutated, &v);
                true
            }
        }
    }

    /// A bundle that verified after a mutation must carry the original
    /// signed bytes: same payload, payload type and signature, hence the
    /// same manifest. Only unauthenticated framing may differ.
    #[track_caller]
    pub fn assert_same_content(&self, mutated: &[u8], v: &Verified) {
        let m = Bundle::from_json(mutated).unwrap();
        assert_eq!(m.envelope.payload, self.bundle.envelope.payload);
        assert_eq!(m.envelope.payload_type, self.bundle.envelope.payload_type);
        assert_eq!(m.envelope.signature, self.bundle.envelope.signature);
        assert_eq!(v.authenticated().manifest(), &self.manifest);
        assert_eq!(
            v.authenticated().signed_by().algorithm(),
            self.key.algorithm()
        );
    }
}

/// The model every bundle signs: three small files in a directory that
/// outlives the test process's fixtures (kept for the whole run).
pub fn model() -> &'static (PathBuf, tempfile::TempDir) {
    static M: OnceLock<(PathBuf, tempfile::TempDir)> = OnceLock::new();
    M.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("model");
        modelseal_testkit::small_model(&root);
        (root, dir)
    })
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.what)
    }
}

fn sign_model(key: &SigningKey, certificates: &[Vec<u8>]) -> (Bundle, Manifest) {
    let signed = modelseal_testkit::sign(&model().0, key, certificates);
    (signed.bundle, signed.manifest)
}

fn certs(rel: &[&str]) -> Vec<Vec<u8>> {
    modelseal_testkit::certificates(rel)
}

/// ECDSA P-256 with the fixture chain (leaf + intermediate), verified
/// against the fixture root.
pub fn p256_chain() -> &'static Signed {
    static S: OnceLock<Signed> = OnceLock::new();
    S.get_or_init(|| {
        let key = key("pki/p256/leaf.key", RsaScheme::default());
        let (bundle, manifest) =
            sign_model(&key, &certs(&["pki/p256/leaf.pem", "pki/p256/chain.pem"]));
        let trust =
            Trust::Roots(TrustAnchors::from_pem(&read_fixture("pki/p256/root.pem")).unwrap());
        finish("p256 chain", bundle, manifest, trust, key)
    })
}

/// Ed25519 key bundle, verified with the public key.
pub fn ed25519_key() -> &'static Signed {
    static S: OnceLock<Signed> = OnceLock::new();
    S.get_or_init(|| {
        let key = key("keys/ed25519.pkcs8.pem", RsaScheme::default());
        let (bundle, manifest) = sign_model(&key, &[]);
        let trust =
            Trust::PublicKey(PublicKey::from_pem(&read_fixture("keys/ed25519.pub.pem")).unwrap());
        finish("ed25519 key", bundle, manifest, trust, key)
    })
}

/// RSA-2048 PSS/SHA-256 key bundle: RSA is where the keyid hint picks the
/// padding, so it is where a hint edit matters most.
pub fn rsa_key() -> &'static Signed {
    static S: OnceLock<Signed> = OnceLock::new();
    S.get_or_init(|| {
        let key = key("keys/rsa2048.pkcs8.pem", RsaScheme::default());
        let (bundle, manifest) = sign_model(&key, &[]);
        let trust =
            Trust::PublicKey(PublicKey::from_pem(&read_fixture("keys/rsa2048.pub.pem")).unwrap());
        finish("rsa key", bundle, manifest, trust, key)
    })
}

fn finish(
    what: &'static str,
    bundle: Bundle,
    manifest: Manifest,
    trust: Trust,
    key: SigningKey,
) -> Signed {
    let json = bundle.to_json();
    let s = Signed {
        what,
        json,
        bundle,
        manifest,
        trust,
        key,
    };
    assert!(
        s.verify(&s.json).result.is_ok(),
        "{what}: the unmodified bundle must verify"
    );
    s
}

/// All signed fixtures.
pub fn all() -> [&'static Signed; 3] {
    [p256_chain(), ed25519_key(), rsa_key()]
}
