//! The Sigstore `trusted_root.json`: Fulcio CAs, Rekor logs, CT logs and
//! timestamp authorities, each with a `validFor` window.
//!
//! Windows are inclusive at both ends; `start` is required, a missing `end`
//! means "still valid". The default is the Sigstore public-good instance's
//! root, embedded at build time ([`TrustedRoot::public_good`]; provenance
//! and refresh steps in `sigstore/data/README.md`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Error, RootError};
use crate::log_key::{LogKey, LogKeyError};

/// The public-good trusted root embedded in this build.
const PUBLIC_GOOD: &str = include_str!("../data/trusted_root.public-good.json");

/// Media types accepted for trusted roots.
const MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
    "application/vnd.dev.sigstore.trustedroot+json;version=0.2",
];

/// A validity window in Unix seconds, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidFor {
    /// First second of validity.
    pub start: i64,
    /// Last second of validity; `None`: open-ended.
    pub end: Option<i64>,
}

impl ValidFor {
    /// Whether `t` (Unix seconds) lies in the window.
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.is_none_or(|end| t <= end)
    }
}

/// A transparency log (Rekor) or CT log.
#[derive(Debug, Clone)]
pub struct Log {
    /// `baseUrl`, for messages.
    pub base_url: String,
    /// `logId.keyId`.
    pub log_id: Vec<u8>,
    /// The key, or why it cannot be used.
    pub key: Result<LogKey, LogKeyError>,
    /// When the key may be used.
    pub valid_for: ValidFor,
}

/// A certificate authority (Fulcio) or timestamp authority.
#[derive(Debug, Clone)]
pub struct Authority {
    /// `uri`, for messages.
    pub uri: String,
    /// The chain as listed: issuing certificate first, root last (DER).
    pub chain: Vec<Vec<u8>>,
    /// When the authority may be relied on.
    pub valid_for: ValidFor,
}

impl Authority {
    /// The root (last) certificate.
    pub fn root(&self) -> &[u8] {
        self.chain.last().map_or(&[], Vec::as_slice)
    }

    /// The certificates between a leaf and the root.
    pub fn intermediates(&self) -> &[Vec<u8>] {
        &self.chain[..self.chain.len().saturating_sub(1)]
    }
}

