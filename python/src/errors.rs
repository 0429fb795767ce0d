//! Library errors as the package's exceptions (`modelseal/_errors.py`):
//! `VerificationError` for a definite "no" about the model (the CLI's exit
//! 1), `InputError` when no decision could be made (exit 2).

use modelseal_verifier::{Report, Status};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::verification::Check;

/// Which exception to raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The model was checked and refused.
    Verification,
    /// No decision: unreadable or malformed input, bad options.
    Input,
}

/// A failure on its way to Python: built without the GIL, raised with it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) class: Class,
    /// A stable identifier (`digest_mismatch`, `invalid_signature`, ...).
    pub(crate) kind: &'static str,
    /// The check that failed, when a check did.
    pub(crate) check: Option<String>,
    /// One line, as the CLI prints it.
    pub(crate) reason: String,
    /// Every check of the verification, when there was one.
    pub(crate) checks: Vec<Check>,
}

impl Failure {
    /// A failure to decide, outside any check.
    pub(crate) fn input(kind: &'static str, reason: impl Into<String>) -> Self {
        Failure {
            class: Class::Input,
            kind,
            check: None,
            reason: reason.into(),
            checks: Vec::new(),
        }
    }

    /// A verifier error, with the report of the checks that ran.
    pub(crate) fn from_verifier(e: &modelseal_verifier::Error, report: &Report) -> Self {
        let class = if e.is_rejection() {
            Class::Verification
        } else {
            Class::Input
        };
        let check = report
            .checks
            .iter()
            .rev()
            .find(|c| c.status == Status::Fail)
            .map(|c| c.name.as_str().to_owned());
        // Clearer than the CLI's `gate_failed`: nothing was read, the
        // model (or file) is over `max_sealed_bytes`.
        let kind = match e {
            modelseal_verifier::Error::Gate(modelseal_verifier::GateError::TooLarge { .. }) => {
                "too_large"
            }
            _ => e.kind(),
        };
        Failure {
            class,
            kind,
            check,
            reason: e.to_string(),
            checks: report.checks.iter().map(Check::from).collect(),
        }
    }

    /// A policy-layer error (no policy applies, unreadable model path).
    pub(crate) fn from_policy(e: &modelseal_policies::Error) -> Self {
        Failure {
            class: if e.is_rejection() {
                Class::Verification
            } else {
                Class::Input
            },
            kind: e.kind(),
            check: Some("policy".into()),
            reason: e.to_string(),
            checks: Vec::new(),
        }
    }

    /// Raise it as `modelseal.VerificationError` or `modelseal.InputError`.
    pub(crate) fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self.build(py) {
            Ok(err) | Err(err) => err,
        }
    }

    fn build(self, py: Python<'_>) -> PyResult<PyErr> {
        let errors = py.import("modelseal._errors")?;
        let class = errors.getattr(match self.class {
            Class::Verification => "VerificationError",
            Class::Input => "InputError",
        })?;
        let checks = PyList::empty(py);
        for c in self.checks {
            checks.append(Bound::new(py, c)?)?;
        }
        let exc = class.call1((self.reason, self.kind, self.check, checks))?;
        Ok(PyErr::from_value(exc))
    }
}

/// `Result<T, Failure>` to `PyResult<T>`.
pub(crate) trait Raise<T> {
    /// Raise the failure, if any.
    fn raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> Raise<T> for Result<T, Failure> {
    fn raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|f| f.into_pyerr(py))
    }
}
