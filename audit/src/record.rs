//! The audit record: an Elastic Common Schema (ECS) JSON object, one per line,
//! and its canonical bytes.
//!
//! # Canonical form
//!
//! The writer emits every record in exactly one serialization, and the MAC is
//! computed over that serialization, so a verifier never depends on how a SIEM
//! later re-orders keys or re-indents a document (see [`Record::parse`], which
//! rebuilds the canonical bytes from the values):
//!
//! * one JSON object, no whitespace between tokens, UTF-8, terminated by `\n`
//!   in a log file;
//! * members in this fixed order, optional members omitted when absent:
//!   `@timestamp`, `ecs.version`, `event.{action, category?[], dataset,
//!   kind, module, outcome, reason?, sequence, type?[]}`,
//!   `file?.{hash?.{sha256|sha384|sha512}, path?, x509?.{alternative_names[],
//!   issuer.distinguished_name, not_after, serial_number,
//!   subject.distinguished_name}}`, `host.name`, `rule?.name`, `source.ip`,
//!   `user.{id, name?}`, then our own namespace `modelseal.{bundle?.{path?,
//!   sha256?}, signer?.{identity?, key_sha256?}, timestamp?.{gen_time,
//!   tsa.{name?, url?}}, audit.{epoch, log_id, prev_mac, mac}}` (members sorted by name at every level, except that
//!   our namespace comes last and `audit` last in it, so the MAC ends the
//!   line); arrays of strings as `["a","b"]`;
//! * strings escaped as RFC 8785 (JCS) does: `"` `\` and control characters
//!   only (`\b \t \n \f \r`, others `\u00xx` in lowercase hex), everything
//!   else literal UTF-8; integers in plain decimal;
//! * `@timestamp` in UTC as `YYYY-MM-DDThh:mm:ss.ffffffZ` (microseconds);
//! * `log_id`, `prev_mac` and `mac` in lowercase hex.
//!
//! **Signed bytes**: the canonical line up to and including the closing quote
//! of the `prev_mac` value, i.e. the line without its fixed-length suffix
//! `,"mac":"<64 hex>"}}}`. The record MAC is
//! `HMAC-SHA256(m_epoch, signed bytes)`; because `prev_mac` is inside the
//! signed bytes, each MAC also covers the previous record's MAC (the chain).

use crate::error::{Error, Result};
use crate::key::{KEY_LEN, LogId, MacBytes, hex_decode_into, hex_push};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// The ECS version the records conform to.
pub const ECS_VERSION: &str = "9.4.0";
/// `event.dataset` of every record.
pub const EVENT_DATASET: &str = "modelseal.audit";
/// `event.module` of every record.
pub const EVENT_MODULE: &str = "modelseal";
/// Longest line (without newline) the writer produces or the verifier reads.
pub const MAX_LINE: usize = 64 * 1024;
/// Length of the fixed suffix `,"mac":"<64 hex>"}}}` after the signed bytes.
pub(crate) const MAC_SUFFIX_LEN: usize = MAC_PREFIX.len() + 2 * KEY_LEN + MAC_END.len();

const MAC_PREFIX: &[u8] = b",\"mac\":\"";
const MAC_END: &[u8] = b"\"}}}";

const MAX_ACTION: usize = 256;
const MAX_USER: usize = 1024;
const MAX_HOST: usize = 255;
const MAX_REASON: usize = 8192;
const MAX_PATH: usize = 4096;

/// Appended (with the number of bytes cut) to a field [`Event::bound`]
/// shortened.
pub(crate) const TRUNCATION_MARKER: &str = "...[truncated ";

static TS_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// `event.outcome`: whether the decision succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// `success`
    Success,
    /// `failure`
    Failure,
}

impl Outcome {
    /// The ECS value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    /// Parse `success` or `failure`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            _ => None,
        }
    }
}

/// Hash algorithms ECS has a `file.hash.*` field for that model digests use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// `file.hash.sha256`
    Sha256,
    /// `file.hash.sha384`
    Sha384,
    /// `file.hash.sha512`
    Sha512,
}

impl HashAlgorithm {
    /// The ECS sub-field name.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 64,
            HashAlgorithm::Sha384 => 96,
            HashAlgorithm::Sha512 => 128,
        }
    }
}

/// A model digest: algorithm and lowercase hex value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHash {
    /// Which `file.hash.*` field it goes in.
    pub algorithm: HashAlgorithm,
    /// Lowercase hex.
    pub hex: String,
}

impl FileHash {
    /// Parse `sha256:<hex>`, `sha384:<hex>`, `sha512:<hex>` or bare hex of
    /// 64, 96 or 128 digits (the length names the algorithm). Hex is
    /// accepted in either case and stored lowercase.
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] for any other form.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = Error::InvalidEvent {
            field: "file.hash",
            reason: "expected sha256:, sha384: or sha512: followed by hex digits",
        };
        let (alg, hex) = match s.split_once(':') {
            Some(("sha256", h)) => (HashAlgorithm::Sha256, h),
            Some(("sha384", h)) => (HashAlgorithm::Sha384, h),
            Some(("sha512", h)) => (HashAlgorithm::Sha512, h),
            Some(_) => return Err(bad),
            None => match s.len() {
                64 => (HashAlgorithm::Sha256, s),
                96 => (HashAlgorithm::Sha384, s),
                128 => (HashAlgorithm::Sha512, s),
                _ => return Err(bad),
            },
        };
        if hex.len() != alg.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad);
        }
        Ok(FileHash {
            algorithm: alg,
            hex: hex.to_ascii_lowercase(),
        })
    }
}

/// `event.category` values a record uses (ECS allowed values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Category {
    /// `file`: a model's files were signed, verified or handed over.
    File,
    /// `process`: a command was (or was not) started on them.
    Process,
    /// `configuration`: keys, checkpoints and other settings.
    Configuration,
}

impl Category {
    /// Every value, in the order a caller lists them (e.g. a command line's
    /// choices).
    pub const ALL: &'static [Category] =
        &[Category::File, Category::Process, Category::Configuration];

