//! What the two gated readers ([`super::VerifyingReader`],
//! [`super::HashingReader`]) share: the file they read, where its verdict
//! stands, and the proof they hand out once every byte matched.

use modelseal_manifest::ResourcePath;

use crate::error::Error;

/// The signed file a gated reader reads: its path in the manifest and its
/// signed length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatedFile {
    pub(super) path: ResourcePath,
    pub(super) size: u64,
}

impl GatedFile {
    /// The file's path in the manifest.
    pub fn path(&self) -> &ResourcePath {
        &self.path
    }

    /// The file's signed length in bytes.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
}

/// Proof that every byte of one file was read through a gated reader
/// ([`super::VerifyingReader`], [`super::HashingReader`]) and matched its
/// signed digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVerified {
    file: GatedFile,
}

impl FileVerified {
    /// The file.
    pub fn path(&self) -> &ResourcePath {
        &self.file.path
    }

    /// Its length in bytes.
    pub fn bytes(&self) -> u64 {
        self.file.size
    }
}

/// Where a gated reader's verdict stands.
#[derive(Debug)]
pub(super) enum State {
    /// Bytes are still to be read and hashed.
    Reading,
    /// Every digest matched and the file ended where signed.
    Verified,
    /// A digest differed or the file changed; final.
    Failed(Error),
}

impl State {
    /// Take a settled verdict on `file`: its proof or the failure; `None`
    /// while still reading. Leaves [`State::Reading`] behind, so callers
    /// take it once, as they finish.
    pub(super) fn take(&mut self, file: &GatedFile) -> Option<Result<FileVerified, Error>> {
        match std::mem::replace(self, State::Reading) {
            State::Verified => Some(Ok(FileVerified { file: file.clone() })),
            State::Failed(e) => Some(Err(e)),
            State::Reading => None,
        }
    }
}
