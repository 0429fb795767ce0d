//! Scanning a model on disk: one file, or every regular file below a
//! directory, in parallel.

use std::fs::File;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustix::fs::{Mode, OFlags};

use crate::config::Config;
use crate::report::{FileReport, Format, Problem, Report};

/// Files per model at most.
const MAX_FILES: usize = 1_000_000;

/// Why a model could not be scanned at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The path cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The path is not a regular file or directory.
    #[error("{0}: not a regular file or directory")]
    NotAFile(PathBuf),
    /// More files than a model may have.
    #[error("{0}: more than {MAX_FILES} files")]
    TooManyFiles(PathBuf),
    /// The thread pool could not start.
    #[error("cannot start scanning threads: {0}")]
    Threads(#[source] rayon::ThreadPoolBuildError),
}

/// Scan `path` (a file, or every regular file below a directory; symbolic
/// links to files are followed, to directories not) on `threads` threads
/// (`None`: one per core).
///
/// # Errors
/// [`ScanError`] when `path` itself cannot be listed; a file that cannot
/// be read is a [`Problem`] in its report.
pub fn scan_path(cfg: &Config, path: &Path, threads: Option<usize>) -> Result<Report, ScanError> {
    let io = |source| ScanError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    if meta.is_dir() {
        list(path, Path::new(""), &mut files, &mut skipped)?;
    } else if meta.is_file() {
        files.push((path.to_owned(), ".".to_owned()));
    } else {
        return Err(ScanError::NotAFile(path.to_owned()));
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .thread_name(|i| format!("modelseal-scan-{i}"))
        .build()
        .map_err(ScanError::Threads)?;
    let mut reports: Vec<FileReport> = pool.install(|| {
        files
            .par_iter()
            .with_max_len(1)
            .map(|(full, rel)| scan_file(cfg, full, rel))
            .collect()
    });
    reports.extend(skipped.into_iter().map(|(rel, why)| FileReport {
        path: rel,
        format: Format::Data,
        size: 0,
        members: 0,
        findings: Vec::new(),
        problems: vec![Problem {
            member: Vec::new(),
            offset: 0,
            message: why,
        }],
    }));
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Report { files: reports })
}

type Listed = Vec<(PathBuf, String)>;

fn list(
    dir: &Path,
    rel: &Path,
    files: &mut Listed,
    skipped: &mut Vec<(String, String)>,
) -> Result<(), ScanError> {
    let here = dir.join(rel);
    let io = |source| ScanError::Io {
        path: here.clone(),
        source,
    };
    for entry in std::fs::read_dir(&here).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = rel.join(entry.file_name());
        let shown = name.to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            list(dir, &name, files, skipped)?;
        } else if kind.is_file() || (kind.is_symlink() && entry.path().is_file()) {
            if files.len() >= MAX_FILES {
                return Err(ScanError::TooManyFiles(dir.to_owned()));
            }
            files.push((entry.path(), shown));
        } else if kind.is_symlink() {
            skipped.push((
                shown,
                "a symbolic link to a directory is not followed".into(),
            ));
        } else {
            skipped.push((shown, "not a regular file".into()));
        }
    }
    Ok(())
}

/// Open without blocking (a FIFO must not hang the scan) and insist on a
/// regular file.
fn open_regular(path: &Path) -> std::io::Result<File> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )?;
    let file = File::from(fd);
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

fn scan_file(cfg: &Config, full: &Path, rel: &str) -> FileReport {
    let failed = |message: String| FileReport {
        path: rel.to_owned(),
        format: Format::Data,
        size: 0,
        members: 0,
        findings: Vec::new(),
        problems: vec![Problem {
            member: Vec::new(),
            offset: 0,
            message,
        }],
    };
    let file = match open_regular(full) {
        Ok(f) => f,
        Err(e) => return failed(format!("cannot open: {e}")),
    };
    match crate::scan_file(cfg, rel, &file) {
        Ok(report) => report,
        Err(e) => failed(format!("cannot read: {e}")),
    }
}
