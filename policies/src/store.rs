//! Trust stores: named sets of root certificates, loaded from files and
//! directories when the policy is loaded.
//!
//! - A file may hold one DER certificate or any number of PEM
//!   `CERTIFICATE` blocks.
//! - A directory contributes its regular files ending in `.pem`, `.crt`,
//!   `.cer` or `.der` (any case), in name order; other files and
//!   subdirectories are ignored. A directory without any such file is an
//!   error, as is a store that ends up empty: an empty store would trust
//!   nothing, and a typo should not look like that.
//! - Every certificate must parse and be usable as a webpki trust anchor.
//! - Or the store is a Sigstore trusted root: `"sigstore": "public-good"`
//!   or `"sigstore": "trusted_root.json"` ([`crate::sigstore`]), alone.

use std::path::{Path, PathBuf};

use modelseal_verifier::certificates_from_pem;
use modelseal_verifier::{CertInfo, Sigstore, TrustAnchors};
use serde_json::Value;

use crate::read::{self, FileError, Problems, Ptr};

/// Largest certificate file read.
const MAX_CERT_FILE: u64 = 1024 * 1024;
/// Most certificate files read from one directory.
const MAX_DIR_FILES: usize = 1000;

/// One named trust store: X.509 roots, or a Sigstore trusted root
/// ([`crate::sigstore`]).
#[derive(Debug, Clone)]
pub struct TrustStore {
    name: String,
    anchors: Option<TrustAnchors>,
    certificates: Vec<Vec<u8>>,
    sigstore: Option<Sigstore>,
    sources: Vec<PathBuf>,
}

impl TrustStore {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its roots, as trust anchors (`None` for a Sigstore trusted root).
    pub fn anchors(&self) -> Option<&TrustAnchors> {
        self.anchors.as_ref()
    }

    /// The root certificates (none for a Sigstore trusted root).
    pub fn roots(&self) -> &[CertInfo] {
        self.anchors.as_ref().map_or(&[], TrustAnchors::roots)
    }

    /// The Sigstore trusted root, for a `sigstore` store.
    pub fn sigstore(&self) -> Option<&Sigstore> {
        self.sigstore.as_ref()
    }

    /// The root certificates, DER (for trust other than code signing:
    /// a policy's TSA roots).
    pub fn certificates_der(&self) -> &[Vec<u8>] {
        &self.certificates
    }

    /// The files the roots were read from.
    pub fn sources(&self) -> &[PathBuf] {
        &self.sources
    }
}

