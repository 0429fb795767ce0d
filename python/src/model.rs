//! `modelseal.open_model`: a model whose signature, trust and file list
//! were checked, handing out only bytes that matched their signed digests.
//!
//! - `read` and `load_safetensors` stream a file through the gate
//!   ([`Gate::stream`]): it is read once from the model store, each chunk
//!   hashed, then copied into the caller's buffer; the buffer is returned
//!   only after the file's digest matched. Nothing is kept between calls,
//!   so a file changed on disk after `open_model` fails its next read.
//! - `path` seals the whole model once ([`Gate::seal`]: every file hashed
//!   into a sealed memory file) and exposes a private directory of links to
//!   the copies ([`ModelView`]); from then on every read is served from the
//!   copies and the model store is never read again.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use modelseal_manifest::ResourcePath;
use modelseal_manifest::WalkOptions;
use modelseal_manifest::{HashOptions, Inspect};
use modelseal_policies::{PolicySet, SignatureFile, VerifyOptions};
use modelseal_verifier::Authenticated;
use modelseal_verifier::{CheckName, GateError, Report, Status};
use modelseal_verifier::{Gate, LoadError, ModelView, SealedModel};
use numpy::PyArray1;
use pyo3::exceptions::PyMemoryError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::errors::{Class, Failure, Raise};
use crate::inputs::{self, Request, Source};
use crate::tensors::{self, LoadFailure, Tensors};
use crate::verification::{self, Verification, hash_options};

/// The sealed copies and the directory that leads to them.
#[derive(Debug)]
struct Sealed {
    // Declared first: the links go before the copies they lead to.
    view: ModelView,
    model: SealedModel,
}

#[derive(Debug)]
enum State {
    /// Files are streamed from the model store, verified on every read.
    Open(Arc<Gate>),
    /// Files are read from sealed copies.
    Sealed(Arc<Sealed>),
    Closed,
}

/// Where a read comes from.
enum From {
    Gate(Arc<Gate>),
    Sealed(Arc<Sealed>),
}

/// One loaded safetensors file for Python: its `__metadata__` and its
/// tensors as `(name, dtype, shape, buffer)`, each buffer a 1-D `uint8`
/// numpy array owning the memory the tensor's bytes were read (and
/// hashed) into.
type LoadedFile<'py> = (Option<Bound<'py, PyAny>>, Bound<'py, PyList>);

/// An opened model (see the module docs); `modelseal.Model` wraps it.
#[pyclass(frozen, module = "modelseal._native")]
#[derive(Debug)]
pub(crate) struct Model {
    req: Request,
    verification: Verification,
    names: Vec<String>,
    tmpdir: PathBuf,
    state: Mutex<State>,
}

fn closed() -> Failure {
    Failure::input("closed", "the model is closed")
}

/// A failure of step 7 (a digest, or the file changed while read).
fn rejected(e: &modelseal_verifier::Error) -> Failure {
    let mut report = Report::default();
    let check = match e {
        modelseal_verifier::Error::Gate(GateError::NotSigned { .. }) => CheckName::Files,
        _ => CheckName::Digests,
    };
    report.record(check, Status::Fail, e.to_string());
    Failure::from_verifier(e, &report)
}

impl Model {
    fn source(&self, py: Python<'_>) -> Result<From, Failure> {
        py.detach(
            || match &*self.state.lock().unwrap_or_else(PoisonError::into_inner) {
                State::Open(g) => Ok(From::Gate(Arc::clone(g))),
                State::Sealed(s) => Ok(From::Sealed(Arc::clone(s))),
                State::Closed => Err(closed()),
            },
        )
    }

    /// A resource path from a Python name: the path inside the model
    /// directory, or for a single-file model its file name (or `.`).
    fn resource(&self, name: &str) -> Result<ResourcePath, Failure> {
        let single = self.req.model.is_file();
        if single
            && (name == ResourcePath::FILE_ROOT
                || self.req.model.file_name().is_some_and(|n| n == name))
        {
            return Ok(ResourcePath::file_root());
        }
        ResourcePath::new(name)
            .map_err(|e| Failure::input("usage", format!("file name {name:?}: {e}")))
    }

