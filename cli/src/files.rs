//! Reading inputs with size limits and writing outputs atomically.

use std::fs;
use std::io::Write;
use std::path::Path;

use modelseal_policies::{SignatureFile, SignatureInput};

use crate::output::CliError;

/// The bundle file name `sign` writes and `verify` and `gate` read by
/// default.
pub(crate) const DEFAULT_SIGNATURE: &str = "model.sig";

/// A hint for a signature file that does not exist but sits inside the
/// model (`MODEL/model.sig`), to append to the error.
pub(crate) fn signature_hint(model: &Path, signature: &Path) -> Option<String> {
    if signature.exists() {
        return None;
    }
    let inside = model.join(signature.file_name()?);
    inside.is_file().then(|| {
        format!(
            "; {} exists: pass --signature {}",
            inside.display(),
            inside.display()
        )
    })
}

/// Read a signature bundle (a regular file, at most the bundle size
/// limit); the error carries [`signature_hint`] when the bundle sits inside
/// the model.
pub(crate) fn read_signature(model: &Path, path: &Path) -> Result<Vec<u8>, CliError> {
    modelseal_verifier::read_bundle(path, modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES).map_err(
        |e| {
            let mut err = CliError::error(e.kind(), e.to_string());
            if let Some(hint) = signature_hint(model, path) {
                err.message.push_str(&hint);
            }
            err
        },
    )
}

/// The signature bundles given to a policy, read ([`read_signature`]) and
/// labelled by their paths.
pub(crate) struct PolicyBundles(Vec<SignatureFile>);

impl PolicyBundles {
    /// Read every bundle of `paths` for the model at `model`.
    pub(crate) fn read<'p>(
        model: &Path,
        paths: impl IntoIterator<Item = &'p Path>,
    ) -> Result<Self, CliError> {
        paths
            .into_iter()
            .map(|p| Ok(SignatureFile::new(p.to_owned(), read_signature(model, p)?)))
            .collect::<Result<_, CliError>>()
            .map(Self)
    }

    /// As the policies crate takes them.
    pub(crate) fn inputs(&self) -> Vec<SignatureInput<'_>> {
        self.0.iter().map(SignatureFile::input).collect()
    }
}

/// Largest key, certificate or policy file read (bytes).
pub(crate) const MAX_SMALL_FILE: u64 = 1024 * 1024;

/// Read a small input file (key, certificate, root), refusing huge ones.
pub(crate) fn read_small(what: &str, path: &Path) -> Result<Vec<u8>, CliError> {
    let err = |e: std::io::Error| {
        CliError::error(
            "unreadable_input",
            format!("cannot read {what} {}: {e}", path.display()),
        )
    };
    let bytes = modelseal_manifest::read_regular(path, MAX_SMALL_FILE).map_err(err)?;
    if bytes.len() as u64 > MAX_SMALL_FILE {
        return Err(CliError::error(
            "unreadable_input",
            format!(
                "{what} {} is larger than {MAX_SMALL_FILE} bytes",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

/// Write `bytes` to `path` atomically: a temporary file beside it, flushed
/// to disk, then renamed over it. A crash leaves the old file or the new
/// one, never half of one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let err = |e: std::io::Error| {
        CliError::error(
            "write_failed",
            format!("cannot write {}: {e}", path.display()),
        )
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}
