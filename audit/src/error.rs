//! The crate's one error type.
//!
//! Errors describe what could not be done and where; they never carry key
//! material or the contents of a key file. A tampered log is not an error: the
//! verifier returns it as a [`crate::verify::Finding`].

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the audit crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call on a file failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"open"`, `"fsync"`, ...).
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A key file is readable or writable by group or others.
    #[error(
        "key file {} has mode {mode:04o}; it must not be accessible by group or others (chmod 600)",
        path.display()
    )]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file is not a well-formed key of the expected kind.
    #[error("key file {} is invalid: {detail}", path.display())]
    KeyFileFormat {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key itself).
        detail: &'static str,
    },
    /// Key generation would overwrite an existing file.
    #[error("{} already exists; refusing to overwrite a key", path.display())]
    KeyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// An event field is missing, too long or has characters it may not have.
    #[error("invalid event field {field}: {reason}")]
    InvalidEvent {
        /// The ECS field name.
        field: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The log and the writer key disagree: the tail of the log is not the
    /// chain the key's state describes, so appending would fork the chain.
    #[error("log {} does not match the writer key state (byte offset {offset}): {detail}", path.display())]
    LogStateMismatch {
        /// The log file.
        path: PathBuf,
        /// Byte offset in the file where the mismatch shows.
        offset: u64,
        /// What does not match.
        detail: String,
    },
    /// The log, a rotated file or the lock file is not a file the writer
    /// may change: a symbolic link, not a regular file, owned by another
    /// user or hard-linked. Nothing was changed.
    #[error("refusing to write {}: {detail}", path.display())]
    UnsafeLogFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: UnsafeFile,
    },
    /// A checkpoint document is not well formed.
    #[error("checkpoint {}: {detail}", path.display())]
    CheckpointFormat {
        /// The checkpoint file (or `-` when parsed from memory).
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A MAC did not verify (checkpoint authentication); deliberately opaque.
    #[error("invalid signature")]
    InvalidSignature,
    /// The syslog collector could not be reached, refused the TLS handshake
    /// or the connection failed while sending.
    #[error("syslog delivery to {addr} failed while {op}: {detail}")]
    Syslog {
        /// What was being done (`"connecting"`, `"handshaking"`, `"sending"`).
        op: &'static str,
        /// The collector address as given.
        addr: String,
        /// The underlying failure.
        detail: String,
    },
    /// The syslog sink configuration is unusable (bad address, CA file).
    #[error("syslog configuration: {detail}")]
    SyslogConfig {
        /// What is wrong.
        detail: String,
    },
}

impl Error {
    /// Wrap an I/O error with the operation and path it happened on.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}

/// A convenience alias for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A `Debug` stand-in for secret values.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lowercase_without_period() {
        let e = Error::KeyFilePermissions {
            path: "/k/writer.key".into(),
            mode: 0o644,
        };
        let s = e.to_string();
        assert_eq!(
            s,
            "key file /k/writer.key has mode 0644; it must not be accessible by group or others (chmod 600)"
        );
        assert!(!s.ends_with('.'));
        assert_eq!(Error::InvalidSignature.to_string(), "invalid signature");
    }
}

/// Why the writer refuses to change a file ([`Error::UnsafeLogFile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnsafeFile {
    /// Its last component is a symbolic link.
    #[error("it is a symbolic link; the audit writer does not follow links")]
    Symlink,
    /// It is a directory, FIFO, socket or device.
    #[error("it is not a regular file")]
    NotRegular,
    /// Another user owns it.
    #[error("it is owned by uid {owner}, not by the writer (uid {writer})")]
    OtherOwner {
        /// The file's owner.
        owner: u32,
        /// The writer's effective uid.
        writer: u32,
    },
    /// It has more than one hard link.
    #[error("it has {0} hard links; the writer only changes a file with one")]
    HardLinks(u64),
}