/// A parsed trusted root.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// Rekor logs.
    pub tlogs: Vec<Log>,
    /// CT logs.
    pub ctlogs: Vec<Log>,
    /// Fulcio CAs.
    pub certificate_authorities: Vec<Authority>,
    /// Timestamp authorities.
    pub timestamp_authorities: Vec<Authority>,
    /// A label for messages: `public-good` or the file's name.
    pub label: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootJson {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<LogJson>,
    #[serde(default)]
    certificate_authorities: Vec<CaJson>,
    #[serde(default)]
    ctlogs: Vec<LogJson>,
    #[serde(default)]
    timestamp_authorities: Vec<CaJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogJson {
    #[serde(default)]
    base_url: String,
    public_key: KeyJson,
    log_id: LogIdJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyJson {
    raw_bytes: String,
    valid_for: Option<ValidForJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogIdJson {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaJson {
    #[serde(default)]
    uri: String,
    cert_chain: ChainJson,
    valid_for: Option<ValidForJson>,
}

#[derive(Deserialize)]
struct ChainJson {
    certificates: Vec<CertJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CertJson {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct ValidForJson {
    start: Option<String>,
    end: Option<String>,
}

fn bad(reason: RootError) -> Error {
    Error::TrustedRoot { reason }
}

/// Unix seconds of an RFC 3339 time; `round_up` for window starts (so a
/// fractional start is not widened).
fn seconds(field: &str, s: &str, round_up: bool) -> Result<i64, Error> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|source| {
        bad(RootError::NotRfc3339 {
            field: field.to_owned(),
            value: s.to_owned(),
            source,
        })
    })?;
    let secs = t.unix_timestamp();
    Ok(if round_up && t.nanosecond() > 0 {
        secs + 1
    } else {
        secs
    })
}

fn valid_for(field: &str, v: Option<ValidForJson>) -> Result<ValidFor, Error> {
    let v = v.ok_or_else(|| {
        bad(RootError::NoValidFor {
            field: field.to_owned(),
        })
    })?;
    let start = v.start.ok_or_else(|| {
        bad(RootError::NoStart {
            field: field.to_owned(),
        })
    })?;
    let start = seconds(&format!("{field}.validFor.start"), &start, true)?;
    let end = v
        .end
        .map(|e| seconds(&format!("{field}.validFor.end"), &e, false))
        .transpose()?;
    if end.is_some_and(|e| e < start) {
        return Err(bad(RootError::EndsBeforeStart {
            field: field.to_owned(),
        }));
    }
    Ok(ValidFor { start, end })
}

fn b64(field: &str, s: &str) -> Result<Vec<u8>, Error> {
    B64.decode(s).map_err(|_| {
        bad(RootError::NotBase64 {
            field: field.to_owned(),
        })
    })
}

fn logs(kind: &str, logs: Vec<LogJson>) -> Result<Vec<Log>, Error> {
    logs.into_iter()
        .enumerate()
        .map(|(i, l)| {
            let field = format!("{kind}[{i}]");
            let der = b64(
                &format!("{field}.publicKey.rawBytes"),
                &l.public_key.raw_bytes,
            )?;
            Ok(Log {
                base_url: l.base_url,
                log_id: b64(&format!("{field}.logId.keyId"), &l.log_id.key_id)?,
                key: LogKey::from_spki_der(&der),
                valid_for: valid_for(&format!("{field}.publicKey"), l.public_key.valid_for)?,
            })
        })
        .collect()
}

fn authorities(kind: &str, cas: Vec<CaJson>) -> Result<Vec<Authority>, Error> {
    cas.into_iter()
        .enumerate()
        .map(|(i, c)| {
            let field = format!("{kind}[{i}]");
            if c.cert_chain.certificates.is_empty() {
                return Err(bad(RootError::EmptyChain { field }));
            }
            let chain = c
                .cert_chain
                .certificates
                .iter()
                .map(|cert| b64(&format!("{field}.certChain"), &cert.raw_bytes))
                .collect::<Result<_, _>>()?;
            Ok(Authority {
                uri: c.uri,
                chain,
                valid_for: valid_for(&field, c.valid_for)?,
            })
        })
        .collect()
}

impl TrustedRoot {
    /// Parse `trusted_root.json`.
    ///
    /// # Errors
    /// [`Error::TrustedRoot`] for malformed JSON, an unknown media type, a
    /// window without `start`, bad base64, or a root with no CA and no log.
    pub fn from_json(bytes: &[u8], label: impl Into<String>) -> Result<TrustedRoot, Error> {
        let r: RootJson = serde_json::from_slice(bytes).map_err(|e| bad(e.into()))?;
        if !MEDIA_TYPES.contains(&r.media_type.as_str()) {
            return Err(bad(RootError::UnknownMediaType(
                r.media_type.chars().take(100).collect(),
            )));
        }
        let root = TrustedRoot {
            tlogs: logs("tlogs", r.tlogs)?,
            ctlogs: logs("ctlogs", r.ctlogs)?,
            certificate_authorities: authorities(
                "certificateAuthorities",
                r.certificate_authorities,
            )?,
            timestamp_authorities: authorities("timestampAuthorities", r.timestamp_authorities)?,
            label: label.into(),
        };
        if root.tlogs.is_empty()
            && root.certificate_authorities.is_empty()
            && root.timestamp_authorities.is_empty()
        {
            return Err(bad(RootError::Empty));
        }
        Ok(root)
    }

    /// The Sigstore public-good trusted root embedded in this build.
    ///
    /// # Errors
    /// Only if the embedded file were broken (a test guards it).
    pub fn public_good() -> Result<TrustedRoot, Error> {
        TrustedRoot::from_json(PUBLIC_GOOD.as_bytes(), "public-good")
    }

    /// The transparency log with this log ID.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&Log> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The CT log with this log ID.
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&Log> {
        self.ctlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The Fulcio CAs whose window contains `t`.
    pub fn cas_at(&self, t: i64) -> impl Iterator<Item = &Authority> {
        self.certificate_authorities
            .iter()
            .filter(move |a| a.valid_for.contains(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_root_parses() {
        let root = TrustedRoot::public_good().unwrap();
        assert!(root.tlogs.len() >= 2, "Rekor v1 and v2 logs");
        assert!(root.tlogs.iter().all(|l| l.key.is_ok()));
        assert!(root.ctlogs.iter().all(|l| l.key.is_ok()));
        assert!(!root.certificate_authorities.is_empty());
        assert!(!root.timestamp_authorities.is_empty());
        // rekor.sigstore.dev's log ID
        let rekor = B64
            .decode("wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=")
            .unwrap();
        assert!(root.tlog(&rekor).is_some());
    }

    #[test]
    fn windows_are_inclusive_and_start_is_required() {
        let w = valid_for(
            "x",
            Some(ValidForJson {
                start: Some("2024-01-01T00:00:00Z".into()),
                end: Some("2024-01-02T00:00:00.999Z".into()),
            }),
        )
        .unwrap();
        assert!(w.contains(1_704_067_200));
        assert!(!w.contains(1_704_067_199));
        assert!(w.contains(1_704_153_600));
        assert!(!w.contains(1_704_153_601));
        let fractional = valid_for(
            "x",
            Some(ValidForJson {
                start: Some("2024-01-01T00:00:00.5Z".into()),
                end: None,
            }),
        )
        .unwrap();
        assert!(!fractional.contains(1_704_067_200));
        assert!(fractional.contains(i64::MAX));
        assert!(
            valid_for(
                "x",
                Some(ValidForJson {
                    start: None,
                    end: None
                })
            )
            .is_err()
        );
        assert!(matches!(
            valid_for("x", None),
            Err(Error::TrustedRoot {
                reason: RootError::NoValidFor { .. }
            })
        ));
        assert!(matches!(
            valid_for(
                "x",
                Some(ValidForJson {
                    start: None,
                    end: None
                })
            ),
            Err(Error::TrustedRoot {
                reason: RootError::NoStart { .. }
            })
        ));
        assert!(matches!(
            valid_for(
                "x",
                Some(ValidForJson {
                    start: Some("2024-01-02T00:00:00Z".into()),
                    end: Some("2024-01-01T00:00:00Z".into()),
                })
            ),
            Err(Error::TrustedRoot {
                reason: RootError::EndsBeforeStart { .. }
            })
        ));
        assert!(
            valid_for(
                "x",
                Some(ValidForJson {
                    start: Some("2024-01-02T00:00:00Z".into()),
                    end: Some("2024-01-01T00:00:00Z".into()),
                })
            )
            .is_err()
        );
    }

    #[test]
    fn refuses_unknown_media_types_and_garbage() {
        let good = PUBLIC_GOOD.replace(
            "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "application/vnd.dev.sigstore.trustedroot+json;version=9",
        );
        let reason = |json: &[u8]| match TrustedRoot::from_json(json, "x") {
            Err(Error::TrustedRoot { reason }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            reason(good.as_bytes()),
            RootError::UnknownMediaType(m) if m.ends_with("version=9")
        ));
        assert!(matches!(reason(b"{}"), RootError::Json(_)));
        assert!(matches!(reason(b"\xff"), RootError::Json(_)));
        let empty = br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#;
        assert!(matches!(reason(empty), RootError::Empty));
        let mut v: serde_json::Value = serde_json::from_str(PUBLIC_GOOD).unwrap();
        v["tlogs"][0]["publicKey"]["validFor"]["start"] = "yesterday".into();
        assert!(matches!(
            reason(v.to_string().as_bytes()),
            RootError::NotRfc3339 { field, value, .. }
                if field == "tlogs[0].publicKey.validFor.start" && value == "yesterday"
        ));
        let mut v: serde_json::Value = serde_json::from_str(PUBLIC_GOOD).unwrap();
        v["ctlogs"][0]["logId"]["keyId"] = "%%".into();
        assert!(matches!(
            reason(v.to_string().as_bytes()),
            RootError::NotBase64 { field } if field == "ctlogs[0].logId.keyId"
        ));
        let mut v: serde_json::Value = serde_json::from_str(PUBLIC_GOOD).unwrap();
        v["certificateAuthorities"][0]["certChain"]["certificates"] = serde_json::json!([]);
        assert!(matches!(
            reason(v.to_string().as_bytes()),
            RootError::EmptyChain { field } if field == "certificateAuthorities[0]"
        ));
    }
}
