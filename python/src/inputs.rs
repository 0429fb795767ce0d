//! The arguments of `verify` and `open_model`, checked and turned into the
//! verifier's options. Only parsing happens here: what is trusted and how
//! is decided by the verifier and policies crates.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES;
use modelseal_manifest::HashOptions;
use modelseal_verifier::read_bundle;
use modelseal_verifier::{
    BundleTrust, EvidenceSource, Identity, Matcher, Options, PublicKey, Report, Sigstore, Trust,
    TrustAnchors,
};
use pyo3::FromPyObject;

use crate::errors::Failure;

/// Largest PEM or trusted-root file read.
const MAX_PEM_BYTES: u64 = 4 << 20;

/// What to verify and against what, as Python gave it: the one argument
/// of `_native.verify` and `_native.open_model`, a dict that
/// `modelseal._request` builds (every key present).
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
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
    /// Required signer identities (any of them); `["*"]` for any signer.
    /// Keyless: the one SAN required.
    pub(crate) identities: Vec<String>,
    /// Keyless: a regular expression the whole SAN must match.
    pub(crate) identity_regexp: Option<String>,
    /// A Sigstore `trusted_root.json` (default: the public-good root).
    pub(crate) trusted_root: Option<PathBuf>,
    /// Keyless: the OIDC issuer that authenticated the signer, exactly.
    pub(crate) oidc_issuer: Option<String>,
    /// Keyless: a regular expression the whole OIDC issuer must match.
    pub(crate) oidc_issuer_regexp: Option<String>,
    /// RFC 3339 verification time; now if absent.
    pub(crate) at: Option<String>,
    /// Hashing threads; one per core if absent.
    pub(crate) threads: Option<usize>,
    /// The model's signed name must be one of these (none: any name), as
    /// the CLI's `--model-name`.
    pub(crate) model_names: Vec<String>,
    /// `open_model`: the most bytes a model sealed in memory, or one file
    /// read into a buffer, may hold; the memory available if absent.
    pub(crate) max_sealed_bytes: Option<u64>,
}

/// How the signer is trusted.
#[derive(Debug)]
pub(crate) enum Source {
    /// One bundle, against roots, a key or a Sigstore root.
    Bundle(Box<BundleTrust>),
    /// A trust policy file.
    Policy(PathBuf),
}

/// The evidence sources of `trust`, for [`options`].
pub(crate) fn evidence(trust: &BundleTrust) -> [&dyn EvidenceSource; 1] {
    [trust.sigstore()]
}

/// The verifier's options for `trust`: the one place both `verify` and
/// `open_model` get them from.
pub(crate) fn options<'a>(
    trust: &'a BundleTrust,
    evidence: &'a [&'a dyn EvidenceSource],
    time: SystemTime,
    signature: &'a Path,
    model_names: &'a [String],
    hash: HashOptions<'static>,
) -> Options<'a> {
    let mut opts = Options::new(trust.source(), trust.requirement(), time);
    opts.model_names = model_names;
    opts.evidence = evidence;
    opts.signature_file = Some(signature);
    opts.hash = hash;
    opts
}

fn usage(reason: impl Into<String>) -> Failure {
    Failure::input("usage", reason)
}

