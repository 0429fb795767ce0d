//! Listing the files of a model in canonical order.
//!
//! Rules, applied the same way when signing and when verifying:
//! 1. The model is a directory (every regular file below it) or one regular
//!    file (a single resource named `.`).
//! 2. Ignored paths (by path components, a directory ignores its subtree) are
//!    neither listed nor descended into.
//! 3. A symbolic link is an error, unless symlinks are allowed; then it must
//!    resolve to a regular file inside the model directory.
//! 4. FIFOs, sockets and devices are errors; so are names that are not valid
//!    UTF-8 or not valid resource names.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::ModelError;
use crate::path::ResourcePath;

/// Default upper bound on the number of files in one model.
pub const DEFAULT_MAX_FILES: usize = 1_000_000;

/// Paths `model_signing` leaves out of every manifest; modelseal does too
/// (bundles and checksums files), so that bundles verify the same with
/// either tool.
pub const DEFAULT_IGNORE_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// What to list.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Paths to leave out, relative to the model root.
    pub ignore_paths: Vec<ResourcePath>,
    /// Follow symbolic links to regular files inside the model.
    pub allow_symlinks: bool,
    /// Refuse models with more files than this.
    pub max_files: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        Self {
            ignore_paths: Vec::new(),
            allow_symlinks: false,
            max_files: DEFAULT_MAX_FILES,
        }
    }
}

/// One file of a model, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Its resource name.
    pub path: ResourcePath,
    /// Its size in bytes when listed.
    pub size: u64,
}

/// The files of a model, in canonical order.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    root: PathBuf,
    is_dir: bool,
    files: Vec<FileEntry>,
    allow_symlinks: bool,
}

impl ModelFiles {
    /// The model path as given (a directory or a file).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the model is a directory (else a single file).
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// Whether symbolic links inside the model were followed.
    pub fn allow_symlinks(&self) -> bool {
        self.allow_symlinks
    }

    /// The files, in canonical order.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Total size in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Keep only the files `keep` selects (e.g. those an incremental
    /// re-sign must hash again).
    pub fn retain(&mut self, keep: impl FnMut(&FileEntry) -> bool) {
        self.files.retain(keep);
    }

    /// The filesystem path of a listed file.
    pub fn file_path(&self, path: &ResourcePath) -> PathBuf {
        if path.is_file_root() {
            self.root.clone()
        } else {
            self.root.join(path.as_str())
        }
    }

    /// The model's informational name: the last component of its path.
    pub fn model_name(&self) -> String {
        let named = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        named(&self.root)
            .or_else(|| fs::canonicalize(&self.root).ok().as_deref().and_then(named))
            .unwrap_or_default()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_owned(),
        source,
    }
}

