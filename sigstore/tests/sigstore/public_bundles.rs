//! Real public Sigstore bundles, verified offline: bundles made on the
//! public-good instance (GitHub Actions, GitLab) and on staging, from the
//! pypi-attestations 0.0.31 sdist, and sigstore-python 4.5.1's copies of
//! the production and staging trusted roots (`.ci/deps/sigstore-assets.sh`
//! fetches both from PyPI, pinned by hash).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use modelseal_manifest::{AnyBundle, VerificationMaterial};
use modelseal_sigstore::{ContentRef, Signed, SignerRef};
use modelseal_sigstore::{Error, KeylessIdentity, Matcher, TlogError, TrustedRoot};
use serde_json::{Value, json};
use x509_parser::prelude::{FromDer as _, X509Certificate};

fn assets() -> PathBuf {
    let dir = std::env::var_os("MODELSEAL_SIGSTORE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.sigstore-assets"));
    assert!(
        dir.join(".complete").exists(),
        "Sigstore test assets missing in {}: run `bash .ci/deps/sigstore-assets.sh` (test.sh does)",
        dir.display()
    );
    dir
}

/// A PEP 740 attestation (PyPI) as the Sigstore bundle it was made from.
fn bundle_of(v: Value) -> Value {
    if v.get("mediaType").is_some() {
        return v;
    }
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": v["verification_material"]["certificate"]},
            "tlogEntries": v["verification_material"]["transparency_entries"]
        },
        "dsseEnvelope": {"payload": v["envelope"]["statement"], "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": v["envelope"]["signature"]}]}
    })
}

struct Checked {
    integrated_time: i64,
    ct_log: String,
    identity: modelseal_sigstore::CertIdentity,
}

/// Every Sigstore check this crate makes (the chain is the verifier's).
fn check(file: &str, root: &TrustedRoot) -> Result<Checked, Error> {
    let raw: Value = serde_json::from_slice(
        &std::fs::read(assets().join("pypi-attestations").join(file)).unwrap(),
    )
    .unwrap();
    let AnyBundle::Dsse(b) =
        AnyBundle::from_json(&serde_json::to_vec(&bundle_of(raw)).unwrap()).unwrap()
    else {
        panic!("{file}: not a DSSE bundle")
    };
    let VerificationMaterial::Certificates(certs) = &b.material else {
        panic!("{file}: no certificate")
    };
    let leaf = &certs[0];
    let signed = Signed {
        signer: SignerRef::Certificate(leaf),
        content: ContentRef::Dsse {
            payload_type: &b.envelope.payload_type,
            payload: &b.envelope.payload,
            signature: &b.envelope.signature,
        },
    };
    let entry =
        modelseal_sigstore::verify_entry(0, &b.evidence.tlog_entries[0], b.version, &signed, root)?;
    let t = entry.integrated_time.expect("a SET-backed time");
    let ca = root
        .cas_at(t)
        .find(|ca| ca.chain.len() > 1)
        .expect("a Fulcio CA at the time");
    let (_, issuer) = X509Certificate::from_der(&ca.chain[0]).unwrap();
    let sct = modelseal_sigstore::verify_sct(leaf, issuer.public_key().raw, root)?;
    Ok(Checked {
        integrated_time: t,
        ct_log: sct.log,
        identity: modelseal_sigstore::fulcio_identity(leaf)?,
    })
}

#[test]
fn public_good_bundles_verify_offline() {
    let root = TrustedRoot::public_good().unwrap();
    for (file, identity, issuer) in [
        (
            "pypi_attestation_models-0.0.4a2.tar.gz.sigstore",
            "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2",
            "https://token.actions.githubusercontent.com",
        ),
        (
            "pypi_attestations-0.0.19.tar.gz.publish.attestation",
            "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
            "https://token.actions.githubusercontent.com",
        ),
        (
            "gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
            "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
            "https://gitlab.com",
        ),
    ] {
        let c = check(file, &root).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(c.integrated_time > 1_700_000_000, "{file}");
        assert!(
            c.ct_log.contains("ctfe.sigstore.dev"),
            "{file}: {}",
            c.ct_log
        );
        let want = KeylessIdentity {
            issuer: Matcher::Exact(issuer.into()),
            identity: Matcher::Exact(identity.into()),
        };
        assert!(
            modelseal_sigstore::check_identity(&c.identity, &[want]).is_ok(),
            "{file}: {}",
            c.identity
        );
        let other = KeylessIdentity {
            issuer: Matcher::Exact(issuer.into()),
            identity: Matcher::regex("https://github\\.com/evil/.*").unwrap(),
        };
        assert!(modelseal_sigstore::check_identity(&c.identity, &[other]).is_err());
    }
}

#[test]
fn a_staging_bundle_needs_the_staging_root() {
    let file = "rfc8785-0.1.2-py3-none-any.whl.sigstore";
    let public = TrustedRoot::public_good().unwrap();
    match check(file, &public) {
        Err(Error::Tlog {
            reason: TlogError::UnknownLog { .. },
            ..
        }) => {}
        other => panic!(
            "staging bundle against production: {:?}",
            other.map(|c| c.ct_log)
        ),
    }
    let staging = std::fs::read(assets().join("roots/staging.json")).unwrap();
    let staging = TrustedRoot::from_json(&staging, "staging").unwrap();
    let c = check(file, &staging).unwrap();
    assert_eq!(c.identity.issuer, "https://github.com/login/oauth");
    assert_eq!(c.identity.sans, ["william@yossarian.net"]);
    // The production root shipped by sigstore-python is the one built in.
    let production = std::fs::read(assets().join("roots/production.json")).unwrap();
    let production = TrustedRoot::from_json(&production, "production").unwrap();
    assert_eq!(production.tlogs.len(), public.tlogs.len());
    assert!(
        production
            .tlogs
            .iter()
            .zip(&public.tlogs)
            .all(|(a, b)| a.log_id == b.log_id)
    );
}

#[test]
fn a_tampered_real_entry_fails() {
    let root = TrustedRoot::public_good().unwrap();
    let path = assets().join("pypi-attestations/pypi_attestation_models-0.0.4a2.tar.gz.sigstore");
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let t: i64 = v["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    v["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = (t + 1).to_string().into();
    let b = AnyBundle::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
    let AnyBundle::Dsse(b) = b else { panic!() };
    let VerificationMaterial::Certificates(certs) = &b.material else {
        panic!()
    };
    let signed = Signed {
        signer: SignerRef::Certificate(&certs[0]),
        content: ContentRef::Dsse {
            payload_type: &b.envelope.payload_type,
            payload: &b.envelope.payload,
            signature: &b.envelope.signature,
        },
    };
    let r =
        modelseal_sigstore::verify_entry(0, &b.evidence.tlog_entries[0], b.version, &signed, &root);
    assert!(
        matches!(
            r,
            Err(Error::Tlog {
                reason: TlogError::BadSet,
                ..
            })
        ),
        "{r:?}"
    );
    let _ = B64.encode([0u8]);
}