    /// The ECS value.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::File => "file",
            Category::Process => "process",
            Category::Configuration => "configuration",
        }
    }

    /// Parse an ECS value this crate writes.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// `event.type` values a record uses (ECS allowed values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventType {
    /// `access`: a model was read to decide about it.
    Access,
    /// `allowed`: the decision let it through.
    Allowed,
    /// `denied`: the decision refused it.
    Denied,
    /// `creation`: a signature or bundle was written.
    Creation,
    /// `start`: a process was started.
    Start,
    /// `info`: anything else.
    Info,
}

impl EventType {
    /// Every value, in the order a caller lists them (e.g. a command line's
    /// choices).
    pub const ALL: &'static [EventType] = &[
        EventType::Access,
        EventType::Allowed,
        EventType::Denied,
        EventType::Creation,
        EventType::Start,
        EventType::Info,
    ];

    /// The ECS value.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Access => "access",
            EventType::Allowed => "allowed",
            EventType::Denied => "denied",
            EventType::Creation => "creation",
            EventType::Start => "start",
            EventType::Info => "info",
        }
    }

    /// Parse an ECS value this crate writes.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// `file.x509.*`: the signing certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct X509 {
    /// `file.x509.alternative_names`: its SANs.
    pub alternative_names: Vec<String>,
    /// `file.x509.issuer.distinguished_name`.
    pub issuer: String,
    /// `file.x509.not_after`, RFC 3339.
    pub not_after: String,
    /// `file.x509.serial_number`, hex.
    pub serial_number: String,
    /// `file.x509.subject.distinguished_name`.
    pub subject: String,
}

/// `modelseal.timestamp.*`: the RFC 3161 timestamp over the signature (at
/// signing: the first TSA's reply; at verification: the verified timestamp
/// whose genTime the signing certificate's validity was checked at).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsaTimestamp {
    /// `modelseal.timestamp.gen_time`: the TSA's genTime, RFC 3339.
    pub gen_time: String,
    /// `modelseal.timestamp.tsa.name`: the TSA certificate's subject DN
    /// (known once the token verified).
    pub tsa_name: Option<String>,
    /// `modelseal.timestamp.tsa.url`: the TSA asked (at signing).
    pub tsa_url: Option<String>,
}

/// What a decision was about beyond the model: who signed, under which
/// policy, with which bundle. ECS fields where ECS has one (`file.x509.*`,
/// `rule.name`), else our namespace `modelseal.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// `file.x509.*`: the signing certificate.
    pub x509: Option<X509>,
    /// `rule.name`: the trust policy that decided.
    pub policy: Option<String>,
    /// `modelseal.signer.identity`: the identity the signer matched (or
    /// its description when none was required).
    pub signer_identity: Option<String>,
    /// `modelseal.signer.key_sha256`: SHA-256 of the signer's public key
    /// (SubjectPublicKeyInfo DER), hex.
    pub key_sha256: Option<String>,
    /// `modelseal.bundle.path`: the bundle or signature file.
    pub bundle_path: Option<String>,
    /// `modelseal.bundle.sha256`: its SHA-256, hex.
    pub bundle_sha256: Option<String>,
    /// `modelseal.timestamp.*`: the signature's RFC 3161 timestamp.
    pub timestamp: Option<TsaTimestamp>,
}

impl Details {
    fn has_signer(&self) -> bool {
        self.signer_identity.is_some() || self.key_sha256.is_some()
    }

    fn has_bundle(&self) -> bool {
        self.bundle_path.is_some() || self.bundle_sha256.is_some()
    }
}

/// One security decision to record: everything but the chain fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `@timestamp`: when the decision was made (converted to UTC).
    pub timestamp: OffsetDateTime,
    /// `event.action`, e.g. `model.sign`; ASCII letters, digits and `._-:/`.
    pub action: String,
    /// `event.category` (may be empty).
    pub category: Vec<Category>,
    /// `event.type` (may be empty).
    pub types: Vec<EventType>,
    /// `event.outcome`.
    pub outcome: Outcome,
    /// `event.reason`: why, especially for failures.
    pub reason: Option<String>,
    /// `user.id`: who asked (for the CLI: the real uid).
    pub user_id: String,
    /// `user.name`: their name, if known.
    pub user_name: Option<String>,
    /// `source.ip`: where the request came from.
    pub source_ip: IpAddr,
    /// `host.name`: the machine that made the decision.
    pub host_name: String,
    /// `file.path`: the model (or other resource) the decision is about.
    pub file_path: Option<String>,
    /// `file.hash.*`: the model's digest.
    pub file_hash: Option<FileHash>,
    /// Signer, policy and bundle.
    pub details: Details,
}

