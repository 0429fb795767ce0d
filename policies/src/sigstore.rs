//! Sigstore in trust policies:
//!
//! - a trust store may be a Sigstore trusted root: `{"sigstore":
//!   "public-good"}` (the root built into this release) or `{"sigstore":
//!   "trusted_root.json"}` (a file, relative to the policy);
//! - a trusted identity may be keyless: `{"issuer": URL, "identity": SAN}`,
//!   either side exact or as an anchored regular expression
//!   (`issuerRegexp`, `identityRegexp`);
//! - `"transparencyLog": "required"` requires every signature to carry a
//!   transparency-log entry that verified against the policy's Sigstore
//!   root (keyless signatures always need one: without it they are not
//!   trusted).
//!
//! The verifier gathers the facts (its [`Sigstore`] trust and evidence
//! source); this module only reads them ([`tlog_fact`]) and picks the
//! trust source a signature is judged by ([`PolicyTrust`]).

use std::path::Path;

use modelseal_verifier::{
    EvidenceKind, Identity, Matcher, ParsedBundle, SignatureFacts, Sigstore, TrustAnchors,
    TrustContext, TrustFacts, TrustSource,
};
use serde_json::Value;

use crate::evaluate::Fact;
use crate::read::{self, Problems, Ptr};

/// Largest trusted root file read.
const MAX_ROOT_FILE: u64 = 4 * 1024 * 1024;

/// The value of a store's `sigstore` field that names the built-in root.
pub const PUBLIC_GOOD: &str = "public-good";

/// Load a store's `sigstore` field: [`PUBLIC_GOOD`] or a trusted root file.
pub(crate) fn load_root(v: &Value, ptr: &Ptr, base: &Path, p: &mut Problems) -> Option<Sigstore> {
    let written = read::non_empty_string(v, ptr, p)?;
    if written == PUBLIC_GOOD {
        return match Sigstore::public_good() {
            Ok(s) => Some(s),
            Err(e) => {
                p.add(ptr, e.to_string());
                None
            }
        };
    }
    let path = read::resolve(base, written);
    let bytes = match read::read_limited(&path, MAX_ROOT_FILE) {
        Ok(b) => b,
        Err(reason) => {
            p.add(ptr, reason.to_string());
            return None;
        }
    };
    match Sigstore::from_json(&bytes, path.display().to_string()) {
        Ok(s) => Some(s),
        Err(e) => {
            p.add(ptr, format!("{}: {e}", path.display()));
            None
        }
    }
}

/// Load a keyless trusted identity: `issuer` or `issuerRegexp`, and
/// `identity` or `identityRegexp`, exactly one of each.
pub(crate) fn load_identity(v: &Value, ptr: &Ptr, p: &mut Problems) -> Option<Identity> {
    let map = read::object(
        v,
        ptr,
        &[
            "description",
            "issuer",
            "issuerRegexp",
            "identity",
            "identityRegexp",
        ],
        &[],
        p,
    )?;
    if let Some(d) = map.get("description") {
        read::string(d, &ptr.key("description"), p);
    }
    let mut matcher = |exact: &str, regexp: &str, what: &str| -> Option<Matcher> {
        match (map.get(exact), map.get(regexp)) {
            (Some(v), None) => {
                read::non_empty_string(v, &ptr.key(exact), p).map(|s| Matcher::Exact(s.to_owned()))
            }
            (None, Some(v)) => {
                let rptr = ptr.key(regexp);
                let s = read::non_empty_string(v, &rptr, p)?;
                match Matcher::regex(s) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        p.add(&rptr, e.to_string());
                        None
                    }
                }
            }
            _ => {
                p.add(
                    ptr,
                    format!(
                        "a keyless identity needs exactly one of `{exact}` and `{regexp}` ({what})"
                    ),
                );
                None
            }
        }
    };
    let issuer = matcher("issuer", "issuerRegexp", "the OIDC issuer");
    let identity = matcher("identity", "identityRegexp", "the signer's SAN");
    Some(Identity::keyless(issuer?, identity?))
}

/// Load `transparencyLog`: `"required"` or `"optional"` (the default).
pub(crate) fn load_tlog(v: &Value, ptr: &Ptr, p: &mut Problems) -> bool {
    match read::string(v, ptr, p) {
        Some("required") => true,
        Some("optional") => false,
        Some(other) => {
            p.add(
                ptr,
                format!("unknown value {other:?} (expected \"required\" or \"optional\")"),
            );
            false
        }
        None => false,
    }
}

/// A policy's trust source: its X.509 roots and its Sigstore root. A
/// certificate that names an OIDC issuer (a Fulcio certificate) is judged
/// by the Sigstore root when the policy has one, any other by the roots.
#[derive(Debug)]
pub(crate) struct PolicyTrust<'a> {
    pub(crate) anchors: Option<&'a TrustAnchors>,
    pub(crate) sigstore: Option<&'a Sigstore>,
}

impl PolicyTrust<'_> {
    /// Whether the policy trusts anything.
    pub(crate) fn any(&self) -> bool {
        self.anchors.is_some() || self.sigstore.is_some()
    }
}

impl TrustSource for PolicyTrust<'_> {
    fn establish(&self, bundle: &ParsedBundle, ctx: &TrustContext<'_>) -> TrustFacts {
        let fulcio = bundle.leaf().is_some_and(|l| l.oidc.is_some());
        match (self.anchors, self.sigstore) {
            (Some(a), Some(_)) if !fulcio => a.establish(bundle, ctx),
            (_, Some(s)) => s.establish(bundle, ctx),
            (Some(a), None) => a.establish(bundle, ctx),
            (None, None) => TrustFacts::new(modelseal_verifier::Finding::not_run(
                "the policy has no trust store",
            )),
        }
    }
}

/// The `tlog` fact over the verifier's evidence: every entry the bundle
/// carries verified; at least one when `required`. `checked`: the policy
/// has a Sigstore root the entries were checked against.
pub(crate) fn tlog_fact(v: &SignatureFacts, required: bool, checked: bool) -> Fact {
    let entries: Vec<_> = v
        .evidence()
        .iter()
        .filter(|e| e.kind == EvidenceKind::TransparencyLog)
        .collect();
    if let Some(bad) = entries.iter().find(|e| !e.finding.passed()) {
        return Fact {
            status: bad.finding.status(),
            detail: bad.finding.detail().to_owned(),
            input_error: bad.finding.is_input_error(),
        };
    }
    match (entries.is_empty(), required, checked) {
        (true, true, _) => {
            Fact::fail("the policy requires a transparency-log entry, and the bundle carries none")
        }
        // Nothing to check and nothing required: the check holds (a
        // skipped fact would fail an enforced check).
        (true, false, _) => Fact::pass("no transparency-log entry, none required"),
        (false, _, false) => Fact::pass(
            "none required; the bundle's transparency-log entries are not checked (the policy has no Sigstore trust store)",
        ),
        (false, _, true) => Fact::pass(
            entries
                .iter()
                .map(|e| e.finding.detail())
                .collect::<Vec<_>>()
                .join("; "),
        ),
    }
}
