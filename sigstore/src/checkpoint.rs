//! Checkpoints: signed notes (C2SP `signed-note` and `tlog-checkpoint`)
//! that commit a log to a tree size and root hash.
//!
//! ```text
//! rekor.sigstore.dev - 1193050959916656506     origin
//! 12345                                        tree size
//! <base64 root hash>                           root hash
//! [extension lines]
//!
//! — rekor.sigstore.dev <base64(key hint[4] || signature)>
//! — witness.example <base64(...)>              cosignatures
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest as _, Sha256};

use crate::error::{CheckpointError, TlogError};
use crate::log_key::LogKey;

/// Largest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// Most signature lines accepted (C2SP signed-note allows 100).
pub const MAX_SIGNATURES: usize = 100;

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signer's name.
    pub name: String,
    /// The first four bytes of the signer's key ID.
    pub key_hint: [u8; 4],
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// A parsed checkpoint. Nothing in it has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The signed text: every body line with its newline.
    pub body: String,
    /// The log's origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The root hash.
    pub root_hash: Vec<u8>,
    /// Extension lines, if any.
    pub extensions: Vec<String>,
    /// The signatures: the log's and any cosignatures (witnesses).
    pub signatures: Vec<NoteSignature>,
}

fn malformed(e: CheckpointError) -> TlogError {
    TlogError::MalformedCheckpoint(e)
}

impl Checkpoint {
    /// Parse a signed note holding a checkpoint.
    ///
    /// # Errors
    /// [`TlogError::MalformedCheckpoint`] saying what is wrong.
    pub fn parse(text: &str) -> Result<Checkpoint, TlogError> {
        if text.len() > MAX_NOTE_BYTES {
            return Err(malformed(CheckpointError::TooLong(MAX_NOTE_BYTES)));
        }
        let split = text
            .find("\n\n")
            .ok_or_else(|| malformed(CheckpointError::NoBlankLine))?;
        let body = &text[..=split];
        let sigs = &text[split + 2..];
        let mut lines = body[..body.len() - 1].split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(malformed(CheckpointError::EmptyOrigin));
        }
        let size_line = lines
            .next()
            .ok_or_else(|| malformed(CheckpointError::NoTreeSize))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(malformed(CheckpointError::TreeSizeNotDecimal));
        }
        let size = size_line
            .parse::<u64>()
            .map_err(|_| malformed(CheckpointError::TreeSizeTooLarge))?;
        let root_line = lines
            .next()
            .ok_or_else(|| malformed(CheckpointError::NoRootHash))?;
        let root_hash = B64
            .decode(root_line)
            .map_err(|_| malformed(CheckpointError::RootHashNotBase64))?;
        if root_hash.len() != 32 {
            return Err(malformed(CheckpointError::RootHashLength));
        }
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(malformed(CheckpointError::EmptyExtension));
        }
        if !sigs.ends_with('\n') {
            return Err(malformed(CheckpointError::NoFinalNewline));
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(malformed(CheckpointError::TooManySignatures(
                    MAX_SIGNATURES,
                )));
            }
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or_else(|| malformed(CheckpointError::NoEmDash))?;
            let (name, sig) = rest
                .split_once(' ')
                .ok_or_else(|| malformed(CheckpointError::NoSignature))?;
            if name.is_empty() || sig.contains(' ') {
                return Err(malformed(CheckpointError::BadSignatureLine));
            }
            let blob = B64
                .decode(sig)
                .map_err(|_| malformed(CheckpointError::SignatureNotBase64))?;
            if blob.len() < 5 {
                return Err(malformed(CheckpointError::SignatureTooShort));
            }
            let mut key_hint = [0u8; 4];
            key_hint.copy_from_slice(&blob[..4]);
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_hint,
                signature: blob[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(malformed(CheckpointError::Unsigned));
        }
        Ok(Checkpoint {
            body: body.to_owned(),
            origin: origin.to_owned(),
            size,
            root_hash,
            extensions,
            signatures,
        })
    }

    /// Whether a signature whose hint names `log_id` (the first four bytes
    /// of the log's ID; for Ed25519 keys also the C2SP note key ID of the
    /// signer's name) verifies with `key`. Cosignatures of other keys are
    /// ignored; a colliding hint whose signature fails does not hide a
    /// later valid one.
    pub fn signed_by(&self, log_id: &[u8], key: &LogKey) -> bool {
        self.signatures.iter().any(|s| {
            let hinted = log_id.get(..4) == Some(&s.key_hint[..])
                || key
                    .ed25519_bytes()
                    .is_some_and(|k| note_key_id(&s.name, &k)[..4] == s.key_hint);
            hinted && key.verifies(self.body.as_bytes(), &s.signature)
        })
    }
}

