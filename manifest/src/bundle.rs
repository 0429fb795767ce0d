//! The Sigstore bundle (v0.3 JSON) that carries an OMS signature.
//!
//! ```json
//! {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
//!  "verificationMaterial": {"x509CertificateChain": {"certificates": [{"rawBytes": "<leaf DER>"}, ...]},
//!                           "tlogEntries": []},
//!  "dsseEnvelope": {"payload": "<statement>", "payloadType": "application/vnd.in-toto+json",
//!                   "signatures": [{"sig": "<DER or raw signature>", "keyid": "<algorithm>"}]}}
//! ```
//!
//! Key bundles carry `"publicKey": {"hint": "<hex sha256 of the SPKI PEM>"}`
//! instead of the chain, as `model_signing`'s key method writes them
//! (releases before 1.1 wrote `{"rawBytes": "<PEM>", "keyDetails": ...}`
//! and `"keyid": null`; both are read). [`AnyBundle`] also reads
//! `messageSignature` bundles (`cosign sign-blob --bundle`) and the media
//! types of v0.1 and v0.2. Reading refuses everything else: unknown media
//! types, several signatures, unknown fields, duplicate keys, bad base64,
//! oversized input, more evidence than [`crate::evidence`] allows.
//! Transparency-log entries and RFC 3161 timestamps
//! (`timestampVerificationData.rfc3161Timestamps[]`, each
//! `{"signedTimestamp": "<base64 DER token>"}`) are read into [`Evidence`]
//! and verified by the verifier (`modelseal-sigstore`,
//! `modelseal-timestamp`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::error::FormatError;
use crate::evidence::{Evidence, TimestampDataJson, TlogEntryJson};
use crate::json::parse_strict;

/// The bundle media type written (v0.3).
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Default upper bound on a bundle's size (bytes). A manifest of a million
/// files fits; a hostile 100 MB document does not.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 64 * 1024 * 1024;

/// Upper bound on certificates carried in one bundle.
pub const MAX_CERTIFICATES: usize = 10;

/// The bundle format version, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BundleVersion {
    /// `application/vnd.dev.sigstore.bundle+json;version=0.1`: entries
    /// carry a signed entry timestamp; an inclusion proof is optional.
    V0_1,
    /// `...;version=0.2`: entries carry an inclusion proof.
    V0_2,
    /// `application/vnd.dev.sigstore.bundle.v0.3+json` (or
    /// `...+json;version=0.3`).
    V0_3,
}

impl BundleVersion {
    /// The version a media type names; `None` for anything else.
    pub fn from_media_type(media_type: &str) -> Option<BundleVersion> {
        match media_type {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => Some(BundleVersion::V0_1),
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => Some(BundleVersion::V0_2),
            "application/vnd.dev.sigstore.bundle+json;version=0.3" | MEDIA_TYPE => {
                Some(BundleVersion::V0_3)
            }
            _ => None,
        }
    }
}

/// Who signed: the material a verifier checks the signature against.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMaterial {
    /// A bare key, known to the verifier out of band.
    PublicKey {
        /// The key hint as written: the hex SHA-256 of the SPKI PEM text in
        /// `model_signing`'s key method; may be empty.
        hint: String,
        /// `rawBytes`, as `model_signing` 0.2 to 1.0.1 wrote it (the key's
        /// PEM text); never trusted: the verifier's key decides.
        raw: Option<Vec<u8>>,
    },
    /// An X.509 chain, leaf first, DER. Never trusted by itself: only the
    /// verifier's roots are anchors.
    Certificates(Vec<Vec<u8>>),
}

/// The DSSE envelope: one signature over the PAE of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `payloadType`.
    pub payload_type: String,
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// `keyid`: modelseal writes the algorithm name; may be empty (or
    /// `null`, as `model_signing` before 1.1 wrote it).
    pub keyid: String,
}

