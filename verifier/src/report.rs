//! What a verification checked, for people (`--json`, logs) and policies.

use std::fmt;

use serde::Serialize;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// The check ran and held.
    Pass,
    /// The check ran and failed.
    Fail,
    /// The check does not apply (e.g. identity without a certificate) or was
    /// turned off.
    Skipped,
    /// An earlier failure stopped verification before this check.
    NotRun,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
            Status::NotRun => "not run",
        })
    }
}

/// The checks a verification runs, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckName {
    /// The bundle parses as an OMS bundle.
    Bundle,
    /// The signer's key is trusted: a certificate chain to a trusted root,
    /// or the given public key.
    Trust,
    /// The signature over the DSSE envelope verifies.
    Signature,
    /// The signed statement is a well-formed OMS manifest.
    Statement,
    /// The signer is one of the required identities.
    Identity,
    /// The model has exactly the signed files.
    Files,
    /// Every file's digest matches.
    Digests,
    /// A checksums file parses: one algorithm, safe unique names.
    Checksums,
    /// Every RFC 3161 timestamp the bundle carries verifies to a trusted
    /// TSA (recorded only when TSA roots were given and the bundle carries
    /// timestamps); the earliest genTime is the signing time.
    Timestamp,
    /// Every transparency-log entry the bundle carries verifies against
    /// the Sigstore trusted root (body, SET, inclusion proof, checkpoint);
    /// recorded when the bundle carries entries.
    Tlog,
}

impl CheckName {
    /// Every check of a bundle verification, in the order they run.
    pub const ALL: [CheckName; 7] = [
        CheckName::Bundle,
        CheckName::Trust,
        CheckName::Signature,
        CheckName::Statement,
        CheckName::Identity,
        CheckName::Files,
        CheckName::Digests,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Bundle => "bundle",
            CheckName::Trust => "trust",
            CheckName::Signature => "signature",
            CheckName::Statement => "statement",
            CheckName::Identity => "identity",
            CheckName::Files => "files",
            CheckName::Digests => "digests",
            CheckName::Checksums => "checksums",
            CheckName::Timestamp => "timestamp",
            CheckName::Tlog => "tlog",
        }
    }
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check.
    pub name: CheckName,
    /// How it went.
    pub status: Status,
    /// What was checked or why it failed, one line.
    pub detail: String,
}

/// Every check of one verification, in order; checks never reached are
/// listed as [`Status::NotRun`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// Record a check's result.
    pub fn record(&mut self, name: CheckName, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            status,
            detail: detail.into(),
        });
    }

    /// Record `Pass`/`Fail` from a result and pass it through.
    pub fn track<T, E: fmt::Display>(
        &mut self,
        name: CheckName,
        result: Result<T, E>,
        detail: impl FnOnce(&T) -> String,
    ) -> Result<T, E> {
        match &result {
            Ok(v) => self.record(name, Status::Pass, detail(v)),
            Err(e) => self.record(name, Status::Fail, e.to_string()),
        }
        result
    }

    /// Mark every check of a bundle verification ([`CheckName::ALL`]) not
    /// yet recorded as not run.
    pub fn finish(&mut self) {
        self.finish_with(&CheckName::ALL);
    }

    /// Mark every check of `names` not yet recorded as not run (for
    /// verifications with other steps than a bundle's).
    pub fn finish_with(&mut self, names: &[CheckName]) {
        for &name in names {
            if !self.checks.iter().any(|c| c.name == name) {
                self.record(name, Status::NotRun, "");
            }
        }
    }

    /// The status recorded for `name`, if any.
    pub fn status(&self, name: CheckName) -> Option<Status> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.status)
    }
}

/// Unix seconds as RFC 3339 UTC (`2045-01-01T00:00:00Z`); one helper
/// with the Sigstore crate's messages.
pub use modelseal_sigstore::rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_fills_in_not_run() {
        let mut r = Report::default();
        r.record(CheckName::Bundle, Status::Pass, "ok");
        let _ = r.track(CheckName::Trust, Err::<(), _>("untrusted"), |_| {
            String::new()
        });
        r.finish();
        assert_eq!(r.checks.len(), CheckName::ALL.len());
        assert_eq!(r.status(CheckName::Trust), Some(Status::Fail));
        assert_eq!(r.status(CheckName::Digests), Some(Status::NotRun));
        assert_eq!(rfc3339(2_366_841_600), "2045-01-01T00:00:00Z");
    }
}