    /// Seal the model (once) and return the copies.
    fn seal(&self) -> Result<Arc<Sealed>, Failure> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let gate = match &*state {
            State::Sealed(s) => return Ok(Arc::clone(s)),
            State::Closed => return Err(closed()),
            State::Open(g) => Arc::clone(g),
        };
        // A gate of its own (listing the model again): the open one may be
        // streaming to other threads.
        let auth = gate.authenticated().clone();
        let walk = modelseal_verifier::walk_options(
            auth.manifest(),
            &self.req.model,
            Some(self.req.signature()),
        );
        let mut report = Report::default();
        let hash = hash_options(&self.req);
        let model = Gate::open_with(auth, &self.req.model, &walk, hash.buffer_size, &mut report)
            .and_then(|g| limited(g, &self.req).seal(&hash, &mut report))
            .map_err(|e| Failure::from_verifier(&e, &report))?;
        let view = ModelView::create(&model, &self.tmpdir)
            .map_err(|e| Failure::from_verifier(&e, &report))?;
        let sealed = Arc::new(Sealed { view, model });
        *state = State::Sealed(Arc::clone(&sealed));
        Ok(sealed)
    }
}

/// A sealed copy, read from its start.
fn sealed_file(s: &Sealed, path: &ResourcePath) -> Result<(File, u64), Failure> {
    let f = s.model.get(path).ok_or_else(|| {
        rejected(
            &GateError::NotSigned {
                path: path.to_string(),
            }
            .into(),
        )
    })?;
    let file = f.reopen().map_err(|e| {
        Failure::input(
            "gate_failed",
            format!("cannot reopen the sealed copy of {path}: {e}"),
        )
    })?;
    Ok((file, f.len()))
}

/// The gate with the request's seal limit (`max_sealed_bytes`), if any.
fn limited(gate: Gate, req: &Request) -> Gate {
    match req.max_sealed_bytes {
        Some(bytes) => gate.with_seal_limit(bytes),
        None => gate,
    }
}

/// Refuse, before anything is opened or allocated, a file larger than the
/// gate's limit. Its listed size is what the buffer will hold: opening it
/// checks the opened file's size (`fstat`) is still that size, and in
/// `files` mode nothing signed bounds it (a sparse file costs no disk).
fn check_fits(gate: &Gate, path: &ResourcePath) -> Result<(), Failure> {
    let Some(size) = gate
        .files()
        .iter()
        .find(|e| &e.path == path)
        .map(|e| e.size)
    else {
        // Not a signed file: opening it says so.
        return Ok(());
    };
    gate.check_fits(size).map_err(|e| {
        let reason = match &e {
            modelseal_verifier::Error::Gate(GateError::TooLarge { bytes, limit, why }) => format!(
                "{path}: {bytes} bytes, more than the {limit} bytes a file may be read into memory ({why}, max_sealed_bytes); nothing was read"
            ),
            e => format!("{path}: {e}"),
        };
        let mut report = Report::default();
        report.record(CheckName::Digests, Status::Fail, reason.clone());
        Failure {
            reason,
            ..Failure::from_verifier(&e, &report)
        }
    })
}

fn too_large(len: u64) -> Failure {
    Failure::input(
        "too_large",
        format!("a file of {len} bytes does not fit in memory on this platform"),
    )
}

#[pymethods]
impl Model {
    /// What was checked when the model was opened (signature, trust,
    /// identity, the exact file list); digests are checked as files are
    /// read.
    #[getter]
    fn verification(&self) -> Verification {
        self.verification.clone()
    }

    /// The signed files (paths inside the model; for a single-file model,
    /// its name), in canonical order.
    #[getter]
    fn files(&self) -> Vec<String> {
        self.names.clone()
    }

