//! The arguments of `verify` and `open_model`, checked and turned into the
//! verifier's options. Only parsing happens here: what is trusted and how
//! is decided by the verifier and policies crates.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES;
use modelseal_verifier::read_bundle;
use modelseal_verifier::{Identity, PublicKey, Report, Trust, TrustAnchors};

use crate::errors::Failure;

/// Largest PEM file (key, roots) read.
const MAX_PEM_BYTES: u64 = 4 << 20;

/// What to verify and against what, as Python gave it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The model directory or single file.
    pub(crate) model: PathBuf,
    /// The bundles (one, or several under a policy).
    pub(crate) signatures: Vec<PathBuf>,
    /// PEM files of trusted roots (certificate mode).
    pub(crate) trust_roots: Vec<PathBuf>,
    /// PEM public key (key mode).
    pub(crate) public_key: Option<PathBuf>,
    /// A trust policy file.
    pub(crate) policy: Option<PathBuf>,
    /// Required signer identities (any of them).
    pub(crate) identities: Vec<String>,
    /// RFC 3339 verification time; now if absent.
    pub(crate) at: Option<String>,
    /// Hashing threads; one per core if absent.
    pub(crate) threads: Option<usize>,
}

/// How the signer is trusted.
#[derive(Debug)]
pub(crate) enum Source {
    /// Roots or a key, with optional identities.
    Trust(Box<Trust>, Vec<Identity>),
    /// A trust policy file.
    Policy(PathBuf),
}

fn usage(reason: impl Into<String>) -> Failure {
    Failure::input("usage", reason)
}

impl Request {
    /// Check the combination of options and load the trust they name.
    ///
    /// # Errors
    /// `usage` for a wrong combination, `invalid_configuration` or
    /// `unreadable_input` for trust material that cannot be used.
    pub(crate) fn source(&self) -> Result<Source, Failure> {
        if self.signatures.is_empty() {
            return Err(usage("no signature given"));
        }
        if let Some(policy) = &self.policy {
            if !self.trust_roots.is_empty() || self.public_key.is_some() {
                return Err(usage(
                    "policy supplies the trust: give it without trust_root or public_key",
                ));
            }
            if !self.identities.is_empty() {
                return Err(usage(
                    "policy names the trusted identities: give it without identity",
                ));
            }
            return Ok(Source::Policy(policy.clone()));
        }
        if self.signatures.len() > 1 {
            return Err(usage(
                "several signatures need a policy (which says how many distinct signers are required)",
            ));
        }
        let trust = match (&self.public_key, self.trust_roots.as_slice()) {
            (Some(path), []) => {
                let pem = read_pem("public key", path)?;
                Trust::PublicKey(PublicKey::from_pem(&pem).map_err(|e| config(path, &e))?)
            }
            (None, [first, rest @ ..]) => {
                let load = |p: &PathBuf| {
                    TrustAnchors::from_pem(&read_pem("trust root", p)?).map_err(|e| config(p, &e))
                };
                let mut anchors = load(first)?;
                for p in rest {
                    anchors.extend(load(p)?);
                }
                Trust::Roots(anchors)
            }
            (Some(_), [_, ..]) => {
                return Err(usage("give trust_root or public_key, not both"));
            }
            (None, []) => {
                return Err(usage(
                    "give trust_root (certificate mode), public_key (key mode) or policy",
                ));
            }
        };
        let identities = self
            .identities
            .iter()
            .map(|s| Identity::parse(s).map_err(|e| usage(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Source::Trust(Box::new(trust), identities))
    }

    /// The verification time.
    ///
    /// # Errors
    /// `usage` for a time that is not RFC 3339.
    pub(crate) fn time(&self) -> Result<SystemTime, Failure> {
        let Some(s) = self.at.as_deref() else {
            return Ok(SystemTime::now());
        };
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map(SystemTime::from)
            .map_err(|e| usage(format!("at={s:?}: not an RFC 3339 time: {e}")))
    }

    /// The one bundle of a policy-less verification.
    pub(crate) fn signature(&self) -> &Path {
        self.signatures
            .first()
            .map_or(Path::new("model.sig"), PathBuf::as_path)
    }
}

/// Read a bundle, with its failure recorded as the `bundle` check.
///
/// # Errors
/// As [`read_bundle`].
pub(crate) fn bundle(path: &Path, report: &mut Report) -> Result<Vec<u8>, Failure> {
    read_bundle(path, DEFAULT_MAX_BUNDLE_BYTES).map_err(|e| {
        report.record(
            modelseal_verifier::CheckName::Bundle,
            modelseal_verifier::Status::Fail,
            e.to_string(),
        );
        Failure::from_verifier(&e, report)
    })
}

fn config(path: &Path, e: &dyn std::fmt::Display) -> Failure {
    Failure::input("invalid_configuration", format!("{}: {e}", path.display()))
}

/// Read a small PEM file: a regular file (opened non-blocking, so that a
/// FIFO in its place cannot hang the caller), at most [`MAX_PEM_BYTES`].
fn read_pem(what: &str, path: &Path) -> Result<Vec<u8>, Failure> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Failure::input(
            "unreadable_input",
            format!("cannot read {what} {}: {e}", path.display()),
        )
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| unreadable(&e))?;
    let meta = file.metadata().map_err(|e| unreadable(&e))?;
    if !meta.is_file() {
        return Err(unreadable(&"not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(&e))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(unreadable(&format_args!(
            "larger than {MAX_PEM_BYTES} bytes"
        )));
    }
    Ok(bytes)
}
