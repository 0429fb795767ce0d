//! Test helpers shared by the workspace's integration tests (never a
//! dependency of a library or the binary): the committed `fixtures/`, the
//! fixture PKI and keys, small test models, temporary directories.
//!
//! Each helper panics on failure: a test that cannot set up must fail
//! loudly, never skip.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod mutate;
pub mod tsa;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use modelseal_manifest::HashOptions;
use modelseal_manifest::{HashAlgorithm, Method};
use modelseal_signer::{RsaScheme, SignOptions, Signed, SigningKey};
use modelseal_verifier::certificates_from_pem;

pub use tempfile::{TempDir, tempdir};

/// The repository's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A fixture path, e.g. `fixture("pki/p256/root.pem")`.
pub fn fixture(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

/// A fixture file's bytes.
pub fn read_fixture(rel: &str) -> Vec<u8> {
    fs::read(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

/// A fixture path as an absolute string (for policy files written
/// anywhere).
pub fn abs(rel: &str) -> String {
    fs::canonicalize(fixture(rel))
        .unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
        .display()
        .to_string()
}

/// 2030-01-01T00:00:00Z: inside every good fixture certificate's validity.
pub fn t2030() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_893_456_000)
}

/// Recursively copy a file or directory (links are copied as what they
/// point to).
pub fn copy_tree(from: &Path, to: &Path) {
    let meta = fs::symlink_metadata(from).unwrap(); // ok: test setup, a panic fails the test
    if meta.is_dir() {
        fs::create_dir_all(to).unwrap(); // ok: test setup, a panic fails the test
        let entries = fs::read_dir(from).unwrap(); // ok: test setup, a panic fails the test
        for e in entries {
            let e = e.unwrap(); // ok: test setup, a panic fails the test
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        if let Some(p) = to.parent() {
            fs::create_dir_all(p).unwrap(); // ok: test setup, a panic fails the test
        }
        fs::copy(from, to).unwrap(); // ok: test setup, a panic fails the test
    }
}

/// Copy the demo model (`fixtures/models/demo`) to `dir/rel`.
pub fn demo_model(dir: &Path, rel: &str) -> PathBuf {
    let dest = dir.join(rel);
    copy_tree(&fixture("models/demo"), &dest);
    dest
}

/// Write a small three-file model (`config.json`, `weights.bin`,
/// `sub/tokenizer.txt`) at `root`.
pub fn small_model(root: &Path) {
    fs::create_dir_all(root.join("sub")).unwrap(); // ok: test setup, a panic fails the test
    fs::write(root.join("config.json"), b"{\"layers\": 2}").unwrap(); // ok: test setup, a panic fails the test
    let weights: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(root.join("weights.bin"), weights).unwrap(); // ok: test setup, a panic fails the test
    fs::write(root.join("sub/tokenizer.txt"), b"a b c").unwrap(); // ok: test setup, a panic fails the test
}

/// A test key from `fixtures/`, read as bytes (the committed files are
/// 0644, which the CLI's key loading rightly refuses).
pub fn key(rel: &str, scheme: RsaScheme) -> SigningKey {
    SigningKey::from_pem(&read_fixture(rel), None, scheme).unwrap() // ok: test setup, a panic fails the test
}

/// The certificates of fixture PEM files, DER, in order.
pub fn certificates(rels: &[&str]) -> Vec<Vec<u8>> {
    rels.iter()
        .flat_map(|r| certificates_from_pem(&read_fixture(r)).unwrap()) // ok: test setup, a panic fails the test
        .collect()
}

/// Sign `model` (files, SHA-256, one thread) with `key` and `certificates`.
pub fn sign(model: &Path, key: &SigningKey, certificates: &[Vec<u8>]) -> Signed {
    let mut opts = SignOptions::new(key);
    opts.certificates = certificates;
    opts.method = Method::Files;
    opts.hash = HashAlgorithm::Sha256;
    opts.hash_options = HashOptions {
        threads: Some(1),
        ..HashOptions::default()
    };
    modelseal_signer::sign(model, &opts).unwrap() // ok: test setup, a panic fails the test
}

/// Sign `model` with the fixture key `pki/<key>.key` and the chain
/// `pki/<chain>` (leaf first); the bundle JSON.
pub fn sign_with(model: &Path, key_name: &str, chain: &str) -> Vec<u8> {
    let key = key(&format!("pki/{key_name}.key"), RsaScheme::default());
    let certs = certificates(&[&format!("pki/{chain}")]);
    sign(model, &key, &certs).bundle.to_json()
}

/// Flip one bit of a file at `offset` (from the start; negative from the
/// end).
pub fn flip_byte(path: &Path, offset: i64) {
    let mut b = fs::read(path).unwrap(); // ok: test setup, a panic fails the test
    let len = i64::try_from(b.len()).unwrap(); // ok: test setup, a panic fails the test
    let i = usize::try_from(if offset < 0 { len + offset } else { offset }).unwrap(); // ok: test setup, a panic fails the test
    b[i] ^= 0x01;
    fs::write(path, b).unwrap(); // ok: test setup, a panic fails the test
}

/// The real public Sigstore bundles and trusted roots the tests verify
/// offline, fetched from PyPI by `.ci/deps/sigstore-assets.sh` (pinned by
/// hash): `$MODELSEAL_SIGSTORE_ASSETS`, or `.sigstore-assets` at the
/// repository root. Panics, naming the installer, when they are missing.
pub fn sigstore_assets() -> PathBuf {
    let dir = std::env::var_os("MODELSEAL_SIGSTORE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.sigstore-assets"));
    assert!(
        dir.join(".complete").exists(),
        "Sigstore test assets missing in {}: run `bash .ci/deps/sigstore-assets.sh` (test.sh does)",
        dir.display()
    );
    dir
}
