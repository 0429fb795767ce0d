//! Why a policy could not be loaded or applied.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// One problem in a policy document: where (a JSON pointer, RFC 6901) and
/// why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// JSON pointer to the offending value (`""` is the whole document).
    pub pointer: String,
    /// What is wrong there.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "(document): {}", self.reason)
        } else {
            write!(f, "{}: {}", self.pointer, self.reason)
        }
    }
}

/// A policy that could not be loaded or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy file could not be read.
    #[error("cannot read policy {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The policy document is invalid; every problem found is listed.
    #[error("invalid policy {}: {}", path.display(), list(problems))]
    Invalid {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// Every problem, in document order.
        problems: Vec<Problem>,
    },
    /// The model path cannot be resolved to the canonical path scopes
    /// match.
    #[error("cannot resolve model path {}: {reason}", path.display())]
    ModelPath {
        /// The path given.
        path: PathBuf,
        /// Why.
        reason: crate::ModelPathError,
    },
    /// The model path goes through a symbolic link where the policy would
    /// depend on it: resolving it selects another policy, or a component
    /// below the scope's root is a link. Refused, not decided.
    #[error("refusing model path {}: {reason}", path.display())]
    Symlink {
        /// The path given.
        path: PathBuf,
        /// Which link, and why it matters (boxed: it is the largest
        /// reason and rare).
        reason: Box<SymlinkRefusal>,
    },
    /// No policy covers the model: it is rejected.
    #[error("no policy applies to {model}: the model is rejected")]
    NoPolicy {
        /// The canonical model path.
        model: String,
    },
}

impl Error {
    /// A stable identifier for scripts and `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Read { .. } => "unreadable_input",
            Error::Invalid { .. } => "invalid_policy",
            Error::ModelPath { .. } => "unreadable_model",
            Error::Symlink { .. } => "symlinked_model",
            Error::NoPolicy { .. } => "no_policy",
        }
    }

    /// Whether this is a definite "no" about the model (exit 1) rather than
    /// a failure to decide (exit 2).
    pub fn is_rejection(&self) -> bool {
        matches!(self, Error::NoPolicy { .. })
    }
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Which symbolic link makes a model path unusable, and why it matters
/// ([`Error::Symlink`]). Policy names and scopes are as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SymlinkRefusal {
    /// `..` follows a link: the lexical path names another place.
    #[error(
        "{given} (`..` normalized) is not where the path leads ({resolved}): `..` follows a symbolic link"
    )]
    DotDotFollowsLink {
        /// The path with `..` removed lexically.
        given: crate::ModelPath,
        /// Where the path really leads.
        resolved: crate::ModelPath,
    },
    /// The resolved path falls under another policy.
    #[error(
        "it resolves through a symbolic link to {resolved}, which policy {other_policy:?} (scope {other_scope:?}) would cover instead of {policy:?} (scope {scope:?})"
    )]
    OtherPolicy {
        /// Where the path really leads.
        resolved: crate::ModelPath,
        /// The policy covering the resolved path.
        other_policy: String,
        /// Its scope.
        other_scope: String,
        /// The policy covering the path as given.
        policy: String,
        /// Its scope.
        scope: String,
    },
    /// No policy covers the resolved path.
    #[error(
        "it resolves through a symbolic link to {resolved}, which no policy covers, not {policy:?} (scope {scope:?})"
    )]
    Uncovered {
        /// Where the path really leads.
        resolved: crate::ModelPath,
        /// The policy covering the path as given.
        policy: String,
        /// Its scope.
        scope: String,
    },
    /// A component below the winning scope's root is a link.
    #[error(
        "{} is a symbolic link below the root of scope {scope:?} of policy {policy:?}; give the real path of the model",
        link.display()
    )]
    BelowScopeRoot {
        /// The link.
        link: PathBuf,
        /// The winning scope.
        scope: String,
        /// The winning policy.
        policy: String,
    },
}
