//! Example loader: load a safetensors model through the modelseal gate and
//! report the tensors it got.
//!
//! ```text
//! load-safetensors MODEL --signature model.sig (--trust-root ROOT.pem --identity ID | --public-key PUB.pem)
//!                  [--mode stream|stream-discard|seal|hash]
//! ```
//!
//! - `stream` (default): every file is read once, hashed as the loader
//!   consumes it, and kept in memory; the tensors are parsed only after the
//!   gate said every file verified.
//! - `stream-discard`: the same pass, but the loader keeps nothing (as a
//!   loader that copies each chunk to a GPU would): memory stays bounded.
//! - `seal`: the gate copies the verified bytes into sealed memory files;
//!   the loader reads those (random access is possible there).
//! - `hash`: verification alone (`modelseal verify`'s path), for comparison.
#![forbid(unsafe_code)]

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use clap::{Parser, ValueEnum};
use modelseal_verifier::{
    Error, Gate, Identity, IdentityRequirement, LoadError, Options, PublicKey, Report, Trust,
    TrustAnchors,
};
use safetensors::SafeTensors;

/// Load a safetensors model through the modelseal gate.
#[derive(Debug, Parser)]
struct Args {
    /// The model directory (or single file).
    model: PathBuf,
    /// The OMS bundle.
    #[arg(long, default_value = "model.sig")]
    signature: PathBuf,
    /// Trusted root certificates (PEM).
    #[arg(long, conflicts_with = "public_key")]
    trust_root: Option<PathBuf>,
    /// The signer's public key (PEM).
    #[arg(long)]
    public_key: Option<PathBuf>,
    /// With --trust-root: the signer identity required (a SAN such as
    /// `email:release@example.com`, or a subject DN); repeatable, any
    /// matches. `*` accepts any signer the roots certify.
    #[arg(long)]
    identity: Vec<String>,
    /// How to load.
    #[arg(long, value_enum, default_value_t = Mode::Stream)]
    mode: Mode,
    /// Tensors listed per file (the rest are counted).
    #[arg(long, default_value_t = 20)]
    show: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Stream,
    StreamDiscard,
    Seal,
    Hash,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load-safetensors: {e}");
            ExitCode::from(match &e {
                Failure::Rejected(e) if e.is_rejection() => 1,
                _ => 2,
            })
        }
    }
}

#[derive(Debug)]
enum Failure {
    Rejected(Error),
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Rejected(e) => write!(f, "not loaded: {e}"),
            Failure::Other(s) => f.write_str(s),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Rejected(e)
    }
}

impl<E: std::fmt::Display> From<LoadError<E>> for Failure {
    fn from(e: LoadError<E>) -> Self {
        match e {
            LoadError::Rejected(e) => Failure::Rejected(e),
            other => Failure::Other(other.to_string()),
        }
    }
}

/// How much to reserve for a file said to be `len` bytes long: a size read
/// from the model store is not yet verified (a sparse file can claim a
/// terabyte), so reserve at most 64 MiB and let the buffer grow with what
/// is actually read.
fn preallocate(len: u64) -> usize {
    const MAX: u64 = 64 << 20;
    usize::try_from(len.min(MAX)).unwrap_or(0)
}

fn other(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::Other(format!("{what}: {e}"))
}

/// A key or certificate file: regular, non-blocking open, at most 1 MiB.
fn read_input(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    const LIMIT: u64 = 1024 * 1024;
    let bytes = modelseal_manifest::read_regular(path, LIMIT)?;
    if bytes.len() as u64 > LIMIT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "larger than 1 MiB",
        ));
    }
    Ok(bytes)
}

fn trust(args: &Args) -> Result<Trust, Failure> {
    match (&args.trust_root, &args.public_key) {
        (Some(root), None) => {
            let pem = read_input(root).map_err(|e| other("trust root", e))?;
            Ok(Trust::Roots(
                TrustAnchors::from_pem(&pem).map_err(|e| other("trust root", e))?,
            ))
        }
        (None, Some(key)) => {
            let pem = read_input(key).map_err(|e| other("public key", e))?;
            Ok(Trust::PublicKey(
                PublicKey::from_pem(&pem).map_err(|e| other("public key", e))?,
            ))
        }
        _ => Err(Failure::Other(
            "give --trust-root or --public-key".to_owned(),
        )),
    }
}