impl Request {
    fn keyless(&self) -> bool {
        self.oidc_issuer.is_some()
            || self.oidc_issuer_regexp.is_some()
            || self.identity_regexp.is_some()
    }

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
            if !self.identities.is_empty() || self.keyless() || self.trusted_root.is_some() {
                return Err(usage(
                    "policy names the trusted identities and roots: give it without identity, oidc_issuer or trusted_root",
                ));
            }
            if !self.model_names.is_empty() {
                return Err(usage(
                    "policy pins model names (a scope's modelNames): give it without model_name",
                ));
            }
            return Ok(Source::Policy(policy.clone()));
        }
        if self.signatures.len() > 1 {
            return Err(usage(
                "several signatures need a policy (which says how many distinct signers are required)",
            ));
        }
        let sigstore = match &self.trusted_root {
            Some(path) => Sigstore::from_json(
                &read_small("trusted root", path)?,
                path.display().to_string(),
            )
            .map_err(|e| {
                Failure::input(
                    "invalid_trusted_root",
                    format!("trusted_root {}: {e}", path.display()),
                )
            })?,
            None => Sigstore::public_good().map_err(|e| {
                Failure::input(
                    "invalid_trusted_root",
                    format!("the built-in Sigstore trusted root: {e}"),
                )
            })?,
        };
        if self.keyless() {
            if !self.trust_roots.is_empty() || self.public_key.is_some() {
                return Err(usage(
                    "oidc_issuer (Sigstore keyless) takes the place of trust_root and public_key: give one kind of trust",
                ));
            }
            return Ok(Source::Bundle(Box::new(BundleTrust::keyless(
                sigstore,
                self.keyless_identity()?,
            ))));
        }
        let trust = match (&self.public_key, self.trust_roots.as_slice()) {
            (Some(path), []) => {
                let pem = read_small("public key", path)?;
                Trust::PublicKey(PublicKey::from_pem(&pem).map_err(|e| config(path, &e))?)
            }
            (None, [first, rest @ ..]) => {
                let load = |p: &PathBuf| {
                    TrustAnchors::from_pem(&read_small("trust root", p)?).map_err(|e| config(p, &e))
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
                    "give trust_root (certificate mode), public_key (key mode), oidc_issuer and identity (Sigstore keyless) or policy",
                ));
            }
        };
        Ok(Source::Bundle(Box::new(BundleTrust::plain(
            trust,
            self.plain_identities()?,
            sigstore,
            self.trusted_root.is_some(),
        ))))
    }

    /// The identities required in certificate or key mode (`None`: any
    /// signer). Certificate mode never accepts any signer implicitly.
    fn plain_identities(&self) -> Result<Option<Vec<Identity>>, Failure> {
        Ok(match self.identities.as_slice() {
            [any] if any == "*" => None,
            [] if !self.trust_roots.is_empty() => {
                return Err(usage(
                    "trust_root needs identity: the signer identity required (a SAN such as email:release@example.com, or a subject DN), or identity=\"*\" to accept any signer these roots certify",
                ));
            }
            [] => None,
            ids => Some(
                ids.iter()
                    .map(|s| {
                        if s == "*" {
                            return Err(usage(
                                "identity \"*\" (any signer) cannot be combined with other identities",
                            ));
                        }
                        Identity::parse(s).map_err(|e| usage(e.to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        })
    }

    /// The keyless identity: exactly one SAN (or pattern) and one issuer
    /// (or pattern); never "any".
    fn keyless_identity(&self) -> Result<Identity, Failure> {
        let matcher = |exact: Option<&str>, regexp: Option<&str>, what: &str| match (exact, regexp)
        {
            (Some("*"), None) => Err(usage(format!(
                "keyless verification needs the exact {what} (or a re.Pattern), not \"*\""
            ))),
            (Some(s), None) => Ok(Matcher::Exact(s.to_owned())),
            (None, Some(r)) => Matcher::regex(r).map_err(|e| usage(format!("{what} pattern: {e}"))),
            _ => Err(usage(format!(
                "keyless verification needs both oidc_issuer and identity: one {what} (a string or a re.Pattern)"
            ))),
        };
        let identity = match self.identities.as_slice() {
            [] => None,
            [one] => Some(one.as_str()),
            _ => {
                return Err(usage(
                    "keyless verification takes one identity (use a re.Pattern for several)",
                ));
            }
        };
        Ok(Identity::keyless(
            matcher(
                self.oidc_issuer.as_deref(),
                self.oidc_issuer_regexp.as_deref(),
                "issuer",
            )?,
            matcher(identity, self.identity_regexp.as_deref(), "identity")?,
        ))
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

/// Read a small file (PEM, trusted root): a regular file (opened non-blocking, so that a
/// FIFO in its place cannot hang the caller), at most [`MAX_PEM_BYTES`].
fn read_small(what: &str, path: &Path) -> Result<Vec<u8>, Failure> {
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
