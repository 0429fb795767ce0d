//! Opening the small input files a command names (bundles, checksums files,
//! keys, certificates, policies, CRLs, raw signatures).
//!
//! Every one of them is opened with `O_NONBLOCK`, so that a FIFO or a device
//! planted under the expected name cannot block the open, and must be a
//! regular file (checked with `fstat` on the opened descriptor, so the check
//! and the read see the same file) before a byte is read. Symbolic links an
//! operator made on purpose (a shared trust root, a policy in `/etc`) are
//! followed: what is read is whatever regular file they name.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rustix::fs::OFlags;

/// Open `path` for reading without blocking, whatever it is (the caller
/// checks its type on the descriptor).
///
/// # Errors
/// The open's [`io::Error`].
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY).bits() as i32)
        .open(path)
}

/// Open `path` for reading, non-blocking, and require a regular file.
///
/// # Errors
/// The open's [`io::Error`]; [`io::ErrorKind::InvalidInput`] ("not a regular
/// file: a FIFO" and the like) for anything but a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = open_nonblocking(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("not a regular file: {what}"),
    ))
}

/// Read a regular file ([`open_regular`]) of at most `limit` bytes. Returns
/// up to `limit + 1` bytes, so the caller sees that a file was too large and
/// can say so in its own terms.
///
/// # Errors
/// As [`open_regular`], and read errors.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn fifos_directories_and_devices_are_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("model.sig");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // Run in a thread so a regression fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        let p = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(read_regular(&p, 100).map_err(|e| e.to_string()));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO blocked");
        assert!(got.unwrap_err().contains("a FIFO"));
        let err = read_regular(d.path(), 100).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("directory"), "{err}");
        assert!(read_regular(Path::new("/dev/zero"), 100).is_err());
        std::fs::write(d.path().join("f"), b"12345").unwrap();
        assert_eq!(read_regular(&d.path().join("f"), 3).unwrap(), b"1234");
    }
}
