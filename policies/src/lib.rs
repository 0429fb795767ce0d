//! Declarative trust policies: which models must be signed by which
//! identities, at which verification level.
#![forbid(unsafe_code)]

pub mod document;
pub mod enforce;
mod error;
pub mod evaluate;
mod facts;
pub mod glob;
pub mod level;
mod read;
pub mod rules;
pub mod scope;
mod store;

pub use document::{Policy, PolicySet, Selection};
pub use enforce::{
    Approval, PolicyOutcome, SignatureInput, SignatureSummary, VerifyOptions, verify,
};
pub use error::{Error, Problem};
pub use evaluate::{CheckName, CheckResult, Decision};
pub use level::{Action, Actions, Category, Level};
pub use scope::{ModelPath, Scope};
pub use store::TrustStore;