    /// One file's bytes, returned only if they matched its signed digest.
    fn read<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
        let path = self.resource(name).raise(py)?;
        match self.source(py).raise(py)? {
            From::Gate(gate) => {
                check_fits(&gate, &path).raise(py)?;
                let mut reader = py
                    .detach(|| gate.stream(&path))
                    .map_err(|e| rejected(&e))
                    .raise(py)?;
                let len = usize::try_from(reader.file().len())
                    .map_err(|_| too_large(reader.file().len()))
                    .raise(py)?;
                let bytes = PyBytes::new_with(py, len, |buf| {
                    py.detach(|| reader.read_exact(buf)).map_err(PyErr::from)
                });
                // The verdict first: a tampered file fails its read too,
                // and the digest is the real reason.
                py.detach(|| reader.finish())
                    .map_err(|e| rejected(&e))
                    .raise(py)?;
                bytes
            }
            From::Sealed(s) => {
                let (file, len) = sealed_file(&s, &path).raise(py)?;
                let len = usize::try_from(len).map_err(|_| too_large(len)).raise(py)?;
                PyBytes::new_with(py, len, |buf| {
                    py.detach(|| file.read_exact_at(buf, 0))
                        .map_err(PyErr::from)
                })
            }
        }
    }

    /// Safetensors files, each as `(metadata, [(name, dtype, shape,
    /// buffer)])`, in the order given (a buffer is a 1-D `uint8` numpy
    /// array over the bytes read). Each file is read once straight into
    /// its tensors' buffers and hashed there, and returned only if it
    /// matched its signed digest; several files are loaded at once, one per
    /// worker (`threads`, default one per core). Nothing is returned unless
    /// every file loaded.
    fn load_safetensors<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
    ) -> PyResult<Vec<LoadedFile<'py>>> {
        let paths = names
            .iter()
            .map(|n| self.resource(n))
            .collect::<Result<Vec<_>, _>>()
            .raise(py)?;
        let source = self.source(py).raise(py)?;
        let workers = self
            .req
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        // The arrays are numpy's: without numpy, an ImportError now rather
        // than a panic in `from_vec` after the files were read.
        py.import("numpy")?;
        let loaded = py.detach(|| load_files(&source, &paths, &names, workers));
        let mut out = Vec::with_capacity(loaded.len());
        for result in loaded {
            let Tensors { metadata, tensors } = result.map_err(|e| e.into_pyerr(py))?;
            let list = PyList::empty(py);
            for (name, dtype, shape, bytes) in tensors {
                // The vector moves into the array (no copy): its bytes are
                // the ones the hash saw.
                list.append((name, dtype, shape, PyArray1::from_vec(py, bytes)))?;
            }
            let metadata = match metadata {
                Some(m) => Some(m.into_pyobject(py)?.into_any()),
                None => None,
            };
            out.push((metadata, list));
        }
        Ok(out)
    }

    /// A directory holding the model's files as links to sealed copies
    /// (made on first use: every file is hashed into sealed memory once).
    #[getter]
    fn path(&self, py: Python<'_>) -> PyResult<String> {
        let sealed = py.detach(|| self.seal()).raise(py)?;
        Ok(sealed.view.path().display().to_string())
    }

    /// Bytes held in sealed copies (0 until `path` is used).
    #[getter]
    fn sealed_bytes(&self, py: Python<'_>) -> u64 {
        match self.source(py) {
            Ok(From::Sealed(s)) => s.model.files().iter().map(|f| f.len()).sum(),
            _ => 0,
        }
    }

    /// Whether the model is closed.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        self.source(py).is_err()
    }

    /// Drop the sealed copies and remove the directory; later reads fail.
    fn close(&self, py: Python<'_>) {
        let old = py.detach(|| {
            std::mem::replace(
                &mut *self.state.lock().unwrap_or_else(PoisonError::into_inner),
                State::Closed,
            )
        });
        // Threads still reading keep their own reference; the copies go
        // when the last one is done.
        drop(old);
    }
}

