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
//! instead of the chain, as `model_signing`'s key method writes them.
//! Reading refuses everything else: other media types, a `messageSignature`,
//! several signatures, unknown fields, duplicate keys, bad base64, oversized
//! input. Transparency-log entries are accepted but not verified here;
//! their presence is reported so nobody mistakes them for checked evidence.
//!
//! RFC 3161 timestamps (`timestampVerificationData.rfc3161Timestamps[]`,
//! each `{"signedTimestamp": "<base64 DER token>"}`, as Sigstore clients
//! write them) are kept as bytes, at most [`MAX_TIMESTAMPS`] of at most
//! [`MAX_TIMESTAMP_BYTES`] each; what they prove is for the verifier to
//! decide (modelseal-timestamp).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::error::FormatError;
use crate::json::parse_strict;

/// The bundle media type written and accepted.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Default upper bound on a bundle's size (bytes). A manifest of a million
/// files fits; a hostile 100 MB document does not.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 64 * 1024 * 1024;

/// Upper bound on certificates carried in one bundle.
pub const MAX_CERTIFICATES: usize = 10;

/// Upper bound on RFC 3161 timestamps carried in one bundle.
pub const MAX_TIMESTAMPS: usize = 16;

/// Upper bound on one RFC 3161 token's DER size.
pub const MAX_TIMESTAMP_BYTES: usize = 128 * 1024;