impl Event {
    /// Check every field against the limits in the README.
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason| Err(Error::InvalidEvent { field, reason });
        let year = self.timestamp.to_offset(time::UtcOffset::UTC).year();
        if !(0..=9999).contains(&year) {
            return bad("@timestamp", "year outside 0000-9999");
        }
        if self.action.is_empty() || self.action.len() > MAX_ACTION {
            return bad("event.action", "must be 1 to 256 bytes");
        }
        if !self
            .action
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/".contains(&b))
        {
            return bad("event.action", "only ASCII letters, digits and ._-:/");
        }
        text("user.id", &self.user_id, 1, MAX_USER)?;
        text("host.name", &self.host_name, 1, MAX_HOST)?;
        if let Some(r) = &self.reason
            && (r.len() > MAX_REASON || r.contains('\0'))
        {
            return bad("event.reason", "must be at most 8192 bytes without NUL");
        }
        if let Some(p) = &self.file_path {
            text("file.path", p, 1, MAX_PATH)?;
        }
        if let Some(n) = &self.user_name {
            text("user.name", n, 1, MAX_USER)?;
        }
        let d = &self.details;
        if let Some(x) = &d.x509 {
            for n in &x.alternative_names {
                text("file.x509.alternative_names", n, 1, MAX_PATH)?;
            }
            text(
                "file.x509.issuer.distinguished_name",
                &x.issuer,
                0,
                MAX_PATH,
            )?;
            text(
                "file.x509.subject.distinguished_name",
                &x.subject,
                0,
                MAX_PATH,
            )?;
            text("file.x509.serial_number", &x.serial_number, 1, 128)?;
            if OffsetDateTime::parse(&x.not_after, &time::format_description::well_known::Rfc3339)
                .is_err()
            {
                return bad("file.x509.not_after", "must be an RFC 3339 time");
            }
        }
        if let Some(t) = &d.timestamp {
            if OffsetDateTime::parse(&t.gen_time, &time::format_description::well_known::Rfc3339)
                .is_err()
            {
                return bad("modelseal.timestamp.gen_time", "must be an RFC 3339 time");
            }
            if t.tsa_name.is_none() && t.tsa_url.is_none() {
                return bad("modelseal.timestamp.tsa", "needs a name or a URL");
            }
            if let Some(n) = &t.tsa_name {
                text("modelseal.timestamp.tsa.name", n, 0, MAX_PATH)?;
            }
            if let Some(u) = &t.tsa_url {
                text("modelseal.timestamp.tsa.url", u, 1, MAX_PATH)?;
            }
        }
        for (field, v, max) in [
            ("rule.name", &d.policy, MAX_USER),
            ("modelseal.signer.identity", &d.signer_identity, MAX_PATH),
            ("modelseal.bundle.path", &d.bundle_path, MAX_PATH),
        ] {
            if let Some(v) = v {
                text(field, v, 1, max)?;
            }
        }
        for (field, v) in [
            ("modelseal.signer.key_sha256", &d.key_sha256),
            ("modelseal.bundle.sha256", &d.bundle_sha256),
        ] {
            if let Some(v) = v
                && (v.len() != 64 || !v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            {
                return bad(field, "must be 64 lowercase hex digits");
            }
        }
        if let Some(h) = &self.file_hash
            && (h.hex.len() != h.algorithm.hex_len()
                || !h
                    .hex
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        {
            return bad(
                "file.hash",
                "must be lowercase hex of the algorithm's length",
            );
        }
        Ok(())
    }

    /// Make every free-text field fit its limit, so that a decision is
    /// recorded whatever text it carries: control characters in `user.id`,
    /// `host.name` and `file.path` (NUL in `event.reason`) become `\u{..}`
    /// escapes, an empty `user.id` or `host.name` becomes `-`, and a field
    /// longer than its limit is cut at a character boundary and ends with
    /// [`TRUNCATION_MARKER`] and the number of bytes cut (`...[truncated
    /// 1234 bytes]`). Returns whether anything changed. `@timestamp` and
    /// `event.action` (chosen by the program, not by its input) are left
    /// for [`Event::validate`].
    pub fn bound(&mut self) -> bool {
        let mut changed = bound_field(&mut self.user_id, MAX_USER, char::is_control, true);
        changed |= bound_field(&mut self.host_name, MAX_HOST, char::is_control, true);
        if let Some(r) = &mut self.reason {
            changed |= bound_field(r, MAX_REASON, |c| c == '\0', false);
        }
        if let Some(p) = &mut self.file_path {
            changed |= bound_field(p, MAX_PATH, char::is_control, true);
        }
        if let Some(n) = &mut self.user_name {
            changed |= bound_field(n, MAX_USER, char::is_control, true);
        }
        let d = &mut self.details;
        if let Some(x) = &mut d.x509 {
            // Names from a certificate: each bounded, and all of them
            // together, so the line stays far below MAX_LINE.
            let mut total = 0usize;
            let mut kept = 0usize;
            for n in &mut x.alternative_names {
                changed |= bound_field(n, MAX_PATH, char::is_control, true);
                if total + n.len() > MAX_REASON {
                    break;
                }
                total += n.len();
                kept += 1;
            }
            if kept < x.alternative_names.len() {
                let cut = x.alternative_names.len() - kept;
                x.alternative_names.truncate(kept);
                x.alternative_names
                    .push(format!("{TRUNCATION_MARKER}{cut} names]"));
                changed = true;
            }
            changed |= bound_field(&mut x.issuer, MAX_PATH, char::is_control, false);
            changed |= bound_field(&mut x.subject, MAX_PATH, char::is_control, false);
            changed |= bound_field(&mut x.serial_number, 128, char::is_control, true);
        }
        if let Some(t) = &mut d.timestamp {
            if let Some(n) = &mut t.tsa_name {
                changed |= bound_field(n, MAX_PATH, char::is_control, false);
            }
            if let Some(u) = &mut t.tsa_url {
                changed |= bound_field(u, MAX_PATH, char::is_control, true);
            }
        }
        for (v, max) in [
            (&mut d.policy, MAX_USER),
            (&mut d.signer_identity, MAX_PATH),
            (&mut d.bundle_path, MAX_PATH),
        ] {
            if let Some(v) = v {
                changed |= bound_field(v, max, char::is_control, true);
            }
        }
        changed
    }

    fn timestamp_string(&self) -> Result<String> {
        self.timestamp
            .to_offset(time::UtcOffset::UTC)
            .format(TS_FORMAT)
            .map_err(|_| Error::InvalidEvent {
                field: "@timestamp",
                reason: "cannot be formatted",
            })
    }
}

/// Escape the characters `bad` selects, fill an empty required field, cut
/// to `max` bytes with a marker.
fn bound_field(s: &mut String, max: usize, bad: impl Fn(char) -> bool, required: bool) -> bool {
    let mut changed = false;
    if s.chars().any(&bad) {
        *s = s
            .chars()
            .map(|c| {
                if bad(c) {
                    format!("\\u{{{:x}}}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect();
        changed = true;
    }
    if required && s.is_empty() {
        s.push('-');
        changed = true;
    }
    if s.len() > max {
        // The marker holds at most 20 digits; reserve room for it first.
        let room = max.saturating_sub(TRUNCATION_MARKER.len() + 20 + " bytes]".len());
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        let removed = s.len() - cut;
        s.truncate(cut);
        s.push_str(TRUNCATION_MARKER);
        s.push_str(&format!("{removed} bytes]"));
        changed = true;
    }
    changed
}

fn text(field: &'static str, s: &str, min: usize, max: usize) -> Result<()> {
    if s.len() < min || s.len() > max {
        return Err(Error::InvalidEvent {
            field,
            reason: "empty or too long",
        });
    }
    if s.chars().any(char::is_control) {
        return Err(Error::InvalidEvent {
            field,
            reason: "control characters are not allowed",
        });
    }
    Ok(())
}

/// The chain fields of one record (`event.sequence` and `modelseal.audit.*`
/// except the MAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainFields {
    /// The log's identity.
    pub log_id: LogId,
    /// Epoch whose key made the MAC.
    pub epoch: u64,
    /// `event.sequence`: position in the chain, from 0, with no gaps.
    pub sequence: u64,
    /// MAC of the previous record (all zero for sequence 0).
    pub prev_mac: MacBytes,
}

/// Append a JSON string (JCS escaping) to `out`.
fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            hex_push(out, &[b]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// Append a JSON array of strings.
fn push_list<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a str>) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, item);
    }
    out.push(b']');
}

/// Append `"name":"value"` members for the values present, comma-separated.
fn push_members(out: &mut Vec<u8>, members: &[(&str, &Option<String>)]) {
    let mut first = true;
    for (name, value) in members {
        if let Some(v) = value {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            push_str(out, name);
            out.push(b':');
            push_str(out, v);
        }
    }
}

fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(i..).unwrap_or_default());
}