/// The signers `--identity` accepts: never implied with roots.
fn identities(args: &Args) -> Result<Option<Vec<Identity>>, Failure> {
    match args.identity.as_slice() {
        [any] if any == "*" => Ok(None),
        [] if args.trust_root.is_some() => Err(Failure::Other(
            "--trust-root needs --identity ID (or --identity '*' for any signer the roots certify)"
                .to_owned(),
        )),
        [] => Ok(None),
        ids => ids
            .iter()
            .map(|s| Identity::parse(s).map_err(|e| other("identity", e)))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let trust = trust(args)?;
    let ids = identities(args)?;
    let identity = match &ids {
        None => IdentityRequirement::Any,
        Some(ids) => IdentityRequirement::OneOf(ids),
    };
    let mut opts = Options::new(&trust, identity, SystemTime::now());
    opts.signature_file = Some(&args.signature);
    let start = Instant::now();
    let bundle = modelseal_verifier::read_bundle(
        &args.signature,
        modelseal_manifest::DEFAULT_MAX_BUNDLE_BYTES,
    )
    .map_err(|e| other("signature", e))?;
    let mut report = Report::default();
    // Signature, trust and statement: nothing of the model is read yet.
    let auth = modelseal_verifier::authenticate_bytes(&bundle, &opts, &mut report)?;
    let (bytes, files): (u64, Vec<(String, Vec<u8>)>) = match args.mode {
        Mode::Hash => {
            let v = modelseal_verifier::check_model(auth, &args.model, &opts, &mut report)?;
            (v.bytes(), Vec::new())
        }
        Mode::Stream => {
            let gate = Gate::open(auth, &args.model, &opts, &mut report)?;
            // The loader reads each file into memory as it is hashed; the
            // gate hands back what it read only once every digest matched.
            let loaded = gate.load_all(&mut report, |r| {
                let mut buf = Vec::with_capacity(preallocate(r.file().len()));
                r.read_to_end(&mut buf).map(|_| buf)
            })?;
            let files = loaded
                .files
                .into_iter()
                .map(|(p, b)| (p.to_string(), b))
                .collect();
            (loaded.verified.bytes(), files)
        }
        Mode::StreamDiscard => {
            let gate = Gate::open(auth, &args.model, &opts, &mut report)?;
            let loaded = gate.load_all(&mut report, |r| {
                // Consume the hashed chunks in place, keep nothing.
                let mut n = 0u64;
                loop {
                    let chunk = r.fill_buf()?;
                    if chunk.is_empty() {
                        return Ok::<_, std::io::Error>(n);
                    }
                    let len = chunk.len();
                    n += len as u64;
                    r.consume(len);
                }
            })?;
            (loaded.verified.bytes(), Vec::new())
        }
        Mode::Seal => {
            let gate = Gate::open(auth, &args.model, &opts, &mut report)?;
            let sealed = gate.seal(&opts.hash, &mut report)?;
            let mut files = Vec::new();
            for f in sealed.files() {
                let mut buf = Vec::with_capacity(preallocate(f.len()));
                f.reopen()
                    .and_then(|mut r| r.read_to_end(&mut buf))
                    .map_err(|e| other("sealed copy", e))?;
                files.push((f.path().to_string(), buf));
            }
            (sealed.verified().bytes(), files)
        }
    };
    let secs = start.elapsed().as_secs_f64();
    for (name, data) in &files {
        if name.ends_with(".safetensors") {
            describe(name, data, args.show)?;
        }
    }
    eprintln!(
        "{:?}: {bytes} bytes verified in {secs:.3} s ({:.0} MiB/s)",
        args.mode,
        bytes as f64 / secs.max(1e-9) / (1024.0 * 1024.0)
    );
    Ok(())
}

/// Print the tensors of one verified safetensors file.
fn describe(name: &str, data: &[u8], show: usize) -> Result<(), Failure> {
    let st = SafeTensors::deserialize(data).map_err(|e| other(name, e))?;
    let mut tensors = st.tensors();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    println!("{name}: {} tensors", tensors.len());
    for (tname, view) in tensors.iter().take(show) {
        println!("  {tname}  {:?}  {:?}", view.dtype(), view.shape());
    }
    if tensors.len() > show {
        println!("  ... and {} more", tensors.len() - show);
    }
    Ok(())
}
