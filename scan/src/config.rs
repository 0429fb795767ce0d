//! What a scan allows and how much work it may do.

use crate::pickle::Allowlist;

/// Bounds on the work and memory a scan may spend on one file. Reaching one
/// is a finding ([`crate::FindingKind::Unscannable`]): fail closed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Archives inside archives, at most this deep (the file is depth 0).
    pub max_depth: u32,
    /// Archive members per file, counted over all depths.
    pub max_members: u64,
    /// Bytes decompression may produce per file, over all members.
    pub max_expanded: u64,
    /// Decompressed bytes per compressed byte a member may reach (beyond
    /// its first MiB): DEFLATE tops out near 1032; more is a bomb.
    pub max_ratio: u64,
    /// Pickle memo entries.
    pub max_memo: usize,
    /// Pickle stack entries (and marks).
    pub max_stack: usize,
    /// Header bytes of safetensors, GGUF metadata, `.npy` and ONNX
    /// structures read into memory.
    pub max_header: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 4,
            max_members: 100_000,
            max_expanded: 16 << 30,
            max_ratio: 1100,
            max_memo: 1 << 20,
            max_stack: 1 << 20,
            max_header: 100 << 20,
        }
    }
}

/// What a scan allows and how much work it may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Globals a pickle may import.
    pub allow: Allowlist,
    /// Work bounds.
    pub limits: Limits,
}

impl Config {
    /// The default allowlist extended with `globals` (`module.qualname`).
    pub fn with_globals<'a>(globals: impl IntoIterator<Item = &'a str>) -> Self {
        let mut cfg = Self::default();
        for g in globals {
            cfg.allow.allow(g);
        }
        cfg
    }
}
