//! A directory through which another program reads the sealed copies.
//!
//! A private directory (mode 0700, in a parent the caller chooses) mirrors
//! the model's tree; each file is a symbolic link to
//! `/proc/<this process>/fd/<n>`, the descriptor of its sealed copy. Opening
//! such a link opens the sealed memory file itself (Linux "magic link"), so
//! a reader gets the verified bytes however the model store changes, and
//! cannot write them either. Only signed files appear: no signature file, no
//! ignored path, nothing added since.
//!
//! Limits, by construction: the links work only while this process lives
//! and holds the [`SealedModel`] (a reader that already opened a file keeps
//! it); the reader must be allowed to look into this process's descriptors
//! (same user, same PID namespace, `/proc` mounted); and resolving a link by
//! name (`realpath`) yields `/memfd:... (deleted)`, which cannot be opened:
//! open the path as given. No model byte is written to disk; after a crash
//! only the directory of dangling links is left behind.

use std::fs::{self, DirBuilder};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, GateError};

use super::SealedModel;

/// The private directory of links to a [`SealedModel`]'s copies. Removed
/// when dropped (or by [`ModelView::remove`]).
#[derive(Debug)]
pub struct ModelView {
    dir: tempfile::TempDir,
}

fn view_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| {
        GateError::View {
            path: path.to_owned(),
            source,
        }
        .into()
    }
}

impl ModelView {
    /// Make the view of `model` in a new private directory under `parent`.
    /// `model` must outlive the view's use: the links lead to its
    /// descriptors in this process.
    ///
    /// # Errors
    /// [`GateError::View`] when the directory or a link cannot be made.
    pub fn create(model: &SealedModel, parent: &Path) -> Result<ModelView, Error> {
        let dir = tempfile::Builder::new()
            .prefix("modelseal-gate-")
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir_in(parent)
            .map_err(view_err(parent))?;
        let root = dir.path().to_owned();
        let pid = std::process::id();
        for file in model.files() {
            let rel: PathBuf = match model.single_file_name() {
                Some(name) => PathBuf::from(name),
                None => PathBuf::from(file.path().as_str()),
            };
            let link = root.join(&rel);
            if let Some(parent) = link.parent().filter(|p| *p != root) {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .map_err(view_err(parent))?;
            }
            let target = format!("/proc/{pid}/fd/{}", file.file().as_raw_fd());
            std::os::unix::fs::symlink(&target, &link).map_err(view_err(&link))?;
        }
        Ok(ModelView { dir })
    }

    /// The directory (`MODELSEAL_MODEL_DIR`).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remove the directory now.
    ///
    /// # Errors
    /// [`GateError::View`] when it cannot be removed.
    pub fn remove(self) -> Result<(), Error> {
        let path = self.dir.path().to_owned();
        self.dir.close().map_err(view_err(&path))
    }
}