/// Serialize the signed bytes of a record into `out` (cleared first).
///
/// # Errors
/// [`Error::InvalidEvent`] if the event fails [`Event::validate`].
pub(crate) fn signed_bytes(event: &Event, chain: &ChainFields, out: &mut Vec<u8>) -> Result<()> {
    event.validate()?;
    out.clear();
    out.extend_from_slice(b"{\"@timestamp\":\"");
    out.extend_from_slice(event.timestamp_string()?.as_bytes());
    out.extend_from_slice(b"\",\"ecs\":{\"version\":\"");
    out.extend_from_slice(ECS_VERSION.as_bytes());
    out.extend_from_slice(b"\"},\"event\":{\"action\":");
    push_str(out, &event.action);
    if !event.category.is_empty() {
        out.extend_from_slice(b",\"category\":");
        push_list(out, event.category.iter().map(|c| c.as_str()));
    }
    out.extend_from_slice(b",\"dataset\":\"");
    out.extend_from_slice(EVENT_DATASET.as_bytes());
    out.extend_from_slice(b"\",\"kind\":\"event\",\"module\":\"");
    out.extend_from_slice(EVENT_MODULE.as_bytes());
    out.extend_from_slice(b"\",\"outcome\":\"");
    out.extend_from_slice(event.outcome.as_str().as_bytes());
    out.push(b'"');
    if let Some(r) = &event.reason {
        out.extend_from_slice(b",\"reason\":");
        push_str(out, r);
    }
    out.extend_from_slice(b",\"sequence\":");
    push_u64(out, chain.sequence);
    if !event.types.is_empty() {
        out.extend_from_slice(b",\"type\":");
        push_list(out, event.types.iter().map(|t| t.as_str()));
    }
    out.push(b'}');
    let d = &event.details;
    if event.file_hash.is_some() || event.file_path.is_some() || d.x509.is_some() {
        out.extend_from_slice(b",\"file\":{");
        let mut first = true;
        let mut sep = |out: &mut Vec<u8>| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
        };
        if let Some(h) = &event.file_hash {
            sep(out);
            out.extend_from_slice(b"\"hash\":{\"");
            out.extend_from_slice(h.algorithm.name().as_bytes());
            out.extend_from_slice(b"\":\"");
            out.extend_from_slice(h.hex.as_bytes());
            out.extend_from_slice(b"\"}");
        }
        if let Some(p) = &event.file_path {
            sep(out);
            out.extend_from_slice(b"\"path\":");
            push_str(out, p);
        }
        if let Some(x) = &d.x509 {
            sep(out);
            out.extend_from_slice(b"\"x509\":{\"alternative_names\":");
            push_list(out, x.alternative_names.iter().map(String::as_str));
            out.extend_from_slice(b",\"issuer\":{\"distinguished_name\":");
            push_str(out, &x.issuer);
            out.extend_from_slice(b"},\"not_after\":");
            push_str(out, &x.not_after);
            out.extend_from_slice(b",\"serial_number\":");
            push_str(out, &x.serial_number);
            out.extend_from_slice(b",\"subject\":{\"distinguished_name\":");
            push_str(out, &x.subject);
            out.extend_from_slice(b"}}");
        }
        out.push(b'}');
    }
    out.extend_from_slice(b",\"host\":{\"name\":");
    push_str(out, &event.host_name);
    out.push(b'}');
    if let Some(p) = &d.policy {
        out.extend_from_slice(b",\"rule\":{\"name\":");
        push_str(out, p);
        out.push(b'}');
    }
    out.extend_from_slice(b",\"source\":{\"ip\":\"");
    out.extend_from_slice(event.source_ip.to_string().as_bytes());
    out.extend_from_slice(b"\"},\"user\":{\"id\":");
    push_str(out, &event.user_id);
    if let Some(n) = &event.user_name {
        out.extend_from_slice(b",\"name\":");
        push_str(out, n);
    }
    // Our namespace: our members sorted by name, then `audit` last so the
    // MAC ends the line.
    out.extend_from_slice(b"},\"modelseal\":{");
    if d.has_bundle() {
        out.extend_from_slice(b"\"bundle\":{");
        push_members(
            out,
            &[("path", &d.bundle_path), ("sha256", &d.bundle_sha256)],
        );
        out.extend_from_slice(b"},");
    }
    if d.has_signer() {
        out.extend_from_slice(b"\"signer\":{");
        push_members(
            out,
            &[
                ("identity", &d.signer_identity),
                ("key_sha256", &d.key_sha256),
            ],
        );
        out.extend_from_slice(b"},");
    }
    if let Some(t) = &d.timestamp {
        out.extend_from_slice(b"\"timestamp\":{\"gen_time\":");
        push_str(out, &t.gen_time);
        out.extend_from_slice(b",\"tsa\":{");
        push_members(out, &[("name", &t.tsa_name), ("url", &t.tsa_url)]);
        out.extend_from_slice(b"}},");
    }
    out.extend_from_slice(b"\"audit\":{\"epoch\":");
    push_u64(out, chain.epoch);
    out.extend_from_slice(b",\"log_id\":\"");
    hex_push(out, &chain.log_id.0);
    out.extend_from_slice(b"\",\"prev_mac\":\"");
    hex_push(out, &chain.prev_mac);
    out.push(b'"');
    if out.len() + MAC_SUFFIX_LEN > MAX_LINE {
        return Err(Error::InvalidEvent {
            field: "record",
            reason: "serialized record exceeds 64 KiB",
        });
    }
    Ok(())
}

