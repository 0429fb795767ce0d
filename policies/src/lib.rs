//! Declarative trust policies: which models must be signed by which
//! identities, at which verification level.
//!
//! A [`PolicySet`] is a versioned JSON document (see the crate's
//! `README.md`) validated whole when it is loaded: every problem comes back
//! with its JSON pointer. For a model, [`PolicySet::select_path`] picks the
//! policy with the most specific matching scope, and [`verify`] checks one or
//! more bundles under it: facts are gathered per signature with the
//! verifier's steps, then a pure function of those facts decides.
//! Success is an [`Approval`].
//!
//! ```
//! use std::path::Path;
//! use modelseal_policies::{Action, Category, Level, PolicySet};
//!
//! let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
//! let set = PolicySet::load(&fixtures.join("policies/example.json"))?;
//! let prod = &set.policies()[0];
//! assert_eq!((prod.name(), prod.level()), ("production", Level::Strict));
//! assert_eq!(prod.required_signatures(), 2);
//! assert_eq!(set.policies()[2].actions().get(Category::Authenticity), Action::Log);
//!
//! // A model outside every scope is rejected.
//! let err = set.select_path(&fixtures.join("models/demo")).unwrap_err();
//! assert!(err.is_rejection());
//! # Ok::<(), modelseal_policies::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::exhaustive_enums)]

mod content;
mod document;
mod enforce;
mod error;
mod evaluate;
mod facts;
mod glob;
mod level;
mod read;
mod rules;
mod scope;
mod sigstore;
mod store;
mod timestamps;

pub use content::{ContentRules, ContentVerdict};
pub use document::{
    MAX_POLICIES, MAX_POLICY_FILE, MAX_REQUIRED, MAX_SCOPES, Policy, PolicySet, Selection, VERSION,
};
pub use enforce::{
    Approval, FilesCheck, PolicyOutcome, SignatureFile, SignatureInput, SignatureSummary,
    VerifyOptions, verify, verify_with,
};
pub use error::{Error, Problem, SymlinkRefusal};
pub use evaluate::{CheckName, CheckResult, Decision};
pub use glob::{Glob, GlobError, MAX_PATTERN, Specificity};
pub use level::{Action, Actions, Category, IntegrityLowered, Level};
pub use rules::{
    AlgorithmRefused, AlgorithmRules, DEFAULT_RSA_MIN_BITS, DenyList, RevocationRules,
};
pub use scope::{ModelPath, ModelPathError, Rank, Scope, ScopeError};
pub use sigstore::PUBLIC_GOOD as SIGSTORE_PUBLIC_GOOD;
pub use store::TrustStore;
pub use timestamps::TimestampRules;
