//! HMAC-chained, forward-secure JSON audit log in Elastic Common Schema, with its verifier.
#![forbid(unsafe_code)]