impl Envelope {
    /// The bytes the signature covers: DSSE v1 pre-authentication encoding.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// DSSE v1 PAE: `"DSSEv1" SP len(type) SP type SP len(body) SP body`, with
/// lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The PEM text of a SubjectPublicKeyInfo, as OpenSSL and Python's
/// `cryptography` write it: 64-character base64 lines, trailing newline.
pub fn spki_pem(spki_der: &[u8]) -> String {
    pem("PUBLIC KEY", spki_der)
}

/// PEM text with `label`: 64-character base64 lines, trailing newline.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = String::with_capacity(b64.len() + 64);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// The key hint `model_signing` writes for a key bundle: lowercase hex
/// SHA-256 of [`spki_pem`].
pub fn key_hint(spki_der: &[u8]) -> String {
    crate::digest::HashAlgorithm::Sha256
        .digest(spki_pem(spki_der).as_bytes())
        .to_hex()
}

/// A message signature (`cosign sign-blob --bundle`): a signature over an
/// artifact's bytes, with the artifact's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    /// `messageDigest.digest`: the SHA-256 of the signed artifact.
    pub digest: Vec<u8>,
    /// The signature over the artifact (ECDSA: over its SHA-256).
    pub signature: Vec<u8>,
}

/// A parsed DSSE bundle. Nothing in it has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The format version.
    pub version: BundleVersion,
    /// Key or certificate chain.
    pub material: VerificationMaterial,
    /// The signed envelope.
    pub envelope: Envelope,
    /// Transparency-log entries and timestamps (unverified).
    pub evidence: Evidence,
}

/// A parsed message-signature bundle. Nothing in it has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBundle {
    /// The format version.
    pub version: BundleVersion,
    /// Key or certificate chain.
    pub material: VerificationMaterial,
    /// The signature and the artifact digest.
    pub message: MessageSignature,
    /// Transparency-log entries and timestamps (unverified).
    pub evidence: Evidence,
}

/// Any Sigstore bundle modelseal reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnyBundle {
    /// A DSSE envelope (OMS or another in-toto statement).
    Dsse(Bundle),
    /// A message signature over one artifact.
    Message(MessageBundle),
}

impl AnyBundle {
    /// The signer's material.
    pub fn material(&self) -> &VerificationMaterial {
        match self {
            AnyBundle::Dsse(b) => &b.material,
            AnyBundle::Message(b) => &b.material,
        }
    }

    /// The evidence carried.
    pub fn evidence(&self) -> &Evidence {
        match self {
            AnyBundle::Dsse(b) => &b.evidence,
            AnyBundle::Message(b) => &b.evidence,
        }
    }

    /// The format version.
    pub fn version(&self) -> BundleVersion {
        match self {
            AnyBundle::Dsse(b) => b.version,
            AnyBundle::Message(b) => b.version,
        }
    }

    /// Parse bundle JSON: v0.1 to v0.3, DSSE or message signature, with
    /// exactly one signature and exactly one kind of material.
    ///
    /// # Errors
    /// [`FormatError`] naming the offending field.
    pub fn from_json(bytes: &[u8]) -> Result<AnyBundle, FormatError> {
        Self::from_json_limited(bytes, DEFAULT_MAX_BUNDLE_BYTES)
    }