/// Why a safetensors file was not loaded, on its way to Python.
enum LoadFailed {
    Failure(Failure),
    Python(PyErr),
}

impl LoadFailed {
    fn new(name: &str, e: LoadError<LoadFailure>) -> Self {
        match e {
            LoadError::Rejected(e) => LoadFailed::Failure(rejected(&e)),
            LoadError::Loader(LoadFailure::Memory(n)) => LoadFailed::Python(
                PyMemoryError::new_err(format!("{name}: no memory for a tensor of {n} bytes")),
            ),
            LoadError::Loader(e) => LoadFailed::Failure(Failure::input(
                "malformed_safetensors",
                format!("{name}: {e}"),
            )),
            e => LoadFailed::Failure(Failure::input("gate_failed", e.to_string())),
        }
    }

    fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self {
            LoadFailed::Failure(f) => f.into_pyerr(py),
            LoadFailed::Python(e) => e,
        }
    }
}

/// One safetensors file: through a [`HashingReader`] (this thread reads
/// and hashes, straight into the tensors' buffers), or from its sealed
/// copy.
///
/// [`HashingReader`]: modelseal_verifier::HashingReader
fn load_file(source: &From, path: &ResourcePath, name: &str) -> Result<Tensors, LoadFailed> {
    match source {
        From::Gate(gate) => {
            check_fits(gate, path).map_err(LoadFailed::Failure)?;
            gate.load_direct(path, |reader| {
                let size = reader.file().len();
                tensors::load(reader, size)
            })
            .map_err(|e| LoadFailed::new(name, e))
        }
        From::Sealed(s) => {
            let (mut file, len) = sealed_file(s, path).map_err(LoadFailed::Failure)?;
            tensors::load(&mut file, len).map_err(|e| LoadFailed::new(name, LoadError::Loader(e)))
        }
    }
}

/// Load `paths` with up to `workers` threads, each taking the next file;
/// the results in the order of `paths`. After a failure no new file is
/// started, and the first failure in that order is the one reported.
fn load_files(
    source: &From,
    paths: &[ResourcePath],
    names: &[String],
    workers: usize,
) -> Vec<Result<Tensors, LoadFailed>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<Result<Tensors, LoadFailed>>>> =
        paths.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let (Some(path), Some(name), Some(slot)) = (paths.get(i), names.get(i), slots.get(i))
            else {
                return;
            };
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let result = load_file(source, path, name);
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        }
    };
    let workers = workers.clamp(1, paths.len().max(1));
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(work);
            }
        });
    }
    let results: Vec<Option<Result<Tensors, LoadFailed>>> = slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
        .collect();
    // Files never started (after a failure) are left out: the failure is
    // among the others.
    if let Some(i) = results.iter().position(|r| matches!(r, Some(Err(_)))) {
        return results.into_iter().skip(i).take(1).flatten().collect();
    }
    results.into_iter().flatten().collect()
}

/// Steps 1–6 without the GIL: authenticate, then list the model.
fn open(req: Request, tmpdir: PathBuf) -> Result<Model, Failure> {
    let time = req.time()?;
    let trust = match req.source()? {
        Source::Bundle(trust) => trust,
        Source::Policy(policy) => return open_policy(req, &policy, time, tmpdir),
    };
    let signature = req.signature().to_owned();
    let evidence = inputs::evidence(&trust);
    let opts = inputs::options(
        &trust,
        &evidence,
        time,
        &signature,
        &req.model_names,
        hash_options(&req),
    );
    let mut report = Report::default();
    let bundle = inputs::bundle(&signature, &mut report)?;
    let gate = modelseal_verifier::authenticate_bytes(&bundle, &opts, &mut report)
        .and_then(|auth| Gate::open(auth, &req.model, &opts, &mut report))
        .map(|g| limited(g, &req))
        .map_err(|e| Failure::from_verifier(&e, &report))?;
    let verification = Verification::from_authenticated(&req.model, gate.authenticated(), &report);
    let names = names(&req.model, gate.files().iter().map(|e| &e.path));
    Ok(Model {
        req,
        verification,
        names,
        tmpdir,
        state: Mutex::new(State::Open(Arc::new(gate))),
    })
}

