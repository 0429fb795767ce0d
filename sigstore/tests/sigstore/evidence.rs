//! Sigstore evidence against a private instance made in the test: SCTs,
//! Rekor v1 and v2 entries, checkpoints, Fulcio identities; every failure
//! the issue lists that this crate decides.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::instance;
use crate::instance::{IDENTITY, ISSUER, Instance, LeafSpec, T0};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use modelseal_manifest::BundleVersion;
use modelseal_sigstore::{
    BodyError, Error, IdentityError, SctError, SctRefusal, TlogError, TrustedRoot,
};
use modelseal_sigstore::{ContentRef, Signed, SignerRef};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

fn root_of(v: &Value) -> TrustedRoot {
    TrustedRoot::from_json(&serde_json::to_vec(v).unwrap(), "test").unwrap()
}

fn tlog_reason(r: Result<modelseal_sigstore::VerifiedEntry, Error>) -> TlogError {
    match r {
        Err(Error::Tlog { reason, .. }) => reason,
        other => panic!("expected a tlog rejection, got {other:?}"),
    }
}

#[test]
fn scts_verify_against_the_ct_log_and_fail_otherwise() {
    let mut inst = Instance::new();
    let root = root_of(&inst.trusted_root());
    let inter_spki = {
        use x509_parser::prelude::{FromDer as _, X509Certificate};
        let (_, c) = X509Certificate::from_der(&inst.inter_der).unwrap();
        c.public_key().raw.to_vec()
    };
    let leaf = inst.leaf(&LeafSpec::default());
    let ok = modelseal_sigstore::verify_sct(&leaf.der, &inter_spki, &root).unwrap();
    assert_eq!(ok.log, "https://ct.test.example");
    assert_eq!(ok.timestamp_ms, (T0 as u64) * 1000 + 1500);

    // Another issuer key: the precertificate's issuer hash differs.
    assert!(matches!(
        modelseal_sigstore::verify_sct(&leaf.der, &leaf.key_spki(), &root),
        Err(SctError::NoneValid(why))
            if why == [SctRefusal::BadSignature { log: "https://ct.test.example".into() }]
    ));
    // An SCT signed by another key than the CT log's.
    let forged = inst.leaf(&LeafSpec {
        sct_wrong_key: true,
        ..LeafSpec::default()
    });
    assert!(matches!(
        modelseal_sigstore::verify_sct(&forged.der, &inter_spki, &root),
        Err(SctError::NoneValid(why))
            if why == [SctRefusal::BadSignature { log: "https://ct.test.example".into() }]
    ));
    // No SCT at all.
    let bare = inst.leaf(&LeafSpec {
        sct: false,
        ..LeafSpec::default()
    });
    assert!(matches!(
        modelseal_sigstore::verify_sct(&bare.der, &inter_spki, &root),
        Err(SctError::Missing)
    ));
    // The CT log is not in the root, or its key was not valid then.
    let mut v = inst.trusted_root();
    v["ctlogs"] = serde_json::json!([]);
    assert!(matches!(
        modelseal_sigstore::verify_sct(&leaf.der, &inter_spki, &root_of(&v)),
        Err(SctError::NoneValid(why)) if why == [SctRefusal::UntrustedLog]
    ));
    let mut v = inst.trusted_root();
    v["ctlogs"][0]["publicKey"]["validFor"]["start"] = "2026-01-01T00:00:00Z".into();
    assert!(matches!(
        modelseal_sigstore::verify_sct(&leaf.der, &inter_spki, &root_of(&v)),
        Err(SctError::NoneValid(why))
            if why == [SctRefusal::KeyNotValid { log: "https://ct.test.example".into() }]
    ));
    assert!(matches!(
        modelseal_sigstore::verify_sct(b"not a certificate", &inter_spki, &root),
        Err(SctError::Malformed(_))
    ));
}

trait KeySpki {
    fn key_spki(&self) -> Vec<u8>;
}

impl KeySpki for instance::Leaf {
    fn key_spki(&self) -> Vec<u8> {
        use rcgen::PublicKeyData as _;
        self.key.subject_public_key_info()
    }
}