    /// [`AnyBundle::from_json`] with an explicit size limit.
    ///
    /// # Errors
    /// [`FormatError::TooLarge`] above `limit`, else as [`AnyBundle::from_json`].
    pub fn from_json_limited(bytes: &[u8], limit: u64) -> Result<AnyBundle, FormatError> {
        let size = bytes.len() as u64;
        if size > limit {
            return Err(FormatError::TooLarge {
                what: "bundle",
                size,
                limit,
            });
        }
        let b: BundleIn = parse_strict("bundle", bytes)?;
        let version = BundleVersion::from_media_type(&b.media_type).ok_or_else(|| {
            FormatError::unexpected(
                "mediaType",
                "a Sigstore bundle media type, v0.1 to v0.3",
                &b.media_type,
            )
        })?;
        let vm = b.verification_material;
        let material = read_material(vm.public_key, vm.x509_certificate_chain, vm.certificate)?;
        let evidence = crate::evidence::read(vm.tlog_entries, vm.timestamp_verification_data)?;
        match (b.dsse_envelope, b.message_signature) {
            (Some(env), None) => Ok(AnyBundle::Dsse(Bundle {
                version,
                material,
                envelope: read_envelope(env)?,
                evidence,
            })),
            (None, Some(m)) => {
                if m.message_digest.algorithm != "SHA2_256" {
                    return Err(FormatError::unexpected(
                        "messageSignature.messageDigest.algorithm",
                        "SHA2_256",
                        &m.message_digest.algorithm,
                    ));
                }
                let digest = b64(
                    "messageSignature.messageDigest.digest",
                    &m.message_digest.digest,
                )?;
                if digest.len() != 32 {
                    return Err(FormatError::unexpected(
                        "messageSignature.messageDigest.digest",
                        "32 bytes",
                        digest.len().to_string(),
                    ));
                }
                let signature = b64("messageSignature.signature", &m.signature)?;
                if signature.is_empty() {
                    return Err(FormatError::unexpected(
                        "messageSignature.signature",
                        "a signature",
                        "empty",
                    ));
                }
                Ok(AnyBundle::Message(MessageBundle {
                    version,
                    material,
                    message: MessageSignature { digest, signature },
                    evidence,
                }))
            }
            _ => Err(FormatError::unexpected(
                "bundle content",
                "exactly one of dsseEnvelope, messageSignature",
                "none or both",
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BundleIn {
    media_type: String,
    verification_material: MaterialIn,
    #[serde(default)]
    dsse_envelope: Option<EnvelopeJson>,
    #[serde(default)]
    message_signature: Option<MessageSignatureJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MaterialIn {
    #[serde(default)]
    public_key: Option<PublicKeyIn>,
    #[serde(default)]
    x509_certificate_chain: Option<ChainJson>,
    #[serde(default)]
    certificate: Option<CertJson>,
    #[serde(default)]
    tlog_entries: Vec<TlogEntryJson>,
    #[serde(default)]
    timestamp_verification_data: Option<TimestampDataJson>,
}

/// `publicKey`: a `PublicKeyIdentifier` (`hint`) or, as `model_signing`
/// 0.2 to 1.0.1 wrote it, a `PublicKey` (`rawBytes`, `keyDetails`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PublicKeyIn {
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    raw_bytes: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    key_details: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MessageSignatureJson {
    message_digest: MessageDigestJson,
    signature: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageDigestJson {
    algorithm: String,
    digest: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BundleJson {
    media_type: String,
    verification_material: MaterialJson,
    dsse_envelope: EnvelopeJson,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MaterialJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<HintJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x509_certificate_chain: Option<ChainJson>,
    tlog_entries: [(); 0],
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp_verification_data: Option<TimestampDataOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TimestampDataOut {
    rfc3161_timestamps: Vec<SignedTimestampOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedTimestampOut {
    signed_timestamp: String,
}

#[derive(Serialize)]
struct HintJson {
    hint: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainJson {
    certificates: Vec<CertJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CertJson {
    raw_bytes: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EnvelopeJson {
    payload: String,
    payload_type: String,
    signatures: Vec<SignatureJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureJson {
    sig: String,
    /// Absent, `null` (`model_signing` before 1.1) or a string.
    #[serde(default, deserialize_with = "null_as_empty_string")]
    keyid: String,
}

fn null_as_empty_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn b64(field: &str, s: &str) -> Result<Vec<u8>, FormatError> {
    B64.decode(s).map_err(|_| FormatError::Base64 {
        field: field.to_owned(),
    })
}

fn read_material(
    public_key: Option<PublicKeyIn>,
    chain: Option<ChainJson>,
    certificate: Option<CertJson>,
) -> Result<VerificationMaterial, FormatError> {
    match (public_key, chain, certificate) {
        (Some(k), None, None) => {
            if k.hint.is_some() && k.raw_bytes.is_some() {
                return Err(FormatError::unexpected(
                    "verificationMaterial.publicKey",
                    "one of hint, rawBytes",
                    "both",
                ));
            }
            Ok(VerificationMaterial::PublicKey {
                hint: k.hint.unwrap_or_default(),
                raw: k
                    .raw_bytes
                    .map(|r| b64("verificationMaterial.publicKey.rawBytes", &r))
                    .transpose()?,
            })
        }
        (None, Some(chain), None) => {
            if chain.certificates.is_empty() || chain.certificates.len() > MAX_CERTIFICATES {
                return Err(FormatError::unexpected(
                    "verificationMaterial.x509CertificateChain.certificates",
                    format!("1 to {MAX_CERTIFICATES} certificates"),
                    chain.certificates.len().to_string(),
                ));
            }
            let certs = chain
                .certificates
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    b64(
                        &format!(
                            "verificationMaterial.x509CertificateChain.certificates[{i}].rawBytes"
                        ),
                        &c.raw_bytes,
                    )
                })
                .collect::<Result<_, _>>()?;
            Ok(VerificationMaterial::Certificates(certs))
        }
        (None, None, Some(cert)) => Ok(VerificationMaterial::Certificates(vec![b64(
            "verificationMaterial.certificate.rawBytes",
            &cert.raw_bytes,
        )?])),
        _ => Err(FormatError::unexpected(
            "verificationMaterial",
            "exactly one of publicKey, x509CertificateChain, certificate",
            "none or several",
        )),
    }
}

fn read_envelope(env: EnvelopeJson) -> Result<Envelope, FormatError> {
    let [sig] = <[SignatureJson; 1]>::try_from(env.signatures).map_err(|v| {
        FormatError::unexpected(
            "dsseEnvelope.signatures",
            "exactly one signature",
            format!("{} signatures", v.len()),
        )
    })?;
    if env.payload_type != crate::statement::PAYLOAD_TYPE {
        return Err(FormatError::unexpected(
            "dsseEnvelope.payloadType",
            crate::statement::PAYLOAD_TYPE,
            &env.payload_type,
        ));
    }
    let envelope = Envelope {
        payload_type: env.payload_type,
        payload: b64("dsseEnvelope.payload", &env.payload)?,
        signature: b64("dsseEnvelope.signatures[0].sig", &sig.sig)?,
        keyid: sig.keyid,
    };
    if envelope.signature.is_empty() {
        return Err(FormatError::unexpected(
            "dsseEnvelope.signatures[0].sig",
            "a signature",
            "empty",
        ));
    }
    Ok(envelope)
}

impl Bundle {
    /// Parse bundle JSON, refusing anything that is not a DSSE bundle
    /// ([`AnyBundle::from_json`] reads message signatures too).
    ///
    /// # Errors
    /// [`FormatError`] naming the offending field.
    pub fn from_json(bytes: &[u8]) -> Result<Bundle, FormatError> {
        Self::from_json_limited(bytes, DEFAULT_MAX_BUNDLE_BYTES)
    }

    /// [`Bundle::from_json`] with an explicit size limit.
    ///
    /// # Errors
    /// [`FormatError::TooLarge`] above `limit`, else as [`Bundle::from_json`].
    pub fn from_json_limited(bytes: &[u8], limit: u64) -> Result<Bundle, FormatError> {
        match AnyBundle::from_json_limited(bytes, limit)? {
            AnyBundle::Dsse(b) => Ok(b),
            AnyBundle::Message(_) => Err(FormatError::unexpected(
                "bundle content",
                "a DSSE envelope",
                "a message signature",
            )),
        }
    }

    /// Serialize as compact JSON (v0.3, with the RFC 3161 timestamps it
    /// carries; modelseal writes no transparency-log entries), as
    /// `model_signing` writes bundles.
    pub fn to_json(&self) -> Vec<u8> {
        let (public_key, x509_certificate_chain) = match &self.material {
            VerificationMaterial::PublicKey { hint, .. } => {
                (Some(HintJson { hint: hint.clone() }), None)
            }
            VerificationMaterial::Certificates(certs) => (
                None,
                Some(ChainJson {
                    certificates: certs
                        .iter()
                        .map(|c| CertJson {
                            raw_bytes: B64.encode(c),
                        })
                        .collect(),
                }),
            ),
        };
        let json = BundleJson {
            media_type: MEDIA_TYPE.to_owned(),
            verification_material: MaterialJson {
                public_key,
                x509_certificate_chain,
                tlog_entries: [],
                timestamp_verification_data: (!self.evidence.timestamps.is_empty()).then(|| {
                    TimestampDataOut {
                        rfc3161_timestamps: self
                            .evidence
                            .timestamps
                            .iter()
                            .map(|t| SignedTimestampOut {
                                signed_timestamp: B64.encode(t),
                            })
                            .collect(),
                    }
                }),
            },
            dsse_envelope: EnvelopeJson {
                payload: B64.encode(&self.envelope.payload),
                payload_type: self.envelope.payload_type.clone(),
                signatures: vec![SignatureJson {
                    sig: B64.encode(&self.envelope.signature),
                    keyid: self.envelope.keyid.clone(),
                }],
            },
        };
        // Plain strings and vectors: serialization cannot fail.
        serde_json::to_vec(&json).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(material: VerificationMaterial) -> Bundle {
        Bundle {
            material,
            envelope: Envelope {
                payload_type: crate::statement::PAYLOAD_TYPE.into(),
                payload: b"{}".to_vec(),
                signature: vec![1, 2, 3],
                keyid: "ecdsa-p256-sha256".into(),
            },
            version: BundleVersion::V0_3,
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn timestamps_round_trip_and_are_bounded() {
        let mut b = sample(VerificationMaterial::PublicKey {
            hint: "ab".into(),
            raw: None,
        });
        b.evidence.timestamps = vec![vec![0x30, 0x03, 1, 2, 3], vec![0x30, 0]];
        let json = b.to_json();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains(r#""timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"MAMBAgM="}"#), "{text}");
        assert_eq!(Bundle::from_json(&json).unwrap(), b);
        let too_many = mutate(|v| {
            v["verificationMaterial"]["timestampVerificationData"] = serde_json::json!({
                "rfc3161Timestamps": vec![serde_json::json!({"signedTimestamp": "MAA="}); crate::evidence::MAX_TIMESTAMPS + 1]
            })
        });
        assert!(too_many.is_err());
        let empty = mutate(|v| {
            v["verificationMaterial"]["timestampVerificationData"] =
                serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": ""}]})
        });
        assert!(empty.is_err());
        let unknown = mutate(|v| {
            v["verificationMaterial"]["timestampVerificationData"] =
                serde_json::json!({"rfc3161Timestamps": [], "other": 1})
        });
        assert!(unknown.is_err());
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // DSSE spec: PAE("http://example.com/HelloWorld", "hello world")
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn spki_pem_wraps_at_64() {
        let pem = spki_pem(&[0u8; 91]);
        let lines: Vec<_> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN PUBLIC KEY-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 124 - 64);
        assert_eq!(lines[3], "-----END PUBLIC KEY-----");
        assert!(pem.ends_with("-----\n"));
        assert_eq!(key_hint(&[0u8; 91]).len(), 64);
    }

    #[test]
    fn round_trips_both_materials() {
        for m in [
            VerificationMaterial::PublicKey {
                hint: "ab".into(),
                raw: None,
            },
            VerificationMaterial::Certificates(vec![vec![0x30, 1], vec![0x30, 2]]),
        ] {
            let b = sample(m);
            assert_eq!(Bundle::from_json(&b.to_json()).unwrap(), b);
        }
    }

    fn mutate(f: impl FnOnce(&mut serde_json::Value)) -> Result<Bundle, FormatError> {
        let b = sample(VerificationMaterial::PublicKey {
            hint: "ab".into(),
            raw: None,
        });
        let mut v: serde_json::Value = serde_json::from_slice(&b.to_json()).unwrap();
        f(&mut v);
        Bundle::from_json(&serde_json::to_vec(&v).unwrap())
    }

    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;

    #[test]
    fn refuses_deviations() {
        let cases: Vec<Edit> = vec![
            Box::new(|v| {
                v["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.9".into()
            }),
            Box::new(|v| v["dsseEnvelope"]["payloadType"] = "text/plain".into()),
            Box::new(|v| v["dsseEnvelope"]["payload"] = "not base64!".into()),
            Box::new(|v| v["dsseEnvelope"]["signatures"] = serde_json::json!([])),
            Box::new(|v| {
                let s = v["dsseEnvelope"]["signatures"][0].clone();
                v["dsseEnvelope"]["signatures"]
                    .as_array_mut()
                    .unwrap()
                    .push(s);
            }),
            Box::new(|v| v["dsseEnvelope"]["signatures"][0]["sig"] = "".into()),
            Box::new(|v| {
                v["messageSignature"] = serde_json::json!({
                    "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode([0u8; 32])},
                    "signature": "AAAA"})
            }),
            Box::new(|v| v["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json".into()),
            Box::new(|v| v["verificationMaterial"]["publicKey"]["rawBytes"] = "AAAA".into()),
            Box::new(|v| v["verificationMaterial"]["tlogEntries"] = serde_json::json!([{}])),
            Box::new(|v| {
                v["verificationMaterial"]["timestampVerificationData"] =
                    serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": "!"}]})
            }),
            Box::new(|v| {
                v["verificationMaterial"]["certificate"] = serde_json::json!({"rawBytes": "MAA="})
            }),
            Box::new(|v| v["verificationMaterial"] = serde_json::json!({"tlogEntries": []})),
            Box::new(|v| {
                v["verificationMaterial"]["x509CertificateChain"] =
                    serde_json::json!({"certificates": []})
            }),
        ];
        for (i, f) in cases.into_iter().enumerate() {
            assert!(mutate(f).is_err(), "case {i} accepted");
        }
    }

    #[test]
    fn size_limit_and_garbage() {
        let b = sample(VerificationMaterial::PublicKey {
            hint: String::new(),
            raw: None,
        })
        .to_json();
        assert!(matches!(
            Bundle::from_json_limited(&b, 10),
            Err(FormatError::TooLarge { .. })
        ));
        assert!(Bundle::from_json(b"").is_err());
        assert!(Bundle::from_json(&b[..b.len() / 2]).is_err());
        assert!(Bundle::from_json(b"\xff\xfe").is_err());
    }
}

#[cfg(test)]
mod compat_tests {
    use super::*;

    fn key_bundle(media: &str, material: &str, evidence: &str) -> String {
        format!(
            r#"{{"mediaType":"{media}","verificationMaterial":{{{material}{evidence}}},"dsseEnvelope":{{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{{"sig":"AAAA","keyid":null}}]}}}}"#
        )
    }

    #[test]
    fn reads_what_model_signing_before_1_1_wrote() {
        // keyid null, publicKey.rawBytes (PEM) and keyDetails.
        let json = key_bundle(
            MEDIA_TYPE,
            r#""publicKey":{"rawBytes":"LS0tLS1CRUdJTg==","keyDetails":"PKIX_ECDSA_P256_SHA_256"}"#,
            "",
        );
        let b = Bundle::from_json(json.as_bytes()).unwrap();
        assert_eq!(b.envelope.keyid, "");
        assert_eq!(
            b.material,
            VerificationMaterial::PublicKey {
                hint: String::new(),
                raw: Some(b"-----BEGIN".to_vec())
            }
        );
    }

    #[test]
    fn media_types_name_versions() {
        for (media, v) in [
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.1",
                BundleVersion::V0_1,
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.2",
                BundleVersion::V0_2,
            ),
            (
                "application/vnd.dev.sigstore.bundle+json;version=0.3",
                BundleVersion::V0_3,
            ),
            (MEDIA_TYPE, BundleVersion::V0_3),
        ] {
            let json = key_bundle(media, r#""publicKey":{"hint":""}"#, "");
            assert_eq!(Bundle::from_json(json.as_bytes()).unwrap().version, v);
        }
        for media in [
            "application/vnd.dev.sigstore.bundle+json;version=0.4",
            "application/vnd.dev.sigstore.bundle.v0.2+json",
            "",
        ] {
            let json = key_bundle(media, r#""publicKey":{"hint":""}"#, "");
            assert!(Bundle::from_json(json.as_bytes()).is_err(), "{media}");
        }
    }

    #[test]
    fn reads_evidence_strictly() {
        let entry = r#","tlogEntries":[{"logIndex":"7","logId":{"keyId":"AAEC"},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1700000000","inclusionPromise":{"signedEntryTimestamp":"AQI="},"inclusionProof":{"logIndex":7,"rootHash":"AAAA","treeSize":"8","hashes":["AQID"],"checkpoint":{"envelope":"note"}},"canonicalizedBody":"e30="}],"timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"MAA="}]}"#;
        let json = key_bundle(MEDIA_TYPE, r#""publicKey":{"hint":""}"#, entry);
        let b = Bundle::from_json(json.as_bytes()).unwrap();
        let e = &b.evidence.tlog_entries[0];
        assert_eq!((e.log_index, e.integrated_time), (7, 1_700_000_000));
        assert_eq!(e.log_id, [0, 1, 2]);
        let p = e.inclusion_proof.as_ref().unwrap();
        assert_eq!((p.log_index, p.tree_size), (7, 8));
        assert_eq!(p.checkpoint.as_deref(), Some("note"));
        assert_eq!(b.evidence.timestamps, [vec![0x30, 0]]);
        for bad in [
            entry.replace(r#""logIndex":"7""#, r#""logIndex":"-7""#),
            entry.replace(r#""logIndex":"7""#, r#""logIndex":"7x""#),
            entry.replace("canonicalizedBody", "body"),
            entry.replace(r#""treeSize":"8""#, r#""treeSize":"8","extra":1"#),
        ] {
            let json = key_bundle(MEDIA_TYPE, r#""publicKey":{"hint":""}"#, &bad);
            assert!(Bundle::from_json(json.as_bytes()).is_err(), "{bad}");
        }
        let many = format!(
            ",\"tlogEntries\":[{}]",
            vec![&entry[15..entry.find("],\"timestamp").unwrap()]; 17].join(",")
        );
        let json = key_bundle(MEDIA_TYPE, r#""publicKey":{"hint":""}"#, &many);
        assert!(Bundle::from_json(json.as_bytes()).is_err());
    }

    #[test]
    fn reads_message_signatures() {
        let json = format!(
            r#"{{"mediaType":"{MEDIA_TYPE}","verificationMaterial":{{"certificate":{{"rawBytes":"MAA="}}}},"messageSignature":{{"messageDigest":{{"algorithm":"SHA2_256","digest":"{}"}},"signature":"AQID"}}}}"#,
            B64.encode([7u8; 32])
        );
        let AnyBundle::Message(m) = AnyBundle::from_json(json.as_bytes()).unwrap() else {
            panic!("not a message bundle")
        };
        assert_eq!(m.message.digest, [7u8; 32]);
        assert_eq!(m.message.signature, [1, 2, 3]);
        assert!(Bundle::from_json(json.as_bytes()).is_err());
        let sha512 = json.replace("SHA2_256", "SHA2_512");
        assert!(AnyBundle::from_json(sha512.as_bytes()).is_err());
    }
}
