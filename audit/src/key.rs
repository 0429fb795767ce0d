//! Epoch keys and the two key files.
//!
//! # Key scheme (forward integrity)
//!
//! `audit keygen` draws a random 32-byte key `k_0` and a random 16-byte log
//! identity. Epoch keys evolve one way:
//!
//! ```text
//! k_{i+1} = HMAC-SHA256(k_i, "modelseal-audit/v1 evolve")
//! m_i     = HMAC-SHA256(k_i, "modelseal-audit/v1 record")      record MAC key of epoch i
//! c_i     = HMAC-SHA256(k_i, "modelseal-audit/v1 checkpoint")  checkpoint MAC key of epoch i
//! ```
//!
//! `verifier.key` holds `k_0` and derives every epoch key. `writer.key` holds
//! only the current epoch key `k_e` plus the chain state the writer needs to
//! append (next sequence number, last MAC, rotation segment). When the epoch
//! advances the new state is written atomically (temporary file, fsync,
//! rename, fsync of the directory) and the old key is zeroized in memory, so
//! whoever steals `writer.key` later cannot compute the MAC of any record of
//! an earlier epoch: HMAC cannot be run backwards.
//!
//! The epoch advances each time the writer commits (after every record with
//! [`crate::Durability::EveryRecord`], after every group with
//! [`crate::Durability::Group`]), at every checkpoint and at every rotation,
//! but only when at least one record was written in the current epoch. So
//! the epoch of consecutive records grows by 0 or 1, and never exceeds the
//! record's sequence number; the verifier relies on both.
//!
//! Both files are created with mode 0600 and refused when group or others
//! have any access. Key material never appears in `Debug` output or errors.

use crate::error::{Error, Redacted, Result};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// Length in bytes of every key and MAC.
pub const KEY_LEN: usize = 32;

/// File name `keygen` gives the writer key.
pub const WRITER_KEY_FILE: &str = "writer.key";
/// File name `keygen` gives the verifier key.
pub const VERIFIER_KEY_FILE: &str = "verifier.key";

const LABEL_EVOLVE: &[u8] = b"modelseal-audit/v1 evolve";
const LABEL_RECORD: &[u8] = b"modelseal-audit/v1 record";
const LABEL_CHECKPOINT: &[u8] = b"modelseal-audit/v1 checkpoint";

const WRITER_MAGIC: &str = "modelseal-audit-writer-key v1";
const VERIFIER_MAGIC: &str = "modelseal-audit-verifier-key v1";
/// Key files are tiny; anything larger is not one.
const MAX_KEY_FILE: u64 = 4096;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A 32-byte MAC value.
pub type MacBytes = [u8; KEY_LEN];

/// The random identity of one log (one chain), fixed at key generation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogId(pub [u8; 16]);

impl LogId {
    /// Lowercase hex, as written in records and checkpoints.
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }

    /// Parse 32 lowercase hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 16];
        hex_decode_into(s.as_bytes(), &mut out)?;
        Some(LogId(out))
    }
}

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogId({})", self.to_hex())
    }
}

fn hmac(key: &[u8; KEY_LEN], msg: &[u8]) -> Zeroizing<[u8; KEY_LEN]> {
    let mut m = keyed(key);
    m.update(msg);
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(&m.finalize().into_bytes());
    out
}

/// The key of one epoch. Cloning is deliberately not offered.
pub(crate) struct EpochKey {
    epoch: u64,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for EpochKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochKey")
            .field("epoch", &self.epoch)
            .field("key", &Redacted)
            .finish()
    }
}