#[test]
fn fulcio_identity_reads_both_issuer_extensions() {
    let mut inst = Instance::new();
    let both = inst.leaf(&LeafSpec::default());
    let id = modelseal_sigstore::fulcio_identity(&both.der).unwrap();
    assert_eq!(id.issuer, ISSUER);
    assert_eq!(id.sans, [IDENTITY]);
    for (v1, v2) in [(Some(ISSUER), None), (None, Some(ISSUER))] {
        let leaf = inst.leaf(&LeafSpec {
            issuer_v1: v1.map(Into::into),
            issuer_v2: v2.map(Into::into),
            ..LeafSpec::default()
        });
        assert_eq!(
            modelseal_sigstore::fulcio_identity(&leaf.der)
                .unwrap()
                .issuer,
            ISSUER
        );
    }
    let none = inst.leaf(&LeafSpec {
        issuer_v1: None,
        issuer_v2: None,
        ..LeafSpec::default()
    });
    assert!(matches!(
        modelseal_sigstore::fulcio_identity(&none.der),
        Err(Error::Identity(IdentityError::NoIssuer))
    ));
    let conflict = inst.leaf(&LeafSpec {
        issuer_v1: Some("https://a.example".into()),
        ..LeafSpec::default()
    });
    assert!(matches!(
        modelseal_sigstore::fulcio_identity(&conflict.der),
        Err(Error::Identity(IdentityError::IssuerConflict))
    ));
    let email = inst.leaf(&LeafSpec {
        identity: "dev@test.example".into(),
        ..LeafSpec::default()
    });
    assert_eq!(
        modelseal_sigstore::fulcio_identity(&email.der)
            .unwrap()
            .sans,
        ["dev@test.example"]
    );
}

struct Case {
    inst: Instance,
    leaf: instance::Leaf,
    payload: Vec<u8>,
    sig: Vec<u8>,
}

impl Case {
    fn new() -> Case {
        let mut inst = Instance::new();
        let leaf = inst.leaf(&LeafSpec::default());
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#.to_vec();
        let sig = leaf.sign(&modelseal_manifest::pae(
            "application/vnd.in-toto+json",
            &payload,
        ));
        Case {
            inst,
            leaf,
            payload,
            sig,
        }
    }

    fn signed(&self) -> Signed<'_> {
        Signed {
            signer: SignerRef::Certificate(&self.leaf.der),
            content: ContentRef::Dsse {
                payload_type: "application/vnd.in-toto+json",
                payload: &self.payload,
                signature: &self.sig,
            },
        }
    }

    fn verify(
        &self,
        entry: &Value,
        version: BundleVersion,
    ) -> Result<modelseal_sigstore::VerifiedEntry, Error> {
        let root = root_of(&self.inst.trusted_root());
        modelseal_sigstore::verify_entry(0, &instance::entry(entry), version, &self.signed(), &root)
    }
}

#[test]
fn rekor_v1_dsse_entry_verifies_and_every_tamper_fails() {
    let mut c = Case::new();
    let body = instance::dsse_v1(&c.leaf.pem(), &c.sig, &c.payload);
    let e = c.inst.log_v1(&body, "dsse", "0.0.1", T0 + 60);
    let ok = c.verify(&e, BundleVersion::V0_3).unwrap();
    assert_eq!(ok.integrated_time, Some(T0 + 60));
    assert!(!ok.rekor_v2);
    assert_eq!(ok.checkpoint_size, Some(c.inst.rekor.tree.size()));

    // Tampered SET: the integrated time moved.
    let mut bad = e.clone();
    bad["integratedTime"] = (T0 + 61).to_string().into();
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::BadSet
    ));
    let mut bad = e.clone();
    bad["inclusionPromise"]["signedEntryTimestamp"] =
        B64.encode([0x30, 0x06, 2, 1, 1, 2, 1, 1]).into();
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::BadSet
    ));
    // Broken inclusion proof.
    let mut bad = e.clone();
    bad["inclusionProof"]["hashes"][0] = B64.encode([7u8; 32]).into();
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::BadProof(_)
    ));
    let mut bad = e.clone();
    bad["inclusionProof"]["logIndex"] = "0".into();
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::BadProof(_)
    ));
    // A checkpoint signed by another key.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let t = &c.inst.rekor.tree;
    let forged =
        c.inst
            .rekor
            .checkpoint_with(t.size(), &t.root(), &other, &c.inst.rekor.log_id, "");
    let mut bad = e.clone();
    bad["inclusionProof"]["checkpoint"]["envelope"] = forged.into();
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::CheckpointSignature
    ));
    // A genuinely signed checkpoint for another root hash or size.
    let wrong_root = c.inst.rekor.checkpoint_with(
        t.size(),
        &[9u8; 32],
        &c.inst.rekor.key,
        &c.inst.rekor.log_id,
        "",
    );
    let mut bad = e.clone();
    bad["inclusionProof"]["checkpoint"]["envelope"] = wrong_root.into();
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::CheckpointMismatch("root hash")
    ));
    let wrong_size = c.inst.rekor.checkpoint_with(
        t.size() + 1,
        &t.root(),
        &c.inst.rekor.key,
        &c.inst.rekor.log_id,
        "",
    );
    let mut bad = e.clone();
    bad["inclusionProof"]["checkpoint"]["envelope"] = wrong_size.into();
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::CheckpointMismatch("tree size")
    ));
    // No checkpoint, no proof, no SET where required.
    let mut bad = e.clone();
    bad["inclusionProof"]
        .as_object_mut()
        .unwrap()
        .remove("checkpoint");
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::MissingCheckpoint
    ));
    let mut bad = e.clone();
    bad.as_object_mut().unwrap().remove("inclusionProof");
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_2)),
        TlogError::MissingProof
    ));
    assert!(
        c.verify(&bad, BundleVersion::V0_1).is_ok(),
        "v0.1: the SET suffices"
    );
    let mut bad = e.clone();
    bad.as_object_mut().unwrap().remove("inclusionPromise");
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_1)),
        TlogError::MissingSet
    ));
    let no_set = c.verify(&bad, BundleVersion::V0_3).unwrap();
    assert_eq!(
        no_set.integrated_time, None,
        "an unsigned integrated time is not a verified time"
    );
    // An unknown log; the log's key not valid at the integrated time.
    let mut bad = e.clone();
    bad["logId"]["keyId"] = B64.encode([1u8; 32]).into();
    assert!(matches!(
        tlog_reason(c.verify(&bad, BundleVersion::V0_3)),
        TlogError::UnknownLog { .. }
    ));
    let mut v = c.inst.trusted_root();
    v["tlogs"][0]["publicKey"]["validFor"]["end"] = "2025-01-01T00:00:00Z".into();
    let r = modelseal_sigstore::verify_entry(
        0,
        &instance::entry(&e),
        BundleVersion::V0_3,
        &c.signed(),
        &root_of(&v),
    );
    assert!(matches!(tlog_reason(r), TlogError::LogKeyNotValid { .. }));
}

