//! A private Sigstore-like instance made at test time: a Fulcio-like CA
//! (root and intermediate) issuing short-lived leaves with the OIDC issuer
//! extensions and real embedded SCTs from a CT log key, a Rekor v1 log
//! (ECDSA P-256: SETs, a real Merkle tree, signed checkpoints) and a Rekor
//! v2 log (Ed25519 signed notes), and the `trusted_root.json` naming them.
//!
//! Shared by this crate's tests and the CLI's (`#[path]` include).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use modelseal_sigstore::MerkleTree as Tree;
use modelseal_sigstore::note_key_id;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData as _, SanType, SerialNumber, SigningKey as _,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use x509_parser::prelude::{FromDer as _, X509Certificate};

/// The leaf's validity starts here (2025-06-01T00:00:00Z) and lasts 10 minutes.
pub const T0: i64 = 1_748_736_000;
/// The OIDC issuer the instance's leaves name by default.
pub const ISSUER: &str = "https://oidc.test.example";
/// The identity the instance's leaves name by default.
pub const IDENTITY: &str =
    "https://ci.test.example/org/repo/.github/workflows/release.yml@refs/tags/v1";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// How to issue a leaf.
#[derive(Clone)]
pub struct LeafSpec {
    /// The SAN (URI if it contains "://", else email).
    pub identity: String,
    /// The value of the raw (deprecated) issuer extension, if any.
    pub issuer_v1: Option<String>,
    /// The value of the DER issuer extension, if any.
    pub issuer_v2: Option<String>,
    /// Validity start (Unix seconds); 10 minutes long.
    pub not_before: i64,
    /// Whether to embed an SCT.
    pub sct: bool,
    /// Sign the SCT with another key than the CT log's.
    pub sct_wrong_key: bool,
}

impl Default for LeafSpec {
    fn default() -> Self {
        LeafSpec {
            identity: IDENTITY.into(),
            issuer_v1: Some(ISSUER.into()),
            issuer_v2: Some(ISSUER.into()),
            not_before: T0,
            sct: true,
            sct_wrong_key: false,
        }
    }
}

/// An issued leaf with its key.
pub struct Leaf {
    pub der: Vec<u8>,
    pub key: KeyPair,
}

impl Leaf {
    /// Sign `msg` (ECDSA P-256, SHA-256, DER).
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.key.sign(msg).unwrap()
    }

    pub fn pem(&self) -> String {
        modelseal_manifest::pem("CERTIFICATE", &self.der)
    }
}

/// A log: key, ID, tree.
pub struct TestLog {
    pub key: KeyPair,
    pub log_id: Vec<u8>,
    pub origin: String,
    pub tree: Tree,
    pub url: String,
}

impl TestLog {
    fn ecdsa(url: &str, origin: &str) -> TestLog {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let log_id = Sha256::digest(key.subject_public_key_info()).to_vec();
        TestLog {
            key,
            log_id,
            origin: origin.into(),
            tree: Tree::default(),
            url: url.into(),
        }
    }

    fn ed25519(url: &str, origin: &str) -> TestLog {
        let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let raw: [u8; 32] = key.der_bytes().try_into().unwrap();
        TestLog {
            log_id: note_key_id(origin, &raw).to_vec(),
            key,
            origin: origin.into(),
            tree: Tree::default(),
            url: url.into(),
        }
    }

    /// A checkpoint for the current tree, signed by `signer` (the log's
    /// key by default) with `hint`.
    pub fn checkpoint_with(
        &self,
        size: u64,
        root: &[u8],
        signer: &KeyPair,
        hint: &[u8],
        extra: &str,
    ) -> String {
        let body = format!("{}\n{size}\n{}\n", self.origin, B64.encode(root));
        let sig = signer.sign(body.as_bytes()).unwrap();
        let name = self.origin.split(' ').next().unwrap();
        let blob = [&hint[..4], &sig[..]].concat();
        format!("{body}\n\u{2014} {name} {}\n{extra}", B64.encode(blob))
    }

    pub fn checkpoint(&self) -> String {
        self.checkpoint_with(
            self.tree.size(),
            &self.tree.root(),
            &self.key,
            &self.log_id,
            "",
        )
    }
}

/// The instance.
pub struct Instance {
    pub root_key: KeyPair,
    pub root_der: Vec<u8>,
    pub inter_key: KeyPair,
    pub inter_der: Vec<u8>,
    inter_params: CertificateParams,
    pub ct: TestLog,
    pub rekor: TestLog,
    pub rekor2: TestLog,
    serial: u64,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::OrganizationName, "test.example");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2034, 1, 1);
    p
}

fn octet_string(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x04];
    der_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

fn utf8_string(s: &str) -> Vec<u8> {
    let mut out = vec![0x0c];
    der_len(&mut out, s.len());
    out.extend_from_slice(s.as_bytes());
    out
}