impl EpochKey {
    pub(crate) fn new(epoch: u64, key: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self { epoch, key }
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Replace this key by the next epoch's; the old key is zeroized.
    pub(crate) fn advance(&mut self) {
        let next = hmac(&self.key, LABEL_EVOLVE);
        self.key.copy_from_slice(next.as_slice());
        self.epoch = self.epoch.saturating_add(1);
    }

    /// A copy of this key (verifier side only; the writer never copies keys).
    pub(crate) fn duplicate(&self) -> EpochKey {
        EpochKey {
            epoch: self.epoch,
            key: self.key.clone(),
        }
    }

    /// The next epoch's key, leaving this one as is (verifier side).
    pub(crate) fn derive_next(&self) -> EpochKey {
        EpochKey {
            epoch: self.epoch.saturating_add(1),
            key: hmac(&self.key, LABEL_EVOLVE),
        }
    }

    /// A keyed HMAC instance for record MACs of this epoch, ready to clone.
    pub(crate) fn record_mac(&self) -> HmacSha256 {
        keyed(&hmac(&self.key, LABEL_RECORD))
    }

    /// A keyed HMAC instance for checkpoint MACs of this epoch.
    pub(crate) fn checkpoint_mac(&self) -> HmacSha256 {
        keyed(&hmac(&self.key, LABEL_CHECKPOINT))
    }
}

/// A keyed HMAC instance. HMAC zero-pads keys shorter than the hash's block,
/// so padding the 32-byte key to 64 bytes is exactly HMAC with that key (and
/// needs no fallible length check).
fn keyed(k: &[u8; KEY_LEN]) -> HmacSha256 {
    let mut padded = hmac::digest::Key::<HmacSha256>::default();
    if let Some(dst) = padded.get_mut(..KEY_LEN) {
        dst.copy_from_slice(k);
    }
    let m = <HmacSha256 as KeyInit>::new(&padded);
    padded.as_mut_slice().zeroize();
    m
}

/// MAC `msg` with a prepared keyed instance.
pub(crate) fn mac_with(prepared: &HmacSha256, msg: &[u8]) -> MacBytes {
    let mut m = prepared.clone();
    m.update(msg);
    let mut out = [0u8; KEY_LEN];
    out.copy_from_slice(&m.finalize().into_bytes());
    out
}

/// Constant-time check of `mac` over `msg` with a prepared keyed instance.
pub(crate) fn mac_matches(prepared: &HmacSha256, msg: &[u8], mac: &MacBytes) -> bool {
    let mut m = prepared.clone();
    m.update(msg);
    m.verify_slice(mac).is_ok()
}

/// Where the writer's chain stands: what the next record continues from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainState {
    /// Sequence number the next record gets (0 for an empty log).
    pub next_seq: u64,
    /// MAC of the last record (all zero before the first record).
    pub last_mac: MacBytes,
    /// Records written under the current epoch key (the epoch only advances
    /// when this is non-zero).
    pub epoch_records: u64,
    /// Number the next rotated file gets (`LOG.000001` first).
    pub segment: u32,
    /// Sequence number of the first record in the active file.
    pub file_first_seq: u64,
}

impl ChainState {
    fn genesis() -> Self {
        Self {
            next_seq: 0,
            last_mac: [0u8; KEY_LEN],
            epoch_records: 0,
            segment: 1,
            file_first_seq: 0,
        }
    }
}

/// The writer's key file: current epoch key plus chain state.
pub struct WriterKey {
    pub(crate) log_id: LogId,
    pub(crate) key: EpochKey,
    pub(crate) state: ChainState,
}

impl fmt::Debug for WriterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriterKey")
            .field("log_id", &self.log_id)
            .field("epoch", &self.key.epoch)
            .field("key", &Redacted)
            .field("state", &self.state)
            .finish()
    }
}

/// The auditor's key file: the initial key `k_0`, from which every epoch key
/// is derived.
pub struct VerifierKey {
    pub(crate) log_id: LogId,
    pub(crate) k0: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierKey")
            .field("log_id", &self.log_id)
            .field("key", &Redacted)
            .finish()
    }
}

/// Generate a fresh key pair from the operating system's random source.
///
/// # Errors
/// [`Error::Random`] when the random source fails.
pub(crate) fn generate() -> Result<(WriterKey, VerifierKey)> {
    let mut seed = Zeroizing::new([0u8; KEY_LEN + 16]);
    getrandom::fill(seed.as_mut_slice()).map_err(|_| Error::Random)?;
    Ok(from_seed(&seed))
}

