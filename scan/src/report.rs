//! What a scan found: formats, findings (unsafe content) and problems
//! (malformed input), per file.

use std::fmt;

use serde::Serialize;

/// A serialization format, recognized by content (never by file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Format {
    /// A Python pickle stream (or several, as legacy `torch.save` writes).
    Pickle,
    /// A zip archive holding a pickle at `*/data.pkl` (`torch.save`).
    PytorchZip,
    /// Any other zip archive (`.npz`, `.keras`, ...).
    Zip,
    /// A tar archive (NeMo `.nemo`).
    Tar,
    /// A gzip stream.
    Gzip,
    /// A NumPy `.npy` array.
    Numpy,
    /// safetensors.
    Safetensors,
    /// GGUF (llama.cpp).
    Gguf,
    /// An ONNX protobuf model.
    Onnx,
    /// Compressed data the scanner cannot open (xz, bzip2, zstd, lz4).
    Compressed,
    /// Anything else: text, JSON, raw tensor bytes. Never deserialized as code.
    Data,
}

impl Format {
    /// The name used in reports and policies.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pickle => "pickle",
            Format::PytorchZip => "pytorch-zip",
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Numpy => "numpy",
            Format::Safetensors => "safetensors",
            Format::Gguf => "gguf",
            Format::Onnx => "onnx",
            Format::Compressed => "compressed",
            Format::Data => "data",
        }
    }

    /// Every format, for parsing policy names.
    pub const ALL: [Format; 11] = [
        Format::Pickle,
        Format::PytorchZip,
        Format::Zip,
        Format::Tar,
        Format::Gzip,
        Format::Numpy,
        Format::Safetensors,
        Format::Gguf,
        Format::Onnx,
        Format::Compressed,
        Format::Data,
    ];

    /// The format named `name` (as [`Format::name`] writes it).
    pub fn from_name(name: &str) -> Option<Format> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why content is unsafe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingKind {
    /// A pickle imports a global on the denylist of known code-execution
    /// primitives (`os.system`, `builtins.eval`, ...).
    DangerousGlobal,
    /// A pickle imports a global that is not on the allowlist.
    UnallowedGlobal,
    /// A pickle does something the emulator cannot resolve to an allowed
    /// global (a computed name, an extension code, a call of a non-global).
    Unresolvable,
    /// Content the scanner cannot look into (an unsupported compression, a
    /// scan limit reached, an inconsistent archive): refused, fail closed.
    Unscannable,
    /// A safe format's header that would crash or mislead a loader.
    HostileHeader,
    /// Code stored as data: a Keras `Lambda` layer, an ONNX external-data
    /// path leaving the model.
    EmbeddedCode,
}

/// One piece of unsafe content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind of problem.
    pub kind: FindingKind,
    /// Archive members leading to the content, outermost first (empty for
    /// the file itself).
    pub member: Vec<String>,
    /// Byte offset within the innermost stream (file or member).
    pub offset: u64,
    /// The global (`module.name`) or the opcode or field concerned.
    pub subject: String,
    /// Why it is unsafe.
    pub why: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.member {
            write!(f, "!{}", crate::escape(m))?;
        }
        write!(
            f,
            "@{}: {} ({})",
            self.offset,
            crate::escape(&self.subject),
            self.why
        )
    }
}

/// Input that is malformed: not unsafe as such (a loader fails on it too),
/// but no verdict can be given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Archive members leading to it, outermost first.
    pub member: Vec<String>,
    /// Byte offset within the innermost stream.
    pub offset: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.member {
            write!(f, "!{}", crate::escape(m))?;
        }
        write!(f, "@{}: {}", self.offset, self.message)
    }
}

/// The outcome of scanning one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The file's path relative to the scanned root (`.` for a single file).
    pub path: String,
    /// Its format.
    pub format: Format,
    /// Its size in bytes.
    pub size: u64,
    /// Archive members looked into (recursively).
    pub members: u64,
    /// Unsafe content.
    pub findings: Vec<Finding>,
    /// Malformed content.
    pub problems: Vec<Problem>,
}

/// A scan's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Nothing unsafe.
    Clean,
    /// Unsafe content found.
    Unsafe,
    /// Nothing unsafe found, but some input is malformed.
    Malformed,
}

impl FileReport {
    /// Unsafe beats malformed beats clean.
    pub fn verdict(&self) -> Verdict {
        if !self.findings.is_empty() {
            Verdict::Unsafe
        } else if !self.problems.is_empty() {
            Verdict::Malformed
        } else {
            Verdict::Clean
        }
    }
}

/// The outcome of scanning a model (a directory or one file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One entry per file, in path order.
    pub files: Vec<FileReport>,
}

impl Report {
    /// The worst verdict over all files.
    pub fn verdict(&self) -> Verdict {
        let v: Vec<_> = self.files.iter().map(FileReport::verdict).collect();
        if v.contains(&Verdict::Unsafe) {
            Verdict::Unsafe
        } else if v.contains(&Verdict::Malformed) {
            Verdict::Malformed
        } else {
            Verdict::Clean
        }
    }

    /// Number of findings over all files.
    pub fn finding_count(&self) -> usize {
        self.files.iter().map(|f| f.findings.len()).sum()
    }
}
