//! `modelseal_verifier::verify_checksums` and `modelseal_verifier::verify_detached_file` against the fixtures
//! written by sha256sum/sha512sum/openssl (fixtures/checksums/gen.sh):
//! exact error variants and report statuses.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use modelseal_manifest::HashOptions;
use modelseal_manifest::{
    ChecksumsError, HashAlgorithm, KeyKind, ModelError, PathError, ResourceKey, ResourcePath,
};
use modelseal_manifest::{DetachedPadding, DetachedScheme, MessageHash, SchemeError};
use modelseal_verifier::{
    CheckName, Error, PublicKey, SignatureError, Status, Trust, TrustAnchors,
};
use modelseal_verifier::{ChecksumsOptions, ChecksumsOutcome, Guarantee};
use modelseal_verifier::{DetachedOptions, IdentityRequirement};

const DEMO_SUBJECT: &str = "aa6efb8aebb149dc7e82761d0b9a6f39ba4a994d6516474a817690885d4b8eec";

use modelseal_testkit::fixture;

fn demo() -> PathBuf {
    fixture("models/demo")
}

fn public(name: &str) -> Trust {
    let pem = std::fs::read(fixture(&format!("keys/{name}.pub.pem"))).unwrap();
    Trust::PublicKey(PublicKey::from_pem(&pem).unwrap())
}

fn key_opts(trust: &Trust, scheme: DetachedScheme) -> DetachedOptions<'_> {
    DetachedOptions {
        trust,
        certificates: &[],
        identity: IdentityRequirement::Any,
        time: SystemTime::now(),
        scheme,
    }
}

