//! Declarative trust policies: which models must be signed by which identities, at which verification level.
#![forbid(unsafe_code)]