/// Complete signed bytes into a full line by appending the MAC suffix and `\n`.
pub(crate) fn finish_line(out: &mut Vec<u8>, mac: &MacBytes) {
    out.extend_from_slice(MAC_PREFIX);
    hex_push(out, mac);
    out.extend_from_slice(MAC_END);
    out.push(b'\n');
}

/// Split a canonical line (without newline) into signed bytes and MAC.
/// `None` when the line does not end in a well-formed MAC suffix.
pub(crate) fn split_mac(line: &[u8]) -> Option<(&[u8], MacBytes)> {
    let cut = line.len().checked_sub(MAC_SUFFIX_LEN)?;
    let (signed, suffix) = line.split_at(cut);
    let hex = suffix.strip_prefix(MAC_PREFIX)?.strip_suffix(MAC_END)?;
    let mut mac = [0u8; KEY_LEN];
    hex_decode_into(hex, &mut mac)?;
    Some((signed, mac))
}

/// Why a line is not a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---- minimal view used by the streaming verifier ----

#[derive(Deserialize)]
struct ChainView<'a> {
    event: SeqView,
    #[serde(borrow)]
    modelseal: NsView<'a>,
}

#[derive(Deserialize)]
struct SeqView {
    sequence: u64,
}

#[derive(Deserialize)]
struct NsView<'a> {
    #[serde(borrow)]
    audit: AuditView<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditView<'a> {
    epoch: u64,
    #[serde(borrow)]
    log_id: &'a str,
    #[serde(borrow)]
    prev_mac: &'a str,
    #[serde(borrow)]
    mac: &'a str,
}

/// The chain fields and MAC of a line, read without building the whole
/// record. The signed bytes are `line[..signed_len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainOfLine {
    /// The chain fields.
    pub chain: ChainFields,
    /// The record's MAC.
    pub mac: MacBytes,
    /// Length of the signed bytes.
    pub signed_len: usize,
}

/// Read the chain fields of a line (no newline) fast, relying on the
/// canonical layout of the end of a record. Succeeds on every line the writer
/// produced; on other lines it may succeed with values that then fail the
/// MAC, which is why anomalies are re-examined with [`parse_chain`].
pub(crate) fn scan_chain(line: &[u8]) -> Option<ChainOfLine> {
    const PREV: &[u8] = b",\"prev_mac\":\"";
    const LOG: &[u8] = b",\"log_id\":\"";
    const EPOCH: &[u8] = b"\"audit\":{\"epoch\":";
    const SEQ: &[u8] = b",\"sequence\":";
    let (signed, mac) = split_mac(line)?;
    let rest = signed.strip_suffix(b"\"")?;
    let cut = rest.len().checked_sub(64)?;
    let (rest, prev_hex) = rest.split_at(cut);
    let rest = rest.strip_suffix(PREV)?.strip_suffix(b"\"")?;
    let cut = rest.len().checked_sub(32)?;
    let (rest, log_hex) = rest.split_at(cut);
    let rest = rest.strip_suffix(LOG)?;
    let digits = rest.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (rest, epoch) = rest.split_at(rest.len() - digits);
    let epoch = decimal(epoch)?;
    rest.strip_suffix(EPOCH)?;
    let at = memchr::memmem::find(rest, SEQ)? + SEQ.len();
    let tail = rest.get(at..)?;
    let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
    let sequence = decimal(tail.get(..digits)?)?;
    if !matches!(tail.get(digits), Some(&b'}' | &b',')) {
        return None;
    }
    let mut prev_mac = [0u8; KEY_LEN];
    hex_decode_into(prev_hex, &mut prev_mac)?;
    let mut id = [0u8; 16];
    hex_decode_into(log_hex, &mut id)?;
    Some(ChainOfLine {
        chain: ChainFields {
            log_id: LogId(id),
            epoch,
            sequence,
            prev_mac,
        },
        mac,
        signed_len: signed.len(),
    })
}