/// Build a key pair from 48 bytes of seed (32 key, 16 log id). Deterministic;
/// meant for tests and benchmarks.
pub(crate) fn from_seed(seed: &[u8; KEY_LEN + 16]) -> (WriterKey, VerifierKey) {
    let mut k0 = Zeroizing::new([0u8; KEY_LEN]);
    k0.copy_from_slice(&seed[..KEY_LEN]);
    let mut id = [0u8; 16];
    id.copy_from_slice(&seed[KEY_LEN..]);
    let log_id = LogId(id);
    let writer = WriterKey {
        log_id,
        key: EpochKey::new(0, k0.clone()),
        state: ChainState::genesis(),
    };
    (writer, VerifierKey { log_id, k0 })
}

/// Write a new key pair into `dir` (created 0700 if missing) as
/// `writer.key` and `verifier.key`, both 0600. Returns the log identity.
///
/// # Errors
/// [`Error::KeyExists`] if either file exists; [`Error::Io`] on file system
/// failures; [`Error::Random`] if no randomness is available.
pub fn keygen(dir: &Path) -> Result<LogId> {
    let (writer, verifier) = generate()?;
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(Error::io("create directory", dir))?;
    }
    let wpath = dir.join(WRITER_KEY_FILE);
    let vpath = dir.join(VERIFIER_KEY_FILE);
    for p in [&wpath, &vpath] {
        if p.symlink_metadata().is_ok() {
            return Err(Error::KeyExists { path: p.clone() });
        }
    }
    write_new_secret(&vpath, verifier.serialize().as_bytes())?;
    write_new_secret(&wpath, writer.serialize().as_bytes())?;
    sync_dir(dir)?;
    Ok(writer.log_id)
}

use std::os::unix::fs::DirBuilderExt;

fn write_new_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::KeyExists {
                    path: path.to_path_buf(),
                }
            } else {
                Error::io("create", path)(e)
            }
        })?;
    f.write_all(bytes).map_err(Error::io("write", path))?;
    f.sync_all().map_err(Error::io("fsync", path))?;
    Ok(())
}

/// fsync a directory so a rename or create in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let d = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(d)
        .and_then(|f| f.sync_all())
        .map_err(Error::io("fsync directory", d))
}