/// The names Python uses for the model's files: their resource paths, or
/// for a single-file model its file name.
fn names<'a>(model: &Path, paths: impl Iterator<Item = &'a ResourcePath>) -> Vec<String> {
    paths
        .map(|p| match model.file_name() {
            Some(n) if p.is_file_root() => n.to_string_lossy().into_owned(),
            _ => p.to_string(),
        })
        .collect()
}

/// Open under a trust policy. The policy decides over the signatures'
/// facts and, for each manifest that could count, asks for the verifier's
/// proof that the files match; that check seals the model (every file
/// hashed once into sealed memory), so an accepted model is served from
/// its sealed copies from the start.
fn open_policy(
    req: Request,
    policy: &Path,
    time: std::time::SystemTime,
    tmpdir: PathBuf,
) -> Result<Model, Failure> {
    let set = PolicySet::load(policy).map_err(|e| Failure::from_policy(&e))?;
    let bundles = verification::read_bundles(&req)?;
    let signatures: Vec<_> = bundles.iter().map(SignatureFile::input).collect();
    let hash = hash_options(&req);
    let mut sealed: Vec<SealedModel> = Vec::new();
    let mut check = |auth: Authenticated, walk: &WalkOptions, inspect: Option<&dyn Inspect>| {
        let mut report = Report::default();
        let s = limited(
            Gate::open_with(auth, &req.model, walk, hash.buffer_size, &mut report)?,
            &req,
        )
        .seal(&HashOptions { inspect, ..hash }, &mut report)?;
        let verified = s.verified().clone();
        sealed.push(s);
        Ok(verified)
    };
    let mut opts = VerifyOptions::new(time);
    opts.hash = hash;
    let outcome = modelseal_policies::verify_with(&set, &req.model, &signatures, &opts, &mut check)
        .map_err(|e| Failure::from_policy(&e))?;
    if !outcome.decision.accepted {
        return Err(verification::policy_failure(&outcome));
    }
    // A skip policy accepts without verifying anything: there are no
    // verified bytes to hand out.
    let approved = outcome
        .approval()
        .and_then(|a| a.verified().first())
        .ok_or_else(|| Failure {
            class: Class::Verification,
            kind: "policy_rejected",
            check: Some("policy".into()),
            reason: format!(
                "policy {:?} skips verification; open_model only hands out verified bytes",
                outcome.policy
            ),
            checks: Vec::new(),
        })?;
    let manifest = approved.authenticated().manifest();
    let index = sealed
        .iter()
        .position(|s| s.verified().authenticated().manifest() == manifest)
        .ok_or_else(|| Failure::input("gate_failed", "the approved manifest was not sealed"))?;
    let model = sealed.swap_remove(index);
    drop(sealed);
    let view = ModelView::create(&model, &tmpdir)
        .map_err(|e| Failure::from_verifier(&e, &Report::default()))?;
    let verification = Verification::from_policy(&req.model, &outcome);
    let names = names(&req.model, model.files().iter().map(|f| f.path()));
    Ok(Model {
        req,
        verification,
        names,
        tmpdir,
        state: Mutex::new(State::Sealed(Arc::new(Sealed { view, model }))),
    })
}

/// `_native.open_model(request, tmpdir)`: see `modelseal.open_model`.
#[pyfunction]
pub(crate) fn open_model(
    py: Python<'_>,
    request: Request,
    tmpdir: Option<PathBuf>,
) -> PyResult<Model> {
    let tmpdir = tmpdir.unwrap_or_else(std::env::temp_dir);
    py.detach(|| open(request, tmpdir)).raise(py)
}