#[test]
fn rekor_v1_bodies_must_record_the_bundles_signature() {
    let mut c = Case::new();
    let other = c.inst.leaf(&LeafSpec::default());
    let other_sig = other.sign(b"x");
    for (body, what) in [
        (
            instance::dsse_v1(&other.pem(), &c.sig, &c.payload),
            "signer",
        ),
        (
            instance::dsse_v1(&c.leaf.pem(), &other_sig, &c.payload),
            "signature",
        ),
        (
            instance::dsse_v1(&c.leaf.pem(), &c.sig, b"another payload"),
            "payload hash",
        ),
        (
            instance::intoto_v2(&c.leaf.pem(), &other_sig, &c.payload),
            "signature",
        ),
    ] {
        let kind = if what == "signature" && body.starts_with(br#"{"apiVersion":"0.0.2""#) {
            "intoto"
        } else {
            "dsse"
        };
        let version = if kind == "intoto" { "0.0.2" } else { "0.0.1" };
        let e = c.inst.log_v1(&body, kind, version, T0 + 60);
        match tlog_reason(c.verify(&e, BundleVersion::V0_3)) {
            TlogError::BodyMismatch(w) => assert_eq!(w, what),
            other => panic!("{what}: {other:?}"),
        }
    }
    // intoto 0.0.2 with the right signature verifies.
    let body = instance::intoto_v2(&c.leaf.pem(), &c.sig, &c.payload);
    let e = c.inst.log_v1(&body, "intoto", "0.0.2", T0 + 60);
    assert!(c.verify(&e, BundleVersion::V0_3).is_ok());
    // A hashedrekord entry cannot vouch for a DSSE envelope.
    let body = instance::hashedrekord_v1(&c.leaf.pem(), &c.sig, &Sha256::digest(&c.payload));
    let e = c.inst.log_v1(&body, "hashedrekord", "0.0.1", T0 + 60);
    assert!(matches!(
        tlog_reason(c.verify(&e, BundleVersion::V0_3)),
        TlogError::KindMismatch { .. }
    ));
    // The entry's kind must be the body's.
    let body = instance::dsse_v1(&c.leaf.pem(), &c.sig, &c.payload);
    let e = c.inst.log_v1(&body, "intoto", "0.0.2", T0 + 60);
    assert!(matches!(
        tlog_reason(c.verify(&e, BundleVersion::V0_3)),
        TlogError::MalformedBody(BodyError::KindDiffers { body, entry })
            if body == "dsse 0.0.1" && entry == "intoto 0.0.2"
    ));
}