/// Read a secret file after checking it is a regular file not accessible by
/// group or others.
fn read_secret(path: &Path) -> Result<Zeroizing<String>> {
    let mut f = modelseal_manifest::open_regular(path).map_err(Error::io("open", path))?;
    let meta = f.metadata().map_err(Error::io("stat", path))?;
    if !meta.is_file() {
        return Err(Error::KeyFileFormat {
            path: path.to_path_buf(),
            detail: "not a regular file",
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyFilePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    if meta.len() > MAX_KEY_FILE {
        return Err(Error::KeyFileFormat {
            path: path.to_path_buf(),
            detail: "file too large",
        });
    }
    let mut buf = Zeroizing::new(Vec::with_capacity(512));
    Read::by_ref(&mut f)
        .take(MAX_KEY_FILE)
        .read_to_end(&mut buf)
        .map_err(Error::io("read", path))?;
    match String::from_utf8(std::mem::take(&mut *buf)) {
        Ok(s) => Ok(Zeroizing::new(s)),
        Err(e) => {
            let mut bytes = e.into_bytes();
            bytes.zeroize();
            Err(Error::KeyFileFormat {
                path: path.to_path_buf(),
                detail: "not UTF-8 text",
            })
        }
    }
}

/// A strict `name value` line reader over a key file.
struct Fields<'a> {
    lines: std::str::Lines<'a>,
    path: &'a Path,
}

impl<'a> Fields<'a> {
    fn bad(&self, detail: &'static str) -> Error {
        Error::KeyFileFormat {
            path: self.path.to_path_buf(),
            detail,
        }
    }

    fn next(&mut self, name: &'static str, missing: &'static str) -> Result<&'a str> {
        let line = self.lines.next().ok_or_else(|| self.bad(missing))?;
        match line.split_once(' ') {
            Some((n, v)) if n == name => Ok(v),
            _ => Err(self.bad(missing)),
        }
    }

    fn u64(&mut self, name: &'static str, what: &'static str) -> Result<u64> {
        let v = self.next(name, what)?;
        parse_decimal(v).ok_or_else(|| self.bad(what))
    }

    fn key(&mut self, name: &'static str, what: &'static str) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        let v = self.next(name, what)?;
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        hex_decode_into(v.as_bytes(), k.as_mut_slice()).ok_or_else(|| self.bad(what))?;
        Ok(k)
    }

    fn log_id(&mut self) -> Result<LogId> {
        let v = self.next("log-id", "bad or missing log-id")?;
        LogId::from_hex(v).ok_or_else(|| self.bad("bad or missing log-id"))
    }

    fn end(&mut self) -> Result<()> {
        match self.lines.next() {
            None => Ok(()),
            Some(_) => Err(self.bad("unexpected trailing content")),
        }
    }
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

impl WriterKey {
    /// The log this key writes.
    pub fn log_id(&self) -> LogId {
        self.log_id
    }

    /// The current epoch number.
    pub fn epoch(&self) -> u64 {
        self.key.epoch
    }

    /// The chain state stored with the key.
    pub fn state(&self) -> ChainState {
        self.state
    }

    fn serialize(&self) -> Zeroizing<String> {
        let s = &self.state;
        Zeroizing::new(format!(
            "{WRITER_MAGIC}\nlog-id {}\nepoch {}\nkey {}\nnext-seq {}\nlast-mac {}\nepoch-records {}\nsegment {}\nfile-first-seq {}\n",
            self.log_id.to_hex(),
            self.key.epoch,
            Zeroizing::new(hex_encode(self.key.key.as_slice())).as_str(),
            s.next_seq,
            hex_encode(&s.last_mac),
            s.epoch_records,
            s.segment,
            s.file_first_seq,
        ))
    }

    /// Load a writer key file, refusing one that group or others can access.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::KeyFilePermissions`], [`Error::KeyFileFormat`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_secret(path)?;
        let mut f = Fields {
            lines: text.lines(),
            path,
        };
        if f.lines.next() != Some(WRITER_MAGIC) {
            return Err(f.bad("not a modelseal audit writer key"));
        }
        let log_id = f.log_id()?;
        let epoch = f.u64("epoch", "bad or missing epoch")?;
        let key = f.key("key", "bad or missing key")?;
        let next_seq = f.u64("next-seq", "bad or missing next-seq")?;
        let last_mac_v = f.key("last-mac", "bad or missing last-mac")?;
        let epoch_records = f.u64("epoch-records", "bad or missing epoch-records")?;
        let segment = f.u64("segment", "bad or missing segment")?;
        let file_first_seq = f.u64("file-first-seq", "bad or missing file-first-seq")?;
        f.end()?;
        let segment = u32::try_from(segment)
            .ok()
            .filter(|s| *s >= 1)
            .ok_or_else(|| f.bad("bad segment"))?;
        if file_first_seq > next_seq || epoch > next_seq {
            return Err(f.bad("inconsistent chain state"));
        }
        Ok(Self {
            log_id,
            key: EpochKey::new(epoch, key),
            state: ChainState {
                next_seq,
                last_mac: *last_mac_v,
                epoch_records,
                segment,
                file_first_seq,
            },
        })
    }

    /// Atomically replace the key file at `path` with this key and state:
    /// temporary file (0600), fsync, rename, fsync of the directory.
    ///
    /// # Errors
    /// [`Error::Io`] on any file system failure; the old file is then intact.
    pub fn store(&self, path: &Path) -> Result<()> {
        let tmp = tmp_path(path);
        match fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &tmp)(e)),
        }
        write_new_secret(&tmp, self.serialize().as_bytes())?;
        fs::rename(&tmp, path).map_err(Error::io("rename", path))?;
        sync_dir(path.parent().unwrap_or(Path::new(".")))
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

