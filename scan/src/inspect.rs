//! The content check inside the hashing pass: an
//! [`Inspect`](modelseal_manifest::Inspect)or for the engine, so a
//! verifier scans exactly the bytes it hashes, in the same read.

use std::io::Read;
use std::sync::Mutex;

use modelseal_manifest::Inspect;
use modelseal_manifest::ResourcePath;

use crate::config::Config;
use crate::report::{FileReport, Format, Problem, Report};

/// Scans every file the hashing engine reads; collect the result with
/// [`ContentCheck::into_report`] after hashing.
#[derive(Debug)]
pub struct ContentCheck {
    cfg: Config,
    reports: Mutex<Vec<FileReport>>,
}

impl ContentCheck {
    /// A check under `cfg`.
    pub fn new(cfg: Config) -> Self {
        Self {
            cfg,
            reports: Mutex::new(Vec::new()),
        }
    }

    /// Every file's report, in path order.
    pub fn into_report(self) -> Report {
        let mut files = self
            .reports
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Report { files }
    }

    /// The reports so far, in path order, leaving the check empty for the
    /// next read.
    pub fn take_report(&self) -> Report {
        let mut files = std::mem::take(
            &mut *self
                .reports
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Report { files }
    }
}

impl Inspect for ContentCheck {
    fn inspect(&self, path: &ResourcePath, size: u64, reader: &mut dyn Read) {
        let name = path.as_str();
        let report = crate::scan_reader(&self.cfg, name, Some(size), reader).unwrap_or_else(|e| {
            FileReport {
                path: name.to_owned(),
                format: Format::Data,
                size,
                members: 0,
                findings: Vec::new(),
                problems: vec![Problem {
                    member: Vec::new(),
                    offset: 0,
                    message: format!("cannot read: {e}"),
                }],
            }
        });
        self.reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(report);
    }
}
