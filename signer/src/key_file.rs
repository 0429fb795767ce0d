//! Reading a private key file safely.
//!
//! A signing key readable by the group or by everyone is refused, as ssh
//! refuses such identity files: on a shared build machine that key is no
//! longer the release job's alone. The bytes read are wiped after parsing.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, KeyError, KeyFileError};
use crate::key::{RsaScheme, SigningKey};

/// The label of a file's first PEM block when it is one that never holds a
/// private key (`PUBLIC KEY`, `CERTIFICATE`, ...), read from the first line
/// only.
fn public_pem_label(file: &std::fs::File) -> Option<String> {
    let mut head = [0u8; 64];
    let n = file.take(64).read(&mut head).ok()?;
    let line = std::str::from_utf8(head.get(..n)?).ok()?.lines().next()?;
    let label = line.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
    (!label.contains("PRIVATE KEY")).then(|| label.to_owned())
}

/// Largest key file read, in bytes.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Load a PEM private key from `path`.
///
/// # Errors
/// [`Error::KeyFile`] when the file cannot be read, is too large, or is
/// readable by group or others; [`Error::Key`] when it does not parse.
pub fn load_key_file(
    path: &Path,
    passphrase: Option<&[u8]>,
    rsa: RsaScheme,
) -> Result<SigningKey, Error> {
    let key_file = |reason: KeyFileError| Error::KeyFile {
        path: path.to_owned(),
        reason,
    };
    let file = modelseal_manifest::open_regular(path).map_err(|e| key_file(e.into()))?;
    let meta = file.metadata().map_err(|e| key_file(e.into()))?;
    if !meta.is_file() {
        return Err(key_file(KeyFileError::NotRegular));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        // A public key or certificate is readable by design: say what it
        // is, rather than ask to protect a file that holds no secret.
        if let Some(label) = public_pem_label(&file) {
            return Err(Error::Key(KeyError::UnexpectedLabel { label }));
        }
        return Err(key_file(KeyFileError::Readable {
            mode,
            path: path.to_owned(),
        }));
    }
    // Room for the whole file up front: a growing Vec would leave copies of
    // the key in freed memory that Zeroizing never sees.
    let mut pem = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE as usize + 1));
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut pem)
        .map_err(|e| key_file(e.into()))?;
    if pem.len() as u64 > MAX_KEY_FILE {
        return Err(key_file(KeyFileError::TooLarge {
            limit: MAX_KEY_FILE,
        }));
    }
    Ok(SigningKey::from_pem(&pem, passphrase, rsa)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn refused_key_files_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let reason = |path: &Path| match load_key_file(path, None, RsaScheme::default()) {
            Err(Error::KeyFile { reason, .. }) => reason,
            other => panic!("{}: {:?}", path.display(), other.err()),
        };
        assert!(matches!(
            reason(&dir.path().join("absent.pem")),
            KeyFileError::Io(e) if e.kind() == std::io::ErrorKind::NotFound
        ));
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'A'; MAX_KEY_FILE as usize + 1]).unwrap();
        std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            reason(&big),
            KeyFileError::TooLarge {
                limit: MAX_KEY_FILE
            }
        ));
        std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            reason(&big),
            KeyFileError::Readable { mode: 0o640, path } if path == big
        ));
    }
}
