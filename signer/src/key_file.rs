//! Reading a private key file safely.
//!
//! A signing key readable by the group or by everyone is refused, as ssh
//! refuses such identity files: on a shared build machine that key is no
//! longer the release job's alone. The bytes read are wiped after parsing.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, KeyError};
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
    let key_file = |reason: String| Error::KeyFile {
        path: path.to_owned(),
        reason,
    };
    let file = modelseal_manifest::open_regular(path).map_err(|e| key_file(e.to_string()))?;
    let meta = file.metadata().map_err(|e| key_file(e.to_string()))?;
    if !meta.is_file() {
        return Err(key_file("not a regular file".into()));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        // A public key or certificate is readable by design: say what it
        // is, rather than ask to protect a file that holds no secret.
        if let Some(label) = public_pem_label(&file) {
            return Err(Error::Key(KeyError::UnexpectedLabel { label }));
        }
        return Err(key_file(format!(
            "permissions {mode:04o} let group or others read it; run `chmod 600 {}`",
            path.display()
        )));
    }
    // Room for the whole file up front: a growing Vec would leave copies of
    // the key in freed memory that Zeroizing never sees.
    let mut pem = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE as usize + 1));
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut pem)
        .map_err(|e| key_file(e.to_string()))?;
    if pem.len() as u64 > MAX_KEY_FILE {
        return Err(key_file(format!(
            "larger than {MAX_KEY_FILE} bytes: not a key"
        )));
    }
    Ok(SigningKey::from_pem(&pem, passphrase, rsa)?)
}