/// A canonical non-negative decimal integer (no sign, no leading zero).
fn decimal(d: &[u8]) -> Option<u64> {
    if d.is_empty() || d.len() > 20 || (d.len() > 1 && d.first() == Some(&b'0')) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in d {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// Read the chain fields of a canonical line (no newline). Fails on anything
/// that is not JSON of the record's shape with a canonical MAC suffix.
///
/// # Errors
/// [`ParseError`] describing the defect.
pub(crate) fn parse_chain(line: &[u8]) -> Result<ChainOfLine, ParseError> {
    let view: ChainView<'_> =
        serde_json::from_slice(line).map_err(|e| ParseError(format!("not a record: {e}")))?;
    let (signed, mac) = split_mac(line)
        .ok_or_else(|| ParseError("the line does not end with the MAC member".into()))?;
    let a = &view.modelseal.audit;
    let log_id = LogId::from_hex(a.log_id).ok_or_else(|| {
        ParseError("modelseal.audit.log_id is not 32 lowercase hex digits".into())
    })?;
    let mut prev_mac = [0u8; KEY_LEN];
    hex_decode_into(a.prev_mac.as_bytes(), &mut prev_mac).ok_or_else(|| {
        ParseError("modelseal.audit.prev_mac is not 64 lowercase hex digits".into())
    })?;
    let suffix_hex = line
        .get(signed.len() + MAC_PREFIX.len()..line.len() - MAC_END.len())
        .unwrap_or_default();
    if a.mac.as_bytes() != suffix_hex {
        return Err(ParseError("modelseal.audit.mac is not canonical".into()));
    }
    Ok(ChainOfLine {
        chain: ChainFields {
            log_id,
            epoch: a.epoch,
            sequence: view.event.sequence,
            prev_mac,
        },
        mac,
        signed_len: signed.len(),
    })
}

// ---- full typed record, for SIEM documents and tests ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire<'a> {
    #[serde(rename = "@timestamp", borrow)]
    timestamp: Cow<'a, str>,
    #[serde(borrow)]
    ecs: WireEcs<'a>,
    #[serde(borrow)]
    event: WireEvent<'a>,
    #[serde(borrow, default)]
    file: Option<WireFile<'a>>,
    #[serde(borrow)]
    host: WireName<'a>,
    #[serde(borrow, default)]
    rule: Option<WireName<'a>>,
    #[serde(borrow)]
    source: WireIp<'a>,
    #[serde(borrow)]
    user: WireId<'a>,
    #[serde(borrow)]
    modelseal: WireNs<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEcs<'a> {
    #[serde(borrow)]
    version: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEvent<'a> {
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(borrow, default)]
    category: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    dataset: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    module: Cow<'a, str>,
    #[serde(borrow)]
    outcome: Cow<'a, str>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
    sequence: u64,
    #[serde(borrow, default, rename = "type")]
    types: Option<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFile<'a> {
    #[serde(borrow, default)]
    hash: Option<WireHash<'a>>,
    #[serde(borrow, default)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    x509: Option<WireX509<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireX509<'a> {
    #[serde(borrow)]
    alternative_names: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    issuer: WireDn<'a>,
    #[serde(borrow)]
    not_after: Cow<'a, str>,
    #[serde(borrow)]
    serial_number: Cow<'a, str>,
    #[serde(borrow)]
    subject: WireDn<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDn<'a> {
    #[serde(borrow)]
    distinguished_name: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBundle<'a> {
    #[serde(borrow, default)]
    path: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sha256: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSigner<'a> {
    #[serde(borrow, default)]
    identity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    key_sha256: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHash<'a> {
    #[serde(borrow, default)]
    sha256: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sha384: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sha512: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireName<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireIp<'a> {
    #[serde(borrow)]
    ip: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireId<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireNs<'a> {
    #[serde(borrow)]
    audit: AuditView<'a>,
    #[serde(borrow, default)]
    bundle: Option<WireBundle<'a>>,
    #[serde(borrow, default)]
    signer: Option<WireSigner<'a>>,
    #[serde(borrow, default)]
    timestamp: Option<WireTimestamp<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTimestamp<'a> {
    #[serde(borrow)]
    gen_time: Cow<'a, str>,
    #[serde(borrow)]
    tsa: WireTsa<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTsa<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    url: Option<Cow<'a, str>>,
}

/// A complete record, parsed from any JSON serialization of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The event.
    pub event: Event,
    /// The chain fields.
    pub chain: ChainFields,
    /// The MAC the record carries.
    pub mac: MacBytes,
}

