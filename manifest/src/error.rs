//! Errors of this crate: reading a model ([`ModelError`]) and reading or
//! writing the bundle format ([`FormatError`]).

use std::io;
use std::path::PathBuf;

use crate::path::PathError;

/// A model directory could not be read as a manifest requires.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// An I/O error on a file or directory of the model.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A name inside the model is not a valid resource name.
    #[error("{}: {source}", path.display())]
    BadName {
        /// The offending path (lossy if not UTF-8).
        path: PathBuf,
        /// Why.
        #[source]
        source: PathError,
    },
    /// A symbolic link where none is allowed.
    #[error("{}: is a symbolic link (symlinks are refused unless allowed explicitly)", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// An allowed symbolic link that leaves the model, dangles, or does not
    /// point at a regular file.
    #[error("{}: symbolic link {reason}", path.display())]
    BadSymlink {
        /// The link.
        path: PathBuf,
        /// What is wrong with its target.
        reason: &'static str,
    },
    /// Something that is neither a regular file nor a directory (FIFO,
    /// socket, device).
    #[error("{}: not a regular file or directory", path.display())]
    SpecialFile {
        /// The entry.
        path: PathBuf,
    },
    /// A file changed size while it was being hashed.
    #[error("{}: changed while being hashed (expected {expected} bytes, found {found})", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
        /// Size when the model was listed.
        expected: u64,
        /// Size when it was read.
        found: u64,
    },
    /// The model has more files than the configured limit.
    #[error("model has more than {limit} files")]
    TooManyFiles {
        /// The limit.
        limit: usize,
    },
    /// The hashing thread pool could not be started.
    #[error("cannot start hashing threads: {reason}")]
    Threads {
        /// The thread pool's or the spawn's error.
        #[source]
        reason: ThreadStart,
    },
}

/// Why hashing threads could not be started ([`ModelError::Threads`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ThreadStart {
    /// The rayon pool could not be built.
    #[error(transparent)]
    Pool(#[from] rayon::ThreadPoolBuildError),
    /// A thread could not be spawned.
    #[error(transparent)]
    Spawn(#[from] std::io::Error),
}

/// A bundle, statement or manifest does not follow the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The input is larger than the accepted limit.
    #[error("{what} is {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// What was read.
        what: &'static str,
        /// Its size (or a lower bound).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Not valid UTF-8 / JSON, nesting too deep, or a duplicate key.
    #[error("{what}: invalid JSON: {reason}")]
    Json {
        /// What was parsed.
        what: &'static str,
        /// The parser's message (line and column).
        reason: String,
    },
    /// A field has an unexpected value.
    #[error("{field}: expected {expected}, found {found}")]
    Unexpected {
        /// JSON path of the field.
        field: String,
        /// What the format requires.
        expected: String,
        /// What the input holds (shortened).
        found: String,
    },
    /// Base64 that does not decode.
    #[error("{field}: invalid base64")]
    Base64 {
        /// JSON path of the field.
        field: String,
    },
    /// A resource name that is not a safe relative path.
    #[error("resource {name:?}: {source}")]
    BadResourceName {
        /// The name (shortened).
        name: String,
        /// Why it is refused.
        #[source]
        source: PathError,
    },
    /// A statement about several artifacts names none (or several) of
    /// them as the file verified: it is not a statement about this file.
    #[error(
        "the statement is about {count} artifacts, and {named} of them is named {name:?} (the file verified): it does not cover this file"
    )]
    NotASubject {
        /// The file's name.
        name: String,
        /// How many subjects the statement lists.
        count: usize,
        /// How many of them carry the name.
        named: usize,
    },
    /// Two resources with the same name.
    #[error("resource {name:?} is listed twice")]
    DuplicateResource {
        /// The resource name.
        name: String,
    },
    /// Resources not in canonical order.
    #[error("resources are not in canonical order at {name:?}")]
    Unordered {
        /// The first resource out of order.
        name: String,
    },
    /// The subject digest does not match the resource digests.
    #[error("subject digest {found} does not match the resources, which hash to {expected}")]
    SubjectDigest {
        /// Recomputed from the resources.
        expected: String,
        /// As written in the statement.
        found: String,
    },
}

impl FormatError {
    /// Shorthand for [`FormatError::Unexpected`].
    pub fn unexpected(
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl AsRef<str>,
    ) -> Self {
        FormatError::Unexpected {
            field: field.into(),
            expected: expected.into(),
            found: crate::path::shorten(found.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_start_failures_keep_their_source() {
        // A stack no machine can map: the pool fails to start its thread.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .stack_size(usize::MAX / 4)
            .build();
        let Err(e) = pool else {
            panic!("a pool with an unmappable stack started");
        };
        let err = ModelError::Threads { reason: e.into() };
        assert!(matches!(
            &err,
            ModelError::Threads {
                reason: ThreadStart::Pool(_)
            }
        ));
        assert!(std::error::Error::source(&err).is_some());
        let spawn = std::thread::Builder::new()
            .stack_size(usize::MAX / 4)
            .spawn(|| ());
        let Err(e) = spawn else {
            panic!("a thread with an unmappable stack started");
        };
        assert!(matches!(ThreadStart::from(e), ThreadStart::Spawn(_)));
    }
}