/// Whether a store name is acceptable: letters, digits, `.`, `_`, `-`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Load the store `name` described by `v` at `ptr`.
pub(crate) fn load(
    name: &str,
    v: &Value,
    ptr: &Ptr,
    base: &Path,
    p: &mut Problems,
) -> Option<TrustStore> {
    let before = p.len();
    if !valid_name(name) {
        p.add(
            ptr,
            "invalid trust store name: use 1 to 128 letters, digits, `.`, `_` or `-`",
        );
    }
    let map = read::object(
        v,
        ptr,
        &["description", "certificates", "directories", "sigstore"],
        &[],
        p,
    )?;
    if let Some(d) = map.get("description") {
        read::string(d, &ptr.key("description"), p);
    }
    if let Some(root) = map.get("sigstore") {
        if map.contains_key("certificates") || map.contains_key("directories") {
            p.add(
                ptr,
                "a trust store is either root certificates or a Sigstore trusted root, not both",
            );
            return None;
        }
        let sigstore = crate::sigstore::load_root(root, &ptr.key("sigstore"), base, p)?;
        return (p.len() == before).then(|| TrustStore {
            name: name.to_owned(),
            anchors: None,
            certificates: Vec::new(),
            sources: Vec::new(),
            sigstore: Some(sigstore),
        });
    }
    let mut ders: Vec<Vec<u8>> = Vec::new();
    let mut sources = Vec::new();
    if let Some(files) = map.get("certificates") {
        let fptr = ptr.key("certificates");
        for (ptr, written) in read::strings(files, &fptr, false, p).unwrap_or_default() {
            let path = read::resolve(base, written);
            match read_certificates(&path) {
                Ok(mut certs) => {
                    ders.append(&mut certs);
                    sources.push(path);
                }
                Err(reason) => p.add(&ptr, reason.to_string()),
            }
        }
    }
    if let Some(dirs) = map.get("directories") {
        let dptr = ptr.key("directories");
        for (ptr, written) in read::strings(dirs, &dptr, false, p).unwrap_or_default() {
            let dir = read::resolve(base, written);
            match certificate_files(&dir) {
                Ok(files) => {
                    for file in files {
                        match read_certificates(&file) {
                            Ok(mut certs) => {
                                ders.append(&mut certs);
                                sources.push(file);
                            }
                            Err(reason) => p.add(&ptr, reason.to_string()),
                        }
                    }
                }
                Err(reason) => p.add(&ptr, reason.to_string()),
            }
        }
    }
    if p.len() > before {
        return None;
    }
    if ders.is_empty() {
        p.add(
            ptr,
            "the trust store holds no certificate: give certificates or directories (or a Sigstore trusted root as sigstore)",
        );
        return None;
    }
    match TrustAnchors::from_der(&ders) {
        Ok(anchors) => Some(TrustStore {
            name: name.to_owned(),
            anchors: Some(anchors),
            certificates: ders,
            sigstore: None,
            sources,
        }),
        Err(e) => {
            p.add(ptr, format!("unusable root certificate: {e}"));
            None
        }
    }
}

/// Every certificate of a file, PEM or DER, each checked to parse.
fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>, FileError> {
    let bytes = read::read_limited(path, MAX_CERT_FILE)?;
    let unusable = |source| FileError::Certificate {
        path: path.to_owned(),
        source,
    };
    let ders = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        certificates_from_pem(&bytes).map_err(unusable)?
    } else {
        vec![bytes]
    };
    for der in &ders {
        CertInfo::from_der(der).map_err(unusable)?;
    }
    Ok(ders)
}

/// The certificate files of a directory, in name order.
fn certificate_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    let unreadable = |source| FileError::ReadDir {
        dir: dir.to_owned(),
        source,
    };
    let entries = std::fs::read_dir(dir).map_err(unreadable)?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(ext.as_deref(), Some("pem" | "crt" | "cer" | "der")) {
            continue;
        }
        // Follows symbolic links, as reading the file will.
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            files.push(path);
        }
        if files.len() > MAX_DIR_FILES {
            return Err(FileError::TooManyFiles {
                dir: dir.to_owned(),
                limit: MAX_DIR_FILES,
            });
        }
    }
    if files.is_empty() {
        return Err(FileError::NoCertificateFile {
            dir: dir.to_owned(),
        });
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_certificate_files_say_why() {
        let dir = modelseal_testkit::tempdir().unwrap();
        assert!(matches!(
            certificate_files(dir.path()),
            Err(FileError::NoCertificateFile { .. })
        ));
        assert!(matches!(
            certificate_files(&dir.path().join("absent")),
            Err(FileError::ReadDir { source, .. }) if source.kind() == std::io::ErrorKind::NotFound
        ));
        let garbage = dir.path().join("a.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(matches!(
            read_certificates(&garbage),
            Err(FileError::Certificate { path, .. }) if path == garbage
        ));
        let big = dir.path().join("big.der");
        std::fs::write(&big, vec![0u8; MAX_CERT_FILE as usize + 1]).unwrap();
        assert!(matches!(
            read_certificates(&big),
            Err(FileError::TooLarge {
                limit: MAX_CERT_FILE,
                ..
            })
        ));
        assert!(matches!(
            read_certificates(&dir.path().join("absent.pem")),
            Err(FileError::Read { .. })
        ));
    }

    #[test]
    fn names() {
        for ok in ["release", "ca.v2", "a_b-c"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ä", &"x".repeat(129)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
