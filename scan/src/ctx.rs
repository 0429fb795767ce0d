//! The state of one file's scan: configuration, where we are in nested
//! archives, what was found, and the work budget.

use crate::config::Config;
use crate::report::{Finding, FindingKind, Problem};

/// Findings kept per file; more are counted in one last finding.
const MAX_FINDINGS: usize = 200;

/// One file's scan in progress.
pub(crate) struct Ctx<'c> {
    pub(crate) cfg: &'c Config,
    /// Archive members leading to the current stream.
    pub(crate) member: Vec<String>,
    pub(crate) findings: Vec<Finding>,
    pub(crate) problems: Vec<Problem>,
    /// Findings dropped past [`MAX_FINDINGS`].
    dropped: u64,
    /// Archive members opened so far.
    pub(crate) members: u64,
    /// Bytes produced by decompression so far.
    pub(crate) expanded: u64,
}

impl<'c> Ctx<'c> {
    pub(crate) fn new(cfg: &'c Config) -> Self {
        Self {
            cfg,
            member: Vec::new(),
            findings: Vec::new(),
            problems: Vec::new(),
            dropped: 0,
            members: 0,
            expanded: 0,
        }
    }

    /// Record unsafe content at `offset` of the current stream.
    pub(crate) fn finding(
        &mut self,
        kind: FindingKind,
        offset: u64,
        subject: impl Into<String>,
        why: impl Into<String>,
    ) {
        if self.findings.len() >= MAX_FINDINGS {
            self.dropped += 1;
            return;
        }
        self.findings.push(Finding {
            kind,
            member: self.member.clone(),
            offset,
            subject: subject.into(),
            why: why.into(),
        });
    }

    /// Record malformed content at `offset` of the current stream.
    pub(crate) fn problem(&mut self, offset: u64, message: impl Into<String>) {
        if self.problems.len() >= MAX_FINDINGS {
            return;
        }
        self.problems.push(Problem {
            member: self.member.clone(),
            offset,
            message: message.into(),
        });
    }

    /// Findings and problems, with a last finding counting the dropped ones.
    pub(crate) fn finish(mut self) -> (Vec<Finding>, Vec<Problem>, u64) {
        if self.dropped > 0 {
            self.findings.push(Finding {
                kind: FindingKind::Unscannable,
                member: Vec::new(),
                offset: 0,
                subject: "findings".into(),
                why: format!("{} more findings not listed", self.dropped),
            });
        }
        (self.findings, self.problems, self.members)
    }
}