impl Record {
    /// Parse a record from JSON in any key order or whitespace (for example
    /// as a SIEM re-serialized it). Fields are checked strictly: unknown
    /// members, a non-canonical timestamp or upper-case hex are refused.
    ///
    /// # Errors
    /// [`ParseError`] describing the defect.
    pub fn parse(json: &[u8]) -> Result<Self, ParseError> {
        let w: Wire<'_> =
            serde_json::from_slice(json).map_err(|e| ParseError(format!("not a record: {e}")))?;
        let pe = |s: &str| ParseError(s.to_string());
        if w.ecs.version != ECS_VERSION
            || w.event.dataset != EVENT_DATASET
            || w.event.module != EVENT_MODULE
            || w.event.kind != "event"
        {
            return Err(pe(
                "ecs.version, event.dataset, event.module or event.kind has an unexpected value",
            ));
        }
        let ts = time::PrimitiveDateTime::parse(&w.timestamp, TS_FORMAT)
            .map_err(|_| pe("@timestamp is not YYYY-MM-DDThh:mm:ss.ffffffZ"))?
            .assume_utc();
        let outcome = Outcome::parse(&w.event.outcome)
            .ok_or_else(|| pe("event.outcome is neither success nor failure"))?;
        let source_ip: IpAddr = w
            .source
            .ip
            .parse()
            .map_err(|_| pe("source.ip is not an IP address"))?;
        if source_ip.to_string() != w.source.ip {
            return Err(pe("source.ip is not in canonical form"));
        }
        let mut details = Details::default();
        let (file_path, file_hash) = match w.file {
            None => (None, None),
            Some(f) => {
                let hash = match f.hash {
                    None => None,
                    Some(h) => {
                        let (alg, v) = match (h.sha256, h.sha384, h.sha512) {
                            (Some(v), None, None) => (HashAlgorithm::Sha256, v),
                            (None, Some(v), None) => (HashAlgorithm::Sha384, v),
                            (None, None, Some(v)) => (HashAlgorithm::Sha512, v),
                            _ => return Err(pe("file.hash must have exactly one member")),
                        };
                        Some(FileHash {
                            algorithm: alg,
                            hex: v.into_owned(),
                        })
                    }
                };
                if hash.is_none() && f.path.is_none() && f.x509.is_none() {
                    return Err(pe("file is empty"));
                }
                details.x509 = f.x509.map(|x| X509 {
                    alternative_names: x
                        .alternative_names
                        .into_iter()
                        .map(Cow::into_owned)
                        .collect(),
                    issuer: x.issuer.distinguished_name.into_owned(),
                    not_after: x.not_after.into_owned(),
                    serial_number: x.serial_number.into_owned(),
                    subject: x.subject.distinguished_name.into_owned(),
                });
                (f.path.map(Cow::into_owned), hash)
            }
        };
        details.policy = w.rule.map(|r| r.name.into_owned());
        if let Some(b) = w.modelseal.bundle {
            if b.path.is_none() && b.sha256.is_none() {
                return Err(pe("modelseal.bundle is empty"));
            }
            details.bundle_path = b.path.map(Cow::into_owned);
            details.bundle_sha256 = b.sha256.map(Cow::into_owned);
        }
        if let Some(sg) = w.modelseal.signer {
            if sg.identity.is_none() && sg.key_sha256.is_none() {
                return Err(pe("modelseal.signer is empty"));
            }
            details.signer_identity = sg.identity.map(Cow::into_owned);
            details.key_sha256 = sg.key_sha256.map(Cow::into_owned);
        }
        details.timestamp = w.modelseal.timestamp.map(|t| TsaTimestamp {
            gen_time: t.gen_time.into_owned(),
            tsa_name: t.tsa.name.map(Cow::into_owned),
            tsa_url: t.tsa.url.map(Cow::into_owned),
        });
        let list =
            |v: Option<Vec<Cow<'_, str>>>, what: &str| -> Result<Option<Vec<String>>, ParseError> {
                match v {
                    Some(v) if v.is_empty() => Err(ParseError(format!("{what} is empty"))),
                    Some(v) => Ok(Some(v.into_iter().map(Cow::into_owned).collect())),
                    None => Ok(None),
                }
            };
        let category = list(w.event.category, "event.category")?
            .unwrap_or_default()
            .iter()
            .map(|c| Category::parse(c).ok_or_else(|| pe("event.category has an unknown value")))
            .collect::<Result<Vec<_>, _>>()?;
        let types = list(w.event.types, "event.type")?
            .unwrap_or_default()
            .iter()
            .map(|c| EventType::parse(c).ok_or_else(|| pe("event.type has an unknown value")))
            .collect::<Result<Vec<_>, _>>()?;
        let a = &w.modelseal.audit;
        let log_id = LogId::from_hex(a.log_id).ok_or_else(|| pe("bad modelseal.audit.log_id"))?;
        let mut prev_mac = [0u8; KEY_LEN];
        hex_decode_into(a.prev_mac.as_bytes(), &mut prev_mac)
            .ok_or_else(|| pe("bad modelseal.audit.prev_mac"))?;
        let mut mac = [0u8; KEY_LEN];
        hex_decode_into(a.mac.as_bytes(), &mut mac).ok_or_else(|| pe("bad modelseal.audit.mac"))?;
        let event = Event {
            timestamp: ts,
            action: w.event.action.into_owned(),
            category,
            types,
            outcome,
            reason: w.event.reason.map(Cow::into_owned),
            user_id: w.user.id.into_owned(),
            user_name: w.user.name.map(Cow::into_owned),
            source_ip,
            host_name: w.host.name.into_owned(),
            file_path,
            file_hash,
            details,
        };
        event.validate().map_err(|e| ParseError(e.to_string()))?;
        Ok(Record {
            event,
            chain: ChainFields {
                log_id,
                epoch: a.epoch,
                sequence: w.event.sequence,
                prev_mac,
            },
            mac,
        })
    }

    /// The canonical line of this record, with its trailing newline.
    ///
    /// # Errors
    /// [`Error::InvalidEvent`] if the event is out of limits.
    pub fn to_line(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(512);
        signed_bytes(&self.event, &self.chain, &mut out)?;
        finish_line(&mut out, &self.mac);
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use time::macros::datetime;

    pub(crate) fn sample() -> Event {
        Event {
            timestamp: datetime!(2025-03-04 05:06:07.089 +02:00),
            action: "model.verify".into(),
            category: Vec::new(),
            types: Vec::new(),
            outcome: Outcome::Failure,
            reason: Some("digest mismatch: \"w.bin\"\n\u{1}é".into()),
            user_id: "alice".into(),
            user_name: None,
            source_ip: "::ffff:10.0.0.1".parse().unwrap(),
            host_name: "build-1".into(),
            file_path: Some("/models/m".into()),
            file_hash: Some(FileHash::parse(&format!("sha256:{}", "AB".repeat(32))).unwrap()),
            details: Details::default(),
        }
    }

    fn chain() -> ChainFields {
        ChainFields {
            log_id: LogId([0x11; 16]),
            epoch: 3,
            sequence: 42,
            prev_mac: [0x22; 32],
        }
    }

    #[test]
    fn canonical_line_is_exact_and_parses_back() {
        let mut out = Vec::new();
        signed_bytes(&sample(), &chain(), &mut out).unwrap();
        finish_line(&mut out, &[0x33; 32]);
        let line = String::from_utf8(out.clone()).unwrap();
        let expected = format!(
            concat!(
                "{{\"@timestamp\":\"2025-03-04T03:06:07.089000Z\",\"ecs\":{{\"version\":\"9.4.0\"}},",
                "\"event\":{{\"action\":\"model.verify\",\"dataset\":\"modelseal.audit\",\"kind\":\"event\",",
                "\"module\":\"modelseal\",\"outcome\":\"failure\",",
                "\"reason\":\"digest mismatch: \\\"w.bin\\\"\\n\\u0001é\",\"sequence\":42}},",
                "\"file\":{{\"hash\":{{\"sha256\":\"{}\"}},\"path\":\"/models/m\"}},",
                "\"host\":{{\"name\":\"build-1\"}},\"source\":{{\"ip\":\"::ffff:10.0.0.1\"}},",
                "\"user\":{{\"id\":\"alice\"}},\"modelseal\":{{\"audit\":{{\"epoch\":3,",
                "\"log_id\":\"{}\",\"prev_mac\":\"{}\",\"mac\":\"{}\"}}}}}}\n"
            ),
            "ab".repeat(32),
            "11".repeat(16),
            "22".repeat(32),
            "33".repeat(32)
        );
        assert_eq!(line, expected);
        // Our string escaping agrees with serde_json's.
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"]["reason"], "digest mismatch: \"w.bin\"\n\u{1}é");
        let rec = Record::parse(line.trim_end().as_bytes()).unwrap();
        assert_eq!(rec.chain, chain());
        assert_eq!(rec.mac, [0x33; 32]);
        assert_eq!(rec.to_line().unwrap(), out);
        // Re-serialized by someone else (pretty, other key order): same record.
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        assert_eq!(Record::parse(&pretty).unwrap().to_line().unwrap(), out);
        let c = parse_chain(line.trim_end().as_bytes()).unwrap();
        assert_eq!(c.chain, chain());
        assert_eq!(c.signed_len, line.len() - 1 - MAC_SUFFIX_LEN);
        assert_eq!(scan_chain(line.trim_end().as_bytes()), Some(c));
    }

    #[test]
    fn timestamp_fields_are_canonical_and_parse_back() {
        let mut e = sample();
        e.details.key_sha256 = Some("cd".repeat(32));
        e.details.timestamp = Some(TsaTimestamp {
            gen_time: "2026-12-01T19:00:00Z".into(),
            tsa_name: None,
            tsa_url: Some("http://127.0.0.1:8080/".into()),
        });
        let mut out = Vec::new();
        signed_bytes(&e, &chain(), &mut out).unwrap();
        finish_line(&mut out, &[0x33; 32]);
        let line = String::from_utf8(out.clone()).unwrap();
        assert!(
            line.contains("\"key_sha256\":\"cdcd")
                && line.contains(concat!(
                    "\"},\"timestamp\":{\"gen_time\":\"2026-12-01T19:00:00Z\",",
                    "\"tsa\":{\"url\":\"http://127.0.0.1:8080/\"}},\"audit\":{"
                )),
            "{line}"
        );
        let rec = Record::parse(line.trim_end().as_bytes()).unwrap();
        assert_eq!(rec.event.details.timestamp, e.details.timestamp);
        assert_eq!(rec.to_line().unwrap(), out);
        // A genTime that is not RFC 3339, or a TSA with neither name nor URL.
        let mut bad = e.clone();
        if let Some(t) = &mut bad.details.timestamp {
            t.gen_time = "yesterday".into();
        }
        assert!(matches!(
            bad.validate(),
            Err(Error::InvalidEvent {
                field: "modelseal.timestamp.gen_time",
                ..
            })
        ));
        let mut bad = e.clone();
        if let Some(t) = &mut bad.details.timestamp {
            t.tsa_url = None;
        }
        assert!(matches!(
            bad.validate(),
            Err(Error::InvalidEvent {
                field: "modelseal.timestamp.tsa",
                ..
            })
        ));
        // Unknown members are refused.
        let odd = line.replace("\"tsa\":{", "\"tsa\":{\"serial\":\"1\",");
        assert!(Record::parse(odd.trim_end().as_bytes()).is_err());
    }

    #[test]
    fn optional_fields_are_omitted() {
        let mut e = sample();
        e.reason = None;
        e.file_hash = None;
        e.file_path = None;
        let mut out = Vec::new();
        signed_bytes(&e, &chain(), &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains("\"file\"") && !s.contains("\"reason\""), "{s}");
        assert!(s.contains("\"sequence\":42},\"host\""));
    }

    #[test]
    fn invalid_events_are_refused_by_field() {
        type Mutation = Box<dyn Fn(&mut Event)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|e| e.action = String::new()), "event.action"),
            (Box::new(|e| e.action = "model sign".into()), "event.action"),
            (Box::new(|e| e.user_id = "a\nb".into()), "user.id"),
            (Box::new(|e| e.host_name = "x".repeat(256)), "host.name"),
            (
                Box::new(|e| e.reason = Some("x".repeat(9000))),
                "event.reason",
            ),
            (Box::new(|e| e.file_path = Some(String::new())), "file.path"),
            (
                Box::new(|e| e.timestamp = datetime!(-0001-01-01 0:00 UTC)),
                "@timestamp",
            ),
        ];
        for (mutate, field) in cases {
            let mut e = sample();
            mutate(&mut e);
            match e.validate() {
                Err(Error::InvalidEvent { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn bound_makes_every_text_field_fit_and_marks_what_it_cut() {
        let mut e = sample();
        e.reason = Some(format!("{}é\0end", "r".repeat(9000)));
        e.file_path = Some(format!("/m/{}\x1b[2K", "d/".repeat(3000)));
        e.user_id = String::new();
        e.host_name = "h\r".repeat(200);
        assert!(e.validate().is_err());
        assert!(e.bound());
        e.validate().unwrap();
        let reason = e.reason.as_deref().unwrap();
        assert!(reason.len() <= MAX_REASON, "{}", reason.len());
        assert!(reason.starts_with("rrrr"));
        assert!(reason.contains(TRUNCATION_MARKER) && reason.ends_with(" bytes]"));
        let path = e.file_path.as_deref().unwrap();
        assert!(path.len() <= MAX_PATH && path.contains(TRUNCATION_MARKER));
        assert_eq!(e.user_id, "-");
        assert!(e.host_name.starts_with("h\\u{d}h"), "{}", e.host_name);
        // The record is written and under the line limit.
        let mut out = Vec::new();
        signed_bytes(&e, &chain(), &mut out).unwrap();
        // An event within limits is left alone.
        let mut ok = sample();
        assert!(!ok.bound());
        assert_eq!(ok, sample());
        // A NUL-only reason escapes without growing past the limit.
        let mut nul = sample();
        nul.reason = Some("\0".repeat(MAX_REASON));
        assert!(nul.bound());
        nul.validate().unwrap();
    }

    #[test]
    fn digests_parse_strictly() {
        let h = FileHash::parse(&"0f".repeat(48)).unwrap();
        assert_eq!(h.algorithm, HashAlgorithm::Sha384);
        assert!(FileHash::parse("md5:00").is_err());
        assert!(FileHash::parse(&format!("sha256:{}", "0".repeat(63))).is_err());
        assert!(FileHash::parse(&format!("sha512:{}", "g".repeat(128))).is_err());
    }

    #[test]
    fn non_canonical_documents_are_refused() {
        let mut out = Vec::new();
        signed_bytes(&sample(), &chain(), &mut out).unwrap();
        finish_line(&mut out, &[0x33; 32]);
        let line = String::from_utf8(out).unwrap();
        let upper = line.replace(&"33".repeat(32), &"3A".repeat(32));
        assert!(parse_chain(upper.trim_end().as_bytes()).is_err());
        assert!(Record::parse(upper.as_bytes()).is_err());
        let extra = line.replacen("{\"@timestamp\"", "{\"x\":1,\"@timestamp\"", 1);
        assert!(Record::parse(extra.as_bytes()).is_err());
        let ts = line.replace(".089000Z", ".089Z");
        assert!(Record::parse(ts.as_bytes()).is_err());
    }
}