impl Instance {
    pub fn new() -> Instance {
        let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let root_params = ca_params("test-fulcio-root");
        let root_der = root_params.self_signed(&root_key).unwrap().der().to_vec();
        let root_issuer = Issuer::new(root_params, &root_key);
        let inter_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let mut inter_params = ca_params("test-fulcio-intermediate");
        inter_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        let inter_der = inter_params
            .signed_by(&inter_key, &root_issuer)
            .unwrap()
            .der()
            .to_vec();
        Instance {
            root_key,
            root_der,
            inter_key,
            inter_der,
            inter_params,
            ct: TestLog::ecdsa("https://ct.test.example", "ct.test.example"),
            rekor: TestLog::ecdsa("https://rekor.test.example", "rekor.test.example - 42"),
            rekor2: TestLog::ed25519("https://log2.rekor.test.example", "log2.rekor.test.example"),
            serial: 1,
        }
    }

    fn inter_spki(&self) -> Vec<u8> {
        let (_, c) = X509Certificate::from_der(&self.inter_der).unwrap();
        c.public_key().raw.to_vec()
    }

    /// A Fulcio-like leaf.
    pub fn leaf(&mut self, spec: &LeafSpec) -> Leaf {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        self.serial += 1;
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.serial_number = Some(SerialNumber::from(self.serial.to_be_bytes().to_vec()));
        p.not_before = time::OffsetDateTime::from_unix_timestamp(spec.not_before).unwrap();
        p.not_after = time::OffsetDateTime::from_unix_timestamp(spec.not_before + 600).unwrap();
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        p.subject_alt_names = vec![if spec.identity.contains("://") {
            SanType::URI(spec.identity.clone().try_into().unwrap())
        } else {
            SanType::Rfc822Name(spec.identity.clone().try_into().unwrap())
        }];
        p.use_authority_key_identifier_extension = true;
        if let Some(i) = &spec.issuer_v1 {
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
                i.as_bytes().to_vec(),
            ));
        }
        if let Some(i) = &spec.issuer_v2 {
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
                utf8_string(i),
            ));
        }
        let issuer = Issuer::from_params(&self.inter_params, &self.inter_key);
        if spec.sct {
            let pre = p.signed_by(&key, &issuer).unwrap();
            let (_, c) = X509Certificate::from_der(pre.der()).unwrap();
            let tbs = c.tbs_certificate.as_ref().to_vec();
            let ts_ms = (spec.not_before as u64) * 1000 + 1500;
            let issuer_hash: [u8; 32] = Sha256::digest(self.inter_spki()).into();
            let msg = modelseal_sigstore::sct_signed_data(ts_ms, &issuer_hash, &tbs, &[]);
            let other;
            let signer = if spec.sct_wrong_key {
                other = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
                &other
            } else {
                &self.ct.key
            };
            let sig = signer.sign(&msg).unwrap();
            let mut sct = vec![0u8];
            sct.extend_from_slice(&self.ct.log_id);
            sct.extend_from_slice(&ts_ms.to_be_bytes());
            sct.extend_from_slice(&[0, 0, 4, 3]);
            sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
            sct.extend_from_slice(&sig);
            let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
            list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
            list.extend_from_slice(&sct);
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2],
                octet_string(&list),
            ));
        }
        let der = p.signed_by(&key, &issuer).unwrap().der().to_vec();
        Leaf { der, key }
    }

    /// `trusted_root.json` for this instance, with every window open from
    /// 2024 unless `edit` changes it.
    pub fn trusted_root(&self) -> Value {
        let log = |l: &TestLog, details: &str| {
            json!({
                "baseUrl": l.url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(l.key.subject_public_key_info()),
                    "keyDetails": details,
                    "validFor": {"start": "2024-01-01T00:00:00Z"}
                },
                "logId": {"keyId": B64.encode(&l.log_id)}
            })
        };
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(&self.rekor, "PKIX_ECDSA_P256_SHA_256"), log(&self.rekor2, "PKIX_ED25519")],
            "certificateAuthorities": [{
                "subject": {"organization": "test.example", "commonName": "test-fulcio"},
                "uri": "https://fulcio.test.example",
                "certChain": {"certificates": [
                    {"rawBytes": B64.encode(&self.inter_der)},
                    {"rawBytes": B64.encode(&self.root_der)}
                ]},
                "validFor": {"start": "2024-01-01T00:00:00Z"}
            }],
            "ctlogs": [log(&self.ct, "PKIX_ECDSA_P256_SHA_256")],
            "timestampAuthorities": []
        })
    }

    /// Append `body` to the Rekor v1 log and return its bundle entry
    /// (SET and inclusion proof with a signed checkpoint).
    pub fn log_v1(
        &mut self,
        body: &[u8],
        kind: &str,
        version: &str,
        integrated_time: i64,
    ) -> Value {
        // A few other entries first, so proofs have several levels.
        for i in 0..3 {
            self.rekor
                .tree
                .push(format!("other {i} {}", self.rekor.tree.size()).as_bytes());
        }
        let index = self.rekor.tree.push(body);
        self.rekor.tree.push(b"after");
        let log_index = index + 1000;
        let entry = modelseal_manifest::TlogEntry {
            log_index,
            log_id: self.rekor.log_id.clone(),
            kind: kind.into(),
            version: version.into(),
            integrated_time,
            signed_entry_timestamp: None,
            inclusion_proof: None,
            body: body.to_vec(),
        };
        let set = self
            .rekor
            .key
            .sign(&modelseal_sigstore::set_payload(&entry))
            .unwrap();
        json!({
            "logIndex": log_index.to_string(),
            "logId": {"keyId": B64.encode(&self.rekor.log_id)},
            "kindVersion": {"kind": kind, "version": version},
            "integratedTime": integrated_time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": B64.encode(set)},
            "inclusionProof": {
                "logIndex": index.to_string(),
                "rootHash": B64.encode(self.rekor.tree.root()),
                "treeSize": self.rekor.tree.size().to_string(),
                "hashes": self.rekor.tree.proof(index).iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                "checkpoint": {"envelope": self.rekor.checkpoint()}
            },
            "canonicalizedBody": B64.encode(body)
        })
    }

    /// Append `body` to the Rekor v2 log and return its bundle entry.
    pub fn log_v2(&mut self, body: &[u8], kind: &str) -> Value {
        self.rekor2.tree.push(b"first");
        let index = self.rekor2.tree.push(body);
        json!({
            "logIndex": index.to_string(),
            "logId": {"keyId": B64.encode(&self.rekor2.log_id)},
            "kindVersion": {"kind": kind, "version": "0.0.2"},
            "inclusionProof": {
                "logIndex": index.to_string(),
                "rootHash": B64.encode(self.rekor2.tree.root()),
                "treeSize": self.rekor2.tree.size().to_string(),
                "hashes": self.rekor2.tree.proof(index).iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                "checkpoint": {"envelope": self.rekor2.checkpoint()}
            },
            "canonicalizedBody": B64.encode(body)
        })
    }
}

