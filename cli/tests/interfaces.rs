//! What users, scripts, other tools and packagers rely on: the `--json`
//! contract (`json_contract`), error messages (`messages`), completions and
//! the manual page (`completions`), the OpenSSF Model Signing reference tool
//! both ways (`interop`) and older model_signing bundles
//! (`model_signing_compat`), and modelseal's own supply chain
//! (`supply_chain`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "interfaces/completions.rs"]
mod completions;
#[path = "interfaces/interop.rs"]
mod interop;
#[path = "interfaces/json_contract.rs"]
mod json_contract;
#[path = "interfaces/messages.rs"]
mod messages;
#[path = "interfaces/model_signing_compat.rs"]
mod model_signing_compat;
#[path = "interfaces/supply_chain.rs"]
mod supply_chain;