#[test]
fn rekor_v1_hashedrekord_for_message_signatures() {
    let mut inst = Instance::new();
    let leaf = inst.leaf(&LeafSpec::default());
    let artifact = b"model weights";
    let digest = Sha256::digest(artifact);
    let sig = leaf.sign(artifact);
    let body = instance::hashedrekord_v1(&leaf.pem(), &sig, &digest);
    let e = inst.log_v1(&body, "hashedrekord", "0.0.1", T0 + 5);
    let root = root_of(&inst.trusted_root());
    let signed = |d: &'_ [u8]| -> modelseal_sigstore::VerifiedEntry {
        let s = Signed {
            signer: SignerRef::Certificate(&leaf.der),
            content: ContentRef::Message {
                digest: d,
                signature: &sig,
            },
        };
        modelseal_sigstore::verify_entry(0, &instance::entry(&e), BundleVersion::V0_3, &s, &root)
            .unwrap()
    };
    assert_eq!(signed(&digest).integrated_time, Some(T0 + 5));
    let s = Signed {
        signer: SignerRef::Certificate(&leaf.der),
        content: ContentRef::Message {
            digest: &[0u8; 32],
            signature: &sig,
        },
    };
    let r =
        modelseal_sigstore::verify_entry(0, &instance::entry(&e), BundleVersion::V0_3, &s, &root);
    assert!(matches!(
        tlog_reason(r),
        TlogError::BodyMismatch("artifact digest")
    ));
}

#[test]
fn rekor_v2_needs_proof_and_checkpoint_and_ignores_cosignatures() {
    let mut c = Case::new();
    let body = instance::dsse_v2(&c.leaf.der, &c.sig, &c.payload);
    let e = c.inst.log_v2(&body, "dsse");
    let ok = c.verify(&e, BundleVersion::V0_3).unwrap();
    assert!(ok.rekor_v2);
    assert_eq!(ok.integrated_time, None);

    // A witness cosignature on the checkpoint is ignored.
    let witness = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let t = &c.inst.rekor2.tree;
    let wsig = {
        use rcgen::SigningKey as _;
        let body = format!(
            "{}\n{}\n{}\n",
            c.inst.rekor2.origin,
            t.size(),
            B64.encode(t.root())
        );
        B64.encode([&[9u8, 9, 9, 9][..], &witness.sign(body.as_bytes()).unwrap()].concat())
    };
    let cosigned = c.inst.rekor2.checkpoint_with(
        t.size(),
        &t.root(),
        &c.inst.rekor2.key,
        &c.inst.rekor2.log_id,
        &format!("\u{2014} witness.example {wsig}\n"),
    );
    let mut v = e.clone();
    v["inclusionProof"]["checkpoint"]["envelope"] = cosigned.into();
    assert!(c.verify(&v, BundleVersion::V0_3).is_ok());
    // Only a witness signature: not signed by the log.
    let only_witness =
        c.inst
            .rekor2
            .checkpoint_with(t.size(), &t.root(), &witness, &[9, 9, 9, 9], "");
    let mut v = e.clone();
    v["inclusionProof"]["checkpoint"]["envelope"] = only_witness.into();
    assert!(matches!(
        tlog_reason(c.verify(&v, BundleVersion::V0_3)),
        TlogError::CheckpointSignature
    ));

    let mut v = e.clone();
    v["inclusionProof"]
        .as_object_mut()
        .unwrap()
        .remove("checkpoint");
    assert!(matches!(
        tlog_reason(c.verify(&v, BundleVersion::V0_3)),
        TlogError::MissingCheckpoint
    ));
    let mut v = e.clone();
    v.as_object_mut().unwrap().remove("inclusionProof");
    assert!(matches!(
        tlog_reason(c.verify(&v, BundleVersion::V0_3)),
        TlogError::MissingProof
    ));
    let mut v = e.clone();
    v["integratedTime"] = "5".into();
    assert!(matches!(
        tlog_reason(c.verify(&v, BundleVersion::V0_3)),
        TlogError::Unexpected(_)
    ));
    let mut v = e.clone();
    v["inclusionPromise"] = serde_json::json!({"signedEntryTimestamp": "AAAA"});
    assert!(matches!(
        tlog_reason(c.verify(&v, BundleVersion::V0_3)),
        TlogError::Unexpected(_)
    ));
    // Another certificate in the body.
    let other = c.inst.leaf(&LeafSpec::default());
    let body = instance::dsse_v2(&other.der, &c.sig, &c.payload);
    let e = c.inst.log_v2(&body, "dsse");
    assert!(matches!(
        tlog_reason(c.verify(&e, BundleVersion::V0_3)),
        TlogError::BodyMismatch("signer")
    ));
}

#[test]
fn a_staging_bundle_is_unknown_to_the_public_good_root() {
    let mut c = Case::new();
    let body = instance::dsse_v1(&c.leaf.pem(), &c.sig, &c.payload);
    let e = c.inst.log_v1(&body, "dsse", "0.0.1", T0 + 60);
    let public = TrustedRoot::public_good().unwrap();
    let r = modelseal_sigstore::verify_entry(
        0,
        &instance::entry(&e),
        BundleVersion::V0_3,
        &c.signed(),
        &public,
    );
    assert!(matches!(tlog_reason(r), TlogError::UnknownLog { .. }));
}