/// The C2SP signed-note key ID of an Ed25519 key: `SHA-256(name || "\n" ||
/// 0x01 || key)`. Rekor v2 logs use it as their log ID.
pub fn note_key_id(name: &str, key: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n\x01");
    h.update(key);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    fn note(body: &str, sigs: &str) -> String {
        format!("{body}\n{sigs}")
    }

    #[test]
    fn parses_bodies_and_cosignatures() {
        let sig = B64.encode([1, 2, 3, 4, 9, 9]);
        let wit = B64.encode([5, 6, 7, 8, 9]);
        let text = note(
            &format!("log.example - 7\n10\n{ROOT}\next one\n"),
            &format!("\u{2014} log.example {sig}\n\u{2014} witness {wit}\n"),
        );
        let c = Checkpoint::parse(&text).unwrap();
        assert_eq!(c.origin, "log.example - 7");
        assert_eq!(c.size, 10);
        assert_eq!(c.root_hash, [0u8; 32]);
        assert_eq!(c.extensions, ["ext one"]);
        assert_eq!(c.signatures.len(), 2);
        assert_eq!(c.signatures[0].key_hint, [1, 2, 3, 4]);
        assert_eq!(c.signatures[1].name, "witness");
        assert_eq!(c.body, format!("log.example - 7\n10\n{ROOT}\next one\n"));
    }

    #[test]
    fn refuses_malformed_notes() {
        let sig = format!("\u{2014} log {}\n", B64.encode([1, 2, 3, 4, 9]));
        use CheckpointError as E;
        let body = format!("log\n10\n{ROOT}\n");
        for (bad, why) in [
            (note(&body, ""), E::NoFinalNewline),
            (format!("{body}{sig}"), E::NoBlankLine),
            (note(&format!("\n10\n{ROOT}\n"), &sig), E::EmptyOrigin),
            (
                note(&format!("log\n010\n{ROOT}\n"), &sig),
                E::TreeSizeNotDecimal,
            ),
            (
                note(&format!("log\n-1\n{ROOT}\n"), &sig),
                E::TreeSizeNotDecimal,
            ),
            (
                note(&format!("log\n99999999999999999999999\n{ROOT}\n"), &sig),
                E::TreeSizeTooLarge,
            ),
            (note("log\n10\nAAAA\n", &sig), E::RootHashLength),
            (note("log\n10\n!!!!\n", &sig), E::RootHashNotBase64),
            (note(&format!("{body}\n"), &sig), E::NoEmDash),
            (note(&body, &sig.replace('\u{2014}', "-")), E::NoEmDash),
            (note(&body, sig.trim_end()), E::NoFinalNewline),
            (note(&body, "\u{2014} log\n"), E::NoSignature),
            (note(&body, "\u{2014} log a b\n"), E::BadSignatureLine),
            (note(&body, "\u{2014} log !!!!\n"), E::SignatureNotBase64),
            (
                note(&body, &format!("\u{2014} log {}\n", B64.encode([1, 2]))),
                E::SignatureTooShort,
            ),
            (note(&body, &sig.repeat(101)), E::TooManySignatures(100)),
            (note("log\n10\n", &sig), E::NoRootHash),
            (note("log\n", &sig), E::NoTreeSize),
            ("x".repeat(MAX_NOTE_BYTES + 1), E::TooLong(MAX_NOTE_BYTES)),
        ] {
            match Checkpoint::parse(&bad) {
                Err(TlogError::MalformedCheckpoint(e)) => assert_eq!(e, why, "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