impl VerifierKey {
    /// The log this key verifies.
    pub fn log_id(&self) -> LogId {
        self.log_id
    }

    fn serialize(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{VERIFIER_MAGIC}\nlog-id {}\nkey {}\n",
            self.log_id.to_hex(),
            Zeroizing::new(hex_encode(self.k0.as_slice())).as_str(),
        ))
    }

    /// Load a verifier key file, refusing one that group or others can access.
    ///
    /// # Errors
    /// [`Error::Io`], [`Error::KeyFilePermissions`], [`Error::KeyFileFormat`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_secret(path)?;
        let mut f = Fields {
            lines: text.lines(),
            path,
        };
        if f.lines.next() != Some(VERIFIER_MAGIC) {
            return Err(f.bad("not a modelseal audit verifier key"));
        }
        let log_id = f.log_id()?;
        let k0 = f.key("key", "bad or missing key")?;
        f.end()?;
        Ok(Self { log_id, k0 })
    }

    /// The key of epoch 0.
    pub(crate) fn epoch0(&self) -> EpochKey {
        EpochKey::new(0, self.k0.clone())
    }

    /// The key of `epoch`, derived from `k_0` (cost linear in `epoch`).
    pub(crate) fn epoch_key(&self, epoch: u64) -> EpochKey {
        let mut k = self.epoch0();
        while k.epoch < epoch {
            k.advance();
        }
        k
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex encoding.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// Append lowercase hex to a byte buffer.
pub(crate) fn hex_push(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0x0f)]);
    }
}

/// Lowercase hex digit values; 0xff marks anything else.
static NIBBLE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut j = 0;
    while j < 6 {
        t[b'a' as usize + j] = 10 + j as u8;
        j += 1;
    }
    t
};