/// List the files of the model at `root`.
///
/// # Errors
/// [`ModelError`] for an unreadable entry, a refused symlink, a special file,
/// a bad name, or more than `max_files` files.
pub fn walk(root: &Path, opts: &WalkOptions) -> Result<ModelFiles, ModelError> {
    // The root itself may be a link the user chose (e.g. `current -> v2`):
    // follow it. Everything below it obeys the rules.
    let meta = fs::metadata(root).map_err(io_err(root))?;
    if meta.is_file() {
        let files = vec![FileEntry {
            path: ResourcePath::file_root(),
            size: meta.len(),
        }];
        return Ok(ModelFiles {
            root: root.to_owned(),
            is_dir: false,
            files,
            allow_symlinks: opts.allow_symlinks,
        });
    }
    if !meta.is_dir() {
        return Err(ModelError::SpecialFile {
            path: root.to_owned(),
        });
    }
    let canonical_root = fs::canonicalize(root).map_err(io_err(root))?;
    let mut files = Vec::new();
    let mut stack: Vec<(PathBuf, String)> = vec![(root.to_owned(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let fs_path = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|raw| ModelError::BadName {
                    path: fs_path.clone(),
                    source: crate::path::PathError::NotUtf8 {
                        lossy: raw.to_string_lossy().into_owned(),
                    },
                })?;
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let rel_path = ResourcePath::new(&rel).map_err(|source| ModelError::BadName {
                path: fs_path.clone(),
                source,
            })?;
            if opts.ignore_paths.iter().any(|p| rel_path.starts_with(p)) {
                continue;
            }
            let ftype = entry.file_type().map_err(io_err(&fs_path))?;
            if ftype.is_dir() {
                stack.push((fs_path, rel));
            } else if ftype.is_file() {
                let size = entry.metadata().map_err(io_err(&fs_path))?.len();
                files.push(FileEntry {
                    path: rel_path,
                    size,
                });
            } else if ftype.is_symlink() {
                if !opts.allow_symlinks {
                    return Err(ModelError::Symlink { path: fs_path });
                }
                let size = symlink_target_size(&fs_path, &canonical_root)?;
                files.push(FileEntry {
                    path: rel_path,
                    size,
                });
            } else {
                return Err(ModelError::SpecialFile { path: fs_path });
            }
            if files.len() > opts.max_files {
                return Err(ModelError::TooManyFiles {
                    limit: opts.max_files,
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ModelFiles {
        root: root.to_owned(),
        is_dir: true,
        files,
        allow_symlinks: opts.allow_symlinks,
    })
}

/// `file` as a resource path relative to the model directory `root`, if it
/// lies inside it (used to leave the signature file out of the manifest).
/// The file itself need not exist yet; its directory must.
pub fn relative_inside(root: &Path, file: &Path) -> Option<ResourcePath> {
    let root = fs::canonicalize(root).ok()?;
    let name = file.file_name()?;
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file = fs::canonicalize(parent).ok()?.join(name);
    ResourcePath::new(file.strip_prefix(&root).ok()?.to_str()?).ok()
}

/// Check an allowed symlink: it must resolve to a regular file inside the
/// model. Returns the target's size.
fn symlink_target_size(link: &Path, canonical_root: &Path) -> Result<u64, ModelError> {
    let bad = |reason| ModelError::BadSymlink {
        path: link.to_owned(),
        reason,
    };
    let target = fs::canonicalize(link).map_err(|_| bad("dangles or cannot be resolved"))?;
    if !target.starts_with(canonical_root) {
        return Err(bad("points outside the model directory"));
    }
    let meta = fs::metadata(&target).map_err(io_err(link))?;
    if !meta.is_file() {
        return Err(bad("does not point at a regular file"));
    }
    Ok(meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(m: &ModelFiles) -> Vec<&str> {
        m.files().iter().map(|f| f.path.as_str()).collect()
    }

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for f in files {
            let p = d.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, f.as_bytes()).unwrap();
        }
        d
    }

    #[test]
    fn lists_in_component_order_with_sizes() {
        let d = tree(&["a.txt", "a-b/c", "a/b", "z/y/x"]);
        let m = walk(d.path(), &WalkOptions::default()).unwrap();
        assert_eq!(names(&m), ["a/b", "a-b/c", "a.txt", "z/y/x"]);
        assert_eq!(m.files()[0].size, 3);
        assert!(m.is_dir());
    }

    #[test]
    fn ignores_by_component_prefix() {
        let d = tree(&[".git/HEAD", ".github/x", "gitx", "keep", "sub/model.sig"]);
        let opts = WalkOptions {
            ignore_paths: vec![
                ResourcePath::new(".git").unwrap(),
                ResourcePath::new("sub/model.sig").unwrap(),
            ],
            ..WalkOptions::default()
        };
        let m = walk(d.path(), &opts).unwrap();
        assert_eq!(names(&m), [".github/x", "gitx", "keep"]);
    }

    #[test]
    fn single_file_model_is_named_dot() {
        let d = tree(&["w.safetensors"]);
        let m = walk(&d.path().join("w.safetensors"), &WalkOptions::default()).unwrap();
        assert_eq!(names(&m), ["."]);
        assert!(!m.is_dir());
        assert_eq!(m.model_name(), "w.safetensors");
    }

    #[test]
    fn symlinks_refused_by_default_and_confined_when_allowed() {
        let d = tree(&["real", "sub/inner"]);
        symlink("real", d.path().join("link")).unwrap();
        let err = walk(d.path(), &WalkOptions::default()).unwrap_err();
        assert!(matches!(err, ModelError::Symlink { .. }), "{err}");

        let allow = WalkOptions {
            allow_symlinks: true,
            ..WalkOptions::default()
        };
        let m = walk(d.path(), &allow).unwrap();
        assert_eq!(names(&m), ["link", "real", "sub/inner"]);

        let outside = tempfile::NamedTempFile::new().unwrap();
        symlink(outside.path(), d.path().join("escape")).unwrap();
        let err = walk(d.path(), &allow).unwrap_err();
        assert!(matches!(
            err,
            ModelError::BadSymlink {
                reason: "points outside the model directory",
                ..
            }
        ));
        fs::remove_file(d.path().join("escape")).unwrap();

        symlink("sub", d.path().join("dirlink")).unwrap();
        let err = walk(d.path(), &allow).unwrap_err();
        assert!(matches!(
            err,
            ModelError::BadSymlink {
                reason: "does not point at a regular file",
                ..
            }
        ));
        fs::remove_file(d.path().join("dirlink")).unwrap();

        symlink("nowhere", d.path().join("dangling")).unwrap();
        assert!(matches!(
            walk(d.path(), &allow).unwrap_err(),
            ModelError::BadSymlink { .. }
        ));
    }

    #[test]
    fn special_files_and_bad_names_are_errors() {
        use std::os::unix::ffi::OsStrExt;
        let d = tree(&["ok"]);
        let bad = d.path().join(std::ffi::OsStr::from_bytes(b"bad\xff"));
        fs::write(&bad, b"x").unwrap();
        assert!(matches!(
            walk(d.path(), &WalkOptions::default()).unwrap_err(),
            ModelError::BadName { .. }
        ));
        fs::remove_file(bad).unwrap();

        let sock = d.path().join("sock");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        assert!(matches!(
            walk(d.path(), &WalkOptions::default()).unwrap_err(),
            ModelError::SpecialFile { .. }
        ));
    }

    #[test]
    fn relative_inside_finds_files_below_the_root_only() {
        let d = tree(&["sub/x"]);
        let rel = relative_inside(d.path(), &d.path().join("sub/model.sig")).unwrap();
        assert_eq!(rel.as_str(), "sub/model.sig");
        assert_eq!(
            relative_inside(d.path(), &d.path().join("sub/../model.sig"))
                .unwrap()
                .as_str(),
            "model.sig"
        );
        let other = tempfile::tempdir().unwrap();
        assert_eq!(
            relative_inside(d.path(), &other.path().join("model.sig")),
            None
        );
    }

    #[test]
    fn file_limit_is_enforced() {
        let d = tree(&["a", "b", "c"]);
        let opts = WalkOptions {
            max_files: 2,
            ..WalkOptions::default()
        };
        assert!(matches!(
            walk(d.path(), &opts).unwrap_err(),
            ModelError::TooManyFiles { limit: 2 }
        ));
    }
}
