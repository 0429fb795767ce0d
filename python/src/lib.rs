//! The `modelseal` Python package's native module (`modelseal._native`).
//!
//! Every verification step is the verifier's own ([`modelseal_verifier`],
//! [`modelseal_policies`]): this crate only turns Python arguments into
//! their options, runs them with the GIL released, and turns their results
//! and errors into Python objects. The Python side (`modelseal/__init__.py`)
//! adds argument normalisation, the context manager and numpy/torch views.
//!
//! `unsafe_code` stays forbidden here too: PyO3's macros expand to code
//! whose `unsafe` lives in PyO3's own crates, so the workspace rule holds
//! unchanged for this crate.
#![forbid(unsafe_code)]

use pyo3::prelude::*;

mod errors;
mod inputs;
mod model;
mod tensors;
mod verification;

/// The native half of the `modelseal` package; use `modelseal` itself.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(verification::verify, m)?)?;
    m.add_function(wrap_pyfunction!(model::open_model, m)?)?;
    m.add_class::<verification::Verification>()?;
    m.add_class::<verification::Check>()?;
    m.add_class::<model::Model>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