/// Who signed: the material a verifier checks the signature against.
#[derive(Debug, Clone, PartialEq, Eq)]
// A closed set matched exhaustively across the workspace: adding a variant
// must be a compile error wherever it is handled.
#[allow(clippy::exhaustive_enums)]
pub enum VerificationMaterial {
    /// A bare key, known to the verifier out of band; `hint` is the hex
    /// SHA-256 of its SPKI PEM text (`model_signing`'s key method).
    PublicKey {
        /// The key hint as written.
        hint: String,
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
    /// `keyid`: modelseal writes the algorithm name; may be empty.
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
    let b64 = B64.encode(spki_der);
    let mut out = String::with_capacity(b64.len() + 64);
    out.push_str("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out
}

/// The key hint `model_signing` writes for a key bundle: lowercase hex
/// SHA-256 of [`spki_pem`].
pub fn key_hint(spki_der: &[u8]) -> String {
    crate::digest::HashAlgorithm::Sha256
        .digest(spki_pem(spki_der).as_bytes())
        .to_hex()
}

/// A parsed bundle. Nothing in it has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Key or certificate chain.
    pub material: VerificationMaterial,
    /// The signed envelope.
    pub envelope: Envelope,
    /// Number of transparency-log entries present (never verified).
    pub tlog_entries: usize,
    /// Whether timestamp verification data is present.
    pub has_timestamps: bool,
    /// The RFC 3161 timestamp tokens (DER `ContentInfo`), as carried; not
    /// verified.
    pub timestamps: Vec<Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BundleJson {
    media_type: String,
    verification_material: MaterialJson,
    dsse_envelope: EnvelopeJson,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MaterialJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<HintJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x509_certificate_chain: Option<ChainJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate: Option<CertJson>,
    #[serde(default)]
    tlog_entries: Vec<Unverified>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp_verification_data: Option<TimestampDataJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TimestampDataJson {
    #[serde(default)]
    rfc3161_timestamps: Vec<SignedTimestampJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SignedTimestampJson {
    signed_timestamp: String,
}

/// Content that is not verified here (transparency-log entries):
/// the strict pass has checked that it is JSON; it is counted, not kept, so
/// a bundle made of millions of entries costs no memory beyond its bytes.
#[derive(Deserialize)]
#[serde(transparent)]
struct Unverified(serde::de::IgnoredAny);

impl Serialize for Unverified {
    /// Never called: modelseal writes no transparency-log entries.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HintJson {
    #[serde(default)]
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
    #[serde(default)]
    keyid: String,
}

fn b64(field: &str, s: &str) -> Result<Vec<u8>, FormatError> {
    B64.decode(s).map_err(|_| FormatError::Base64 {
        field: field.to_owned(),
    })
}

impl Bundle {
    /// Parse bundle JSON, refusing anything that is not a v0.3 DSSE bundle
    /// with exactly one signature and exactly one kind of material.
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
        let size = bytes.len() as u64;
        if size > limit {
            return Err(FormatError::TooLarge {
                what: "bundle",
                size,
                limit,
            });
        }
        let b: BundleJson = parse_strict("bundle", bytes)?;
        if b.media_type != MEDIA_TYPE {
            return Err(FormatError::unexpected(
                "mediaType",
                MEDIA_TYPE,
                &b.media_type,
            ));
        }
        let vm = b.verification_material;
        let material = match (vm.public_key, vm.x509_certificate_chain, vm.certificate) {
            (Some(k), None, None) => VerificationMaterial::PublicKey { hint: k.hint },
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
                        b64(&format!("verificationMaterial.x509CertificateChain.certificates[{i}].rawBytes"), &c.raw_bytes)
                    })
                    .collect::<Result<_, _>>()?;
                VerificationMaterial::Certificates(certs)
            }
            (None, None, Some(cert)) => VerificationMaterial::Certificates(vec![b64(
                "verificationMaterial.certificate.rawBytes",
                &cert.raw_bytes,
            )?]),
            _ => {
                return Err(FormatError::unexpected(
                    "verificationMaterial",
                    "exactly one of publicKey, x509CertificateChain, certificate",
                    "none or several",
                ));
            }
        };
        let env = b.dsse_envelope;
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
        let has_timestamps = vm.timestamp_verification_data.is_some();
        let stamps = vm
            .timestamp_verification_data
            .map(|t| t.rfc3161_timestamps)
            .unwrap_or_default();
        if stamps.len() > MAX_TIMESTAMPS {
            return Err(FormatError::unexpected(
                "verificationMaterial.timestampVerificationData.rfc3161Timestamps",
                format!("at most {MAX_TIMESTAMPS} timestamps"),
                stamps.len().to_string(),
            ));
        }
        let timestamps = stamps
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let field = format!(
                    "verificationMaterial.timestampVerificationData.rfc3161Timestamps[{i}].signedTimestamp"
                );
                let der = b64(&field, &t.signed_timestamp)?;
                if der.is_empty() || der.len() > MAX_TIMESTAMP_BYTES {
                    return Err(FormatError::unexpected(
                        &field,
                        format!("1 to {MAX_TIMESTAMP_BYTES} bytes"),
                        der.len().to_string(),
                    ));
                }
                Ok(der)
            })
            .collect::<Result<_, _>>()?;
        Ok(Bundle {
            material,
            envelope,
            tlog_entries: vm.tlog_entries.len(),
            has_timestamps,
            timestamps,
        })
    }

    /// Serialize as compact JSON, as `model_signing` writes bundles.
    pub fn to_json(&self) -> Vec<u8> {
        let (public_key, x509_certificate_chain) = match &self.material {
            VerificationMaterial::PublicKey { hint } => {
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
                certificate: None,
                tlog_entries: Vec::new(),
                timestamp_verification_data: (!self.timestamps.is_empty()).then(|| {
                    TimestampDataJson {
                        rfc3161_timestamps: self
                            .timestamps
                            .iter()
                            .map(|t| SignedTimestampJson {
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
            tlog_entries: 0,
            has_timestamps: false,
            timestamps: Vec::new(),
        }
    }

    #[test]
    fn timestamps_round_trip_and_are_bounded() {
        let mut b = sample(VerificationMaterial::PublicKey { hint: "ab".into() });
        b.timestamps = vec![vec![0x30, 0x03, 1, 2, 3], vec![0x30, 0]];
        b.has_timestamps = true;
        let json = b.to_json();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains(r#""timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"MAMBAgM="}"#), "{text}");
        assert_eq!(Bundle::from_json(&json).unwrap(), b);
        let too_many = mutate(|v| {
            v["verificationMaterial"]["timestampVerificationData"] = serde_json::json!({
                "rfc3161Timestamps": vec![serde_json::json!({"signedTimestamp": "MAA="}); MAX_TIMESTAMPS + 1]
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
            VerificationMaterial::PublicKey { hint: "ab".into() },
            VerificationMaterial::Certificates(vec![vec![0x30, 1], vec![0x30, 2]]),
        ] {
            let b = sample(m);
            assert_eq!(Bundle::from_json(&b.to_json()).unwrap(), b);
        }
    }

    fn mutate(f: impl FnOnce(&mut serde_json::Value)) -> Result<Bundle, FormatError> {
        let b = sample(VerificationMaterial::PublicKey { hint: "ab".into() });
        let mut v: serde_json::Value = serde_json::from_slice(&b.to_json()).unwrap();
        f(&mut v);
        Bundle::from_json(&serde_json::to_vec(&v).unwrap())
    }

    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;

    #[test]
    fn refuses_deviations() {
        let cases: Vec<Edit> = vec![
            Box::new(|v| {
                v["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into()
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
            Box::new(|v| v["messageSignature"] = serde_json::json!({})),
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