/// Decode exactly `out.len() * 2` lowercase hex digits into `out`.
pub(crate) fn hex_decode_into(s: &[u8], out: &mut [u8]) -> Option<()> {
    if s.len() != out.len() * 2 {
        return None;
    }
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        if let [h, l] = pair {
            let (hi, lo) = (NIBBLE[usize::from(*h)], NIBBLE[usize::from(*l)]);
            bad |= (hi | lo) & 0xf0;
            *o = (hi << 4) | (lo & 0x0f);
        }
    }
    (bad == 0).then_some(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn padded_key_equals_rfc_hmac() {
        // RFC 4231 test case 2 uses a short key; our padding path must agree
        // with the variable-length constructor.
        let k = [0x0bu8; KEY_LEN];
        let a = mac_with(&keyed(&k), b"Hi There");
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&k).unwrap();
        m.update(b"Hi There");
        assert_eq!(a.as_slice(), m.finalize().into_bytes().as_slice());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The audit chain's exact MAC path (32-byte key zero-padded to the
        /// block, prepared instance cloned per message, `verify_slice`) is
        /// HMAC-SHA256 as the Wycheproof-tested `hmac` crate computes it
        /// from the variable-length key, and rejects every one-bit change.
        #[test]
        fn mac_path_is_plain_hmac_sha256(
            k in proptest::prelude::any::<[u8; KEY_LEN]>(),
            msg in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            bit in 0..256usize,
        ) {
            let prepared = keyed(&k);
            let mut reference = <HmacSha256 as KeyInit>::new_from_slice(&k).unwrap();
            reference.update(&msg);
            let want: MacBytes = reference.finalize().into_bytes().into();
            proptest::prop_assert_eq!(mac_with(&prepared, &msg), want);
            proptest::prop_assert!(mac_matches(&prepared, &msg, &want));
            let mut flipped = want;
            flipped[bit / 8] ^= 1 << (bit % 8);
            proptest::prop_assert!(!mac_matches(&prepared, &msg, &flipped));
        }
    }

    #[test]
    fn epoch_keys_evolve_one_way_and_match_verifier_derivation() {
        let (w, v) = from_seed(&[7u8; 48]);
        let mut k = w.key;
        for _ in 0..5 {
            k.advance();
        }
        let d = v.epoch_key(5);
        assert_eq!(k.epoch(), 5);
        assert_eq!(k.key.as_slice(), d.key.as_slice());
        assert_ne!(v.epoch0().key.as_slice(), d.key.as_slice());
        assert_eq!(
            v.epoch_key(4).derive_next().key.as_slice(),
            d.key.as_slice()
        );
    }

    #[test]
    fn key_files_roundtrip_with_mode_0600_and_refuse_loose_modes() {
        let dir = tempfile::tempdir().unwrap();
        let id = keygen(dir.path()).unwrap();
        let wp = dir.path().join(WRITER_KEY_FILE);
        let vp = dir.path().join(VERIFIER_KEY_FILE);
        for p in [&wp, &vp] {
            let mode = fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let w = WriterKey::load(&wp).unwrap();
        let v = VerifierKey::load(&vp).unwrap();
        assert_eq!(w.log_id(), id);
        assert_eq!(v.log_id(), id);
        assert_eq!(w.key.key.as_slice(), v.k0.as_slice());
        assert!(matches!(keygen(dir.path()), Err(Error::KeyExists { .. })));
        fs::set_permissions(&wp, fs::Permissions::from_mode(0o640)).unwrap();
        match WriterKey::load(&wp) {
            Err(Error::KeyFilePermissions { mode, .. }) => assert_eq!(mode, 0o640),
            other => panic!("expected permission error, got {other:?}"),
        }
        fs::set_permissions(&vp, fs::Permissions::from_mode(0o604)).unwrap();
        assert!(matches!(
            VerifierKey::load(&vp),
            Err(Error::KeyFilePermissions { mode: 0o604, .. })
        ));
    }

    #[test]
    fn store_is_atomic_and_keeps_state() {
        let dir = tempfile::tempdir().unwrap();
        keygen(dir.path()).unwrap();
        let wp = dir.path().join(WRITER_KEY_FILE);
        let mut w = WriterKey::load(&wp).unwrap();
        w.key.advance();
        w.state.next_seq = 9;
        w.state.last_mac = [3u8; 32];
        w.store(&wp).unwrap();
        let back = WriterKey::load(&wp).unwrap();
        assert_eq!(back.epoch(), 1);
        assert_eq!(back.state, w.state);
        assert!(!tmp_path(&wp).exists());
        let mode = fs::metadata(&wp).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn debug_and_errors_never_show_key_material() {
        let dir = tempfile::tempdir().unwrap();
        keygen(dir.path()).unwrap();
        let wp = dir.path().join(WRITER_KEY_FILE);
        let text = fs::read_to_string(&wp).unwrap();
        let key_hex = text
            .lines()
            .find_map(|l| l.strip_prefix("key "))
            .unwrap()
            .to_string();
        let w = WriterKey::load(&wp).unwrap();
        let v = VerifierKey::load(&dir.path().join(VERIFIER_KEY_FILE)).unwrap();
        let dbg = format!("{w:?} {v:?}");
        assert!(!dbg.contains(&key_hex), "{dbg}");
        assert!(dbg.contains("<redacted>"));
        // A corrupted key line yields an error that does not echo it.
        let bad = text.replace(&key_hex, &format!("{}zz", &key_hex[2..]));
        fs::write(&wp, &bad).unwrap();
        let err = WriterKey::load(&wp).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("key file {} is invalid: bad or missing key", wp.display())
        );
    }

    #[test]
    fn hex_is_strict_lowercase() {
        let mut out = [0u8; 2];
        assert!(hex_decode_into(b"0aff", &mut out).is_some());
        assert_eq!(out, [0x0a, 0xff]);
        assert!(hex_decode_into(b"0AFF", &mut out).is_none());
        assert!(hex_decode_into(b"0af", &mut out).is_none());
        assert_eq!(hex_encode(&[0x0a, 0xff]), "0aff");
    }
}