fn run(
    model: &Path,
    sums: &str,
    signature: Option<(&[u8], &DetachedOptions<'_>)>,
    also_hash: Option<HashAlgorithm>,
) -> ChecksumsOutcome {
    let path = fixture(&format!("checksums/{sums}"));
    let bytes = modelseal_verifier::read_checksums_default(&path).unwrap();
    modelseal_verifier::verify_checksums(
        model,
        &bytes,
        &ChecksumsOptions {
            checksums_file: &path,
            signature,
            also_ignore: &[],
            also_hash,
            hash: HashOptions::default(),
        },
    )
}

fn status(o: &ChecksumsOutcome, name: CheckName) -> Status {
    o.report.status(name).unwrap()
}

fn key(name: &str) -> ResourceKey {
    ResourceKey::file(ResourcePath::new(name).unwrap())
}

#[test]
fn unsigned_checksums_verify_as_integrity_only() {
    let o = run(&demo(), "demo.sha256", None, None);
    let v = o.result.as_ref().unwrap();
    assert_eq!(v.guarantee(), Guarantee::IntegrityOnly);
    assert_eq!(
        v.guarantee().describe(),
        "integrity only (checksums, no signature)"
    );
    assert!(v.signed_by().is_none());
    assert_eq!(v.manifest().len(), 7);
    assert_eq!(v.bytes(), 287_561);
    assert_eq!(v.manifest().subject_digest().to_hex(), DEMO_SUBJECT);
    assert!(v.also().is_none());
    assert_eq!(status(&o, CheckName::Trust), Status::Skipped);
    assert_eq!(status(&o, CheckName::Signature), Status::Skipped);
    for c in [CheckName::Checksums, CheckName::Files, CheckName::Digests] {
        assert_eq!(status(&o, c), Status::Pass, "{c:?}");
    }
    assert_eq!(
        o.report.checks.len(),
        modelseal_verifier::CHECKSUMS_CHECKS.len()
    );
}

#[test]
fn sha512_checksums_give_the_sha256_manifest_from_the_same_pass() {
    let o = run(&demo(), "demo.sha512", None, Some(HashAlgorithm::Sha256));
    let v = o.result.unwrap();
    assert_eq!(v.manifest().serialization().hash, HashAlgorithm::Sha512);
    let also = v.also().unwrap();
    assert_eq!(also.serialization().hash, HashAlgorithm::Sha256);
    assert_eq!(also.subject_digest().to_hex(), DEMO_SUBJECT);
    // The ignore list is recorded as for bundles.
    let ignored: Vec<_> = also
        .serialization()
        .ignore_paths
        .iter()
        .map(ResourcePath::as_str)
        .collect();
    assert_eq!(ignored, [".git", ".gitattributes", ".github", ".gitignore"]);
}

#[test]
fn mismatches_are_rejections_with_the_file_named() {
    let o = run(&demo(), "bad-missing-file.sha256", None, None);
    match &o.result {
        Err(e @ Error::ChecksumsMismatch(d)) => {
            assert_eq!(d.extra, [key("weights/model-00002-of-00002.safetensors")]);
            assert!(d.missing.is_empty() && d.changed.is_empty());
            assert!(e.is_rejection());
            // The kind names the failing check: files, not digests.
            assert_eq!(e.kind(), "files_mismatch");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(status(&o, CheckName::Files), Status::Fail);
    assert_eq!(status(&o, CheckName::Digests), Status::NotRun);

    let o = run(&demo(), "bad-lists-absent.sha256", None, None);
    assert!(matches!(&o.result, Err(Error::ChecksumsMismatch(d))
        if d.missing == [key("weights/model-00003-of-00003.safetensors")]));

    let o = run(&demo(), "bad-changed-digest.sha256", None, None);
    assert!(matches!(&o.result, Err(Error::ChecksumsMismatch(d))
        if d.changed == [key("model.safetensors")]));
    assert_eq!(status(&o, CheckName::Files), Status::Pass);
    assert_eq!(status(&o, CheckName::Digests), Status::Fail);
}

#[test]
fn malformed_checksums_are_errors_not_rejections() {
    let o = run(&demo(), "bad-dotdot.sha256", None, None);
    match &o.result {
        Err(
            e @ Error::Checksums(ChecksumsError::BadName {
                line: 8,
                source: PathError::BadComponent { .. },
                ..
            }),
        ) => {
            assert!(!e.is_rejection());
            assert_eq!(e.kind(), "malformed_checksums");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(status(&o, CheckName::Checksums), Status::Fail);
    assert_eq!(status(&o, CheckName::Files), Status::NotRun);
    assert!(matches!(
        run(&demo(), "bad-absolute.sha256", None, None).result,
        Err(Error::Checksums(ChecksumsError::BadName {
            source: PathError::Absolute { .. },
            ..
        }))
    ));
    assert!(matches!(
        run(&demo(), "bad-duplicate.sha256", None, None).result,
        Err(Error::Checksums(ChecksumsError::Duplicate {
            line: 8,
            first_line: 1,
            ..
        }))
    ));
}

#[test]
fn oversized_checksums_files_are_refused_unread() {
    let path = fixture("checksums/demo.sha256");
    let err = modelseal_verifier::read_checksums(&path, 100).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Checksums(ChecksumsError::TooLarge {
                size: 101,
                limit: 100
            })
        ),
        "{err}"
    );
    assert!(!err.is_rejection());
    assert!(matches!(
        modelseal_verifier::read_checksums(&fixture("checksums/absent"), 100),
        Err(Error::Read { .. })
    ));
}

#[test]
fn signed_checksums_for_every_key_type() {
    for (sig, name, scheme) in [
        (
            "demo.sha256.rsa-pkcs1.sig",
            "rsa3072",
            DetachedScheme::default(),
        ),
        (
            "demo.sha256.rsa-pss.sig",
            "rsa3072",
            DetachedScheme {
                digest: None,
                rsa_padding: Some(DetachedPadding::Pss),
            },
        ),
        (
            "demo.sha256.rsa-pkcs1-sha512.sig",
            "rsa3072",
            DetachedScheme {
                digest: Some(MessageHash::Sha512),
                rsa_padding: None,
            },
        ),
        ("demo.sha256.p256.sig", "p256", DetachedScheme::default()),
        ("demo.sha256.p384.sig", "p384", DetachedScheme::default()),
        (
            "demo.sha256.ed25519.sig",
            "ed25519",
            DetachedScheme::default(),
        ),
    ] {
        let trust = public(name);
        let opts = key_opts(&trust, scheme);
        let sig =
            modelseal_verifier::read_signature(&fixture(&format!("checksums/{sig}"))).unwrap();
        let o = run(&demo(), "demo.sha256", Some((&sig, &opts)), None);
        let v = o.result.unwrap_or_else(|e| panic!("{sig:?}: {e}"));
        assert_eq!(v.guarantee(), Guarantee::SignedChecksums);
        assert_eq!(v.guarantee().as_str(), "authenticity");
        assert_eq!(
            v.signed_by().unwrap().algorithm(),
            scheme.algorithm(trust_kind(&trust)).unwrap()
        );
    }
}

fn trust_kind(t: &Trust) -> KeyKind {
    match t {
        Trust::PublicKey(k) => k.key_kind(),
        _ => panic!("key mode only"),
    }
}

#[test]
fn a_bad_signature_stops_before_the_checksums_are_parsed() {
    let trust = public("rsa3072");
    let opts = key_opts(&trust, DetachedScheme::default());
    for sig in ["demo.sha256.wrong-key.sig", "demo.sha256.rsa-pss.sig"] {
        let sig =
            modelseal_verifier::read_signature(&fixture(&format!("checksums/{sig}"))).unwrap();
        let o = run(&demo(), "demo.sha256", Some((&sig, &opts)), None);
        assert!(matches!(
            o.result,
            Err(Error::Signature(SignatureError::InvalidSignature))
        ));
        assert_eq!(status(&o, CheckName::Trust), Status::Pass);
        assert_eq!(status(&o, CheckName::Signature), Status::Fail);
        assert_eq!(status(&o, CheckName::Checksums), Status::NotRun);
    }
    // The options must fit the key.
    let trust = public("p384");
    let opts = key_opts(
        &trust,
        DetachedScheme {
            digest: Some(MessageHash::Sha256),
            rsa_padding: None,
        },
    );
    let sig =
        modelseal_verifier::read_signature(&fixture("checksums/demo.sha256.p384.sig")).unwrap();
    let o = run(&demo(), "demo.sha256", Some((&sig, &opts)), None);
    assert!(matches!(
        o.result,
        Err(Error::Scheme(SchemeError::DigestMismatch {
            key: KeyKind::EcP384,
            digest: MessageHash::Sha256,
            required: MessageHash::Sha384
        }))
    ));
}

#[test]
fn certificate_mode_needs_the_leaf_and_a_trusted_root() {
    let root = std::fs::read(fixture("pki/p256/root.pem")).unwrap();
    let trust = Trust::Roots(TrustAnchors::from_pem(&root).unwrap());
    let chain = modelseal_verifier::certificates_from_pem(
        &std::fs::read(fixture("pki/p256/fullchain.pem")).unwrap(),
    )
    .unwrap();
    let sig =
        modelseal_verifier::read_signature(&fixture("checksums/demo.sha256.pki-p256.sig")).unwrap();
    let mut opts = key_opts(&trust, DetachedScheme::default());
    opts.certificates = &chain;
    let v = run(&demo(), "demo.sha256", Some((&sig, &opts)), None)
        .result
        .unwrap();
    let leaf = v.signed_by().unwrap().signer().leaf().unwrap();
    assert_eq!(
        leaf.subject.to_string(),
        "CN=modelseal test release signer A,OU=P-256,O=modelseal test PKI - NOT FOR PRODUCTION"
    );

    opts.certificates = &[];
    assert!(matches!(
        run(&demo(), "demo.sha256", Some((&sig, &opts)), None).result,
        Err(Error::Config(_))
    ));
}

#[test]
fn one_file_models_and_symlinks() {
    let d = tempfile::tempdir().unwrap();
    let weights = d.path().join("model.safetensors");
    std::fs::copy(fixture("models/demo/model.safetensors"), &weights).unwrap();
    // Listed relative to the checksums file's directory: fixtures/checksums.
    let o = run(&weights, "demo.sha256", None, None);
    assert!(matches!(o.result, Err(Error::NotListed { ref path }) if *path == weights));
    assert!(o.result.as_ref().unwrap_err().is_rejection());

    // A directory model with a symlink is refused as for bundles.
    let model = d.path().join("m");
    std::fs::create_dir(&model).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(demo().join(f), model.join(f)).unwrap();
    }
    std::os::unix::fs::symlink("config.json", model.join("generation_config.json")).unwrap();
    let o = run(&model, "demo.sha256", None, None);
    assert!(matches!(
        o.result,
        Err(Error::Model(ModelError::Symlink { .. }))
    ));
}

#[test]
fn raw_signature_over_one_file() {
    let file = fixture("models/demo/model.safetensors");
    for (sig, name, scheme) in [
        (
            "model.safetensors.rsa-pkcs1.sig",
            "rsa3072",
            DetachedScheme::default(),
        ),
        (
            "model.safetensors.rsa-pss-sha384.sig",
            "rsa3072",
            DetachedScheme {
                digest: Some(MessageHash::Sha384),
                rsa_padding: Some(DetachedPadding::Pss),
            },
        ),
        (
            "model.safetensors.p256.sig",
            "p256",
            DetachedScheme::default(),
        ),
        (
            "model.safetensors.p384.sig",
            "p384",
            DetachedScheme::default(),
        ),
        (
            "model.safetensors.ed25519.sig",
            "ed25519",
            DetachedScheme::default(),
        ),
    ] {
        let trust = public(name);
        let sig_bytes =
            modelseal_verifier::read_signature(&fixture(&format!("checksums/{sig}"))).unwrap();
        let o =
            modelseal_verifier::verify_detached_file(&file, &sig_bytes, &key_opts(&trust, scheme));
        let v = o.result.unwrap_or_else(|e| panic!("{sig}: {e}"));
        assert_eq!(v.bytes(), 262_144, "{sig}");
        assert_eq!(o.report.status(CheckName::Signature), Some(Status::Pass));

        // One bit changed anywhere: invalid.
        let d = tempfile::tempdir().unwrap();
        let copy = d.path().join("w");
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[200_000] ^= 1;
        std::fs::write(&copy, bytes).unwrap();
        let o =
            modelseal_verifier::verify_detached_file(&copy, &sig_bytes, &key_opts(&trust, scheme));
        assert!(
            matches!(
                o.result,
                Err(Error::Signature(SignatureError::InvalidSignature))
            ),
            "{sig}"
        );
    }
    // Base64 text is refused before any crypto.
    assert!(matches!(
        modelseal_verifier::read_signature(&fixture(
            "checksums/model.safetensors.rsa-pkcs1.sig.b64.txt"
        )),
        Err(Error::RawSignature { .. })
    ));
    // A directory is not one file.
    let trust = public("p256");
    let sig = modelseal_verifier::read_signature(&fixture("checksums/model.safetensors.p256.sig"))
        .unwrap();
    let o = modelseal_verifier::verify_detached_file(
        &demo(),
        &sig,
        &key_opts(&trust, DetachedScheme::default()),
    );
    assert!(matches!(o.result, Err(Error::Config(_))));
}