/// A Rekor v1 `hashedrekord` 0.0.1 body.
pub fn hashedrekord_v1(signer_pem: &str, sig: &[u8], digest: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex(digest)}},
            "signature": {"content": B64.encode(sig), "publicKey": {"content": B64.encode(signer_pem)}}
        }
    }))
    .unwrap()
}

/// A Rekor v1 `dsse` 0.0.1 body.
pub fn dsse_v1(signer_pem: &str, sig: &[u8], payload: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "0.0.1", "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex(&[0u8; 32])},
            "payloadHash": {"algorithm": "sha256", "value": hex(&Sha256::digest(payload))},
            "signatures": [{"signature": B64.encode(sig), "verifier": B64.encode(signer_pem)}]
        }
    }))
    .unwrap()
}

/// A Rekor v1 `intoto` 0.0.2 body (signature base64 twice).
pub fn intoto_v2(signer_pem: &str, sig: &[u8], payload: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "0.0.2", "kind": "intoto",
        "spec": {"content": {
            "envelope": {"payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": B64.encode(B64.encode(sig)), "publicKey": B64.encode(signer_pem)}]},
            "hash": {"algorithm": "sha256", "value": hex(&[0u8; 32])},
            "payloadHash": {"algorithm": "sha256", "value": hex(&Sha256::digest(payload))}
        }}
    }))
    .unwrap()
}

/// A Rekor v2 `dsse` 0.0.2 body.
pub fn dsse_v2(leaf_der: &[u8], sig: &[u8], payload: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "0.0.2", "kind": "dsse",
        "spec": {"dsseV002": {
            "payloadHash": {"algorithm": "SHA2_256", "digest": B64.encode(Sha256::digest(payload))},
            "signatures": [{"content": B64.encode(sig),
                            "verifier": {"keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                         "x509Certificate": {"rawBytes": B64.encode(leaf_der)}}}]
        }}
    }))
    .unwrap()
}

/// A Rekor v2 `hashedrekord` 0.0.2 body.
pub fn hashedrekord_v2(leaf_der: &[u8], sig: &[u8], digest: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "0.0.2", "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {
            "data": {"algorithm": "SHA2_256", "digest": B64.encode(digest)},
            "signature": {"content": B64.encode(sig),
                          "verifier": {"keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                       "x509Certificate": {"rawBytes": B64.encode(leaf_der)}}}
        }}
    }))
    .unwrap()
}

/// Parse a bundle entry JSON value into the manifest's entry type.
pub fn entry(v: &Value) -> modelseal_manifest::TlogEntry {
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": [v]},
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode([0u8; 32])}, "signature": "AA=="}
    });
    let b =
        modelseal_manifest::AnyBundle::from_json(&serde_json::to_vec(&bundle).unwrap()).unwrap();
    b.evidence().tlog_entries[0].clone()
}
