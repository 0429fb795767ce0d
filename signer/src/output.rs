//! Writing a bundle without hurting the user.
//!
//! A release job that points `--signature` at the wrong path must lose
//! nothing. Before the model is hashed, [`Destination::check`] refuses a
//! destination that is:
//!
//! 1. the signing key file, a certificate file, or the model itself (same
//!    file, through any path or hard link);
//! 2. an existing file inside the model that is not a bundle (a bundle
//!    there is the ignored signature file of an earlier run; anything else
//!    is model content);
//! 3. an existing file outside the model that is not a bundle, unless the
//!    caller forces it;
//! 4. a directory or another non-regular file.
//!
//! [`Destination::write`] then checks again (the file may have appeared
//! meanwhile), refuses bytes larger than what `verify` reads
//! ([`DEFAULT_MAX_BUNDLE_BYTES`]), writes a temporary file in the same
//! directory, makes it mode 0644, syncs it and renames it into place: a
//! crash leaves the old file or the new one, never half of one.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES;

use crate::error::{Error, Refusal};

/// Where a bundle will be written, and what it must never replace.
#[derive(Debug, Clone)]
pub struct Destination<'a> {
    /// The bundle path.
    pub path: &'a Path,
    /// The model being signed (directory or file).
    pub model: &'a Path,
    /// Files that must never be replaced: the key, the certificates.
    pub protected: &'a [&'a Path],
    /// Replace an existing file outside the model that is not a bundle.
    pub force: bool,
}

/// Bytes read from an existing destination to tell whether it is a bundle.
const SNIFF_BYTES: u64 = 4096;

fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Whether the file starts like a Sigstore bundle (any version): a JSON
/// object whose first member is `"mediaType": "application/vnd.dev.sigstore.bundle..."`.
fn looks_like_bundle(path: &Path) -> bool {
    let mut head = Vec::new();
    let Ok(f) = File::open(path) else {
        return false;
    };
    if f.take(SNIFF_BYTES).read_to_end(&mut head).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.starts_with("{\"mediaType\":\"application/vnd.dev.sigstore.bundle")
}

impl Destination<'_> {
    fn refuse(&self, reason: Refusal) -> Error {
        Error::Destination {
            path: self.path.to_owned(),
            reason,
        }
    }

    /// Whether the destination may be written (steps 1–4 of the module
    /// documentation).
    ///
    /// # Errors
    /// [`Error::Destination`] saying why not, [`Error::NotABundle`] for an
    /// existing file that is not a bundle when not forced.
    pub fn check(&self) -> Result<(), Error> {
        let existing = match fs::symlink_metadata(self.path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(self.refuse(Refusal::Uninspectable(e))),
        };
        // The path as it resolves (a symlink is replaced, not followed, by
        // the final rename; its target is still compared below).
        let followed = fs::metadata(self.path).ok();
        for p in self.protected.iter().copied().chain([self.model]) {
            if let (Some(dest), Ok(other)) = (&followed, fs::metadata(p))
                && same_file(dest, &other)
            {
                return Err(self.refuse(Refusal::Protected(p.to_owned())));
            }
        }
        let inside = self.inside_model();
        match existing {
            None => Ok(()),
            Some(m) if m.is_dir() => Err(self.refuse(Refusal::Directory)),
            Some(m) if !m.is_file() && !m.file_type().is_symlink() => {
                Err(self.refuse(Refusal::NotRegular))
            }
            Some(_) if looks_like_bundle(self.path) => Ok(()),
            Some(_) if inside => Err(self.refuse(Refusal::ModelContent)),
            Some(_) if self.force => Ok(()),
            Some(_) => Err(Error::NotABundle {
                path: self.path.to_owned(),
            }),
        }
    }

    /// Whether the destination lies inside the model directory.
    fn inside_model(&self) -> bool {
        let Ok(root) = fs::canonicalize(self.model) else {
            return false;
        };
        if !root.is_dir() {
            return false;
        }
        let Some(name) = self.path.file_name() else {
            return false;
        };
        let parent = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        fs::canonicalize(parent).is_ok_and(|p| p.join(name).starts_with(&root))
    }

    /// Check again and write `bytes` atomically, mode 0644.
    ///
    /// # Errors
    /// [`Error::Destination`] or [`Error::NotABundle`] when the check fails now,
    /// [`Error::BundleTooLarge`] above what `verify` reads, [`Error::Write`]
    /// for I/O errors (the temporary file is removed).
    pub fn write(&self, bytes: &[u8]) -> Result<(), Error> {
        let size = bytes.len() as u64;
        if size > DEFAULT_MAX_BUNDLE_BYTES {
            return Err(Error::BundleTooLarge {
                size,
                limit: DEFAULT_MAX_BUNDLE_BYTES,
            });
        }
        self.check()?;
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| self.refuse(Refusal::NoFileName))?;
        let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let write_err = |source| Error::Write {
            path: self.path.to_owned(),
            source,
        };
        let result = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&tmp)?;
            f.set_permissions(fs::Permissions::from_mode(0o644))?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, self.path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(write_err)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn refused_destinations_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m");
        fs::create_dir(&model).unwrap();
        let weights = model.join("weights.bin");
        fs::write(&weights, b"w").unwrap();
        let key = dir.path().join("signing.key");
        fs::write(&key, b"k").unwrap();
        let refusal = |path: &Path| {
            let dest = Destination {
                path,
                model: &model,
                protected: &[key.as_path()],
                force: true,
            };
            match dest.check() {
                Err(Error::Destination { reason, .. }) => reason,
                other => panic!("{}: {other:?}", path.display()),
            }
        };
        assert!(matches!(refusal(&key), Refusal::Protected(p) if p == key));
        assert!(matches!(refusal(&model), Refusal::Protected(p) if p == model));
        assert!(matches!(refusal(dir.path()), Refusal::Directory));
        assert!(matches!(refusal(&weights), Refusal::ModelContent));
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(matches!(refusal(&fifo), Refusal::NotRegular));
    }

    #[test]
    fn the_final_check_refuses_oversized_bundles_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m");
        fs::create_dir(&model).unwrap();
        let path = dir.path().join("b.sig");
        let dest = Destination {
            path: &path,
            model: &model,
            protected: &[],
            force: false,
        };
        let big = vec![b' '; usize::try_from(DEFAULT_MAX_BUNDLE_BYTES).unwrap() + 1];
        assert!(matches!(
            dest.write(&big),
            Err(Error::BundleTooLarge { size, .. }) if size == DEFAULT_MAX_BUNDLE_BYTES + 1
        ));
        assert!(!path.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file left"
        );
        dest.write(b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}")
            .unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
}
