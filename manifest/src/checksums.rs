//! Checksums files as `sha256sum`, `sha512sum`, `shasum` and `openssl dgst`
//! write them, parsed strictly into validated resource names and digests.
//!
//! Accepted line forms (one file per line):
//!
//! | form | written by |
//! | --- | --- |
//! | `HEX  NAME` (text) / `HEX *NAME` (binary) | `sha256sum`, `sha512sum`, `shasum -a 256/512`, `openssl dgst -r` |
//! | `\HEX  ESCAPED` | the same tools, for names holding `\`, a newline or a carriage return |
//! | `SHA256 (NAME) = HEX` | `sha256sum --tag`, `shasum --tag`, `cksum -a sha256` |
//! | `SHA2-256(NAME)= HEX` | `openssl dgst -sha256` (OpenSSL 3) |
//!
//! and the same with SHA-512 (`SHA512`, `SHA2-512`). The text and binary
//! markers mean the same bytes on every system modelseal runs on. Rules:
//!
//! - The algorithm is the tag, or the digest length (64 hex digits:
//!   SHA-256, 128: SHA-512); every line must use the same one. Other
//!   lengths and tags (MD5, SHA-1, SHA-224, SHA-384, BLAKE2b) are refused.
//!   A 128-digit `b2sum` file reads as SHA-512 and then fails every digest.
//! - Hex digits in either case.
//! - Lines end in LF or CRLF; a UTF-8 byte-order mark at the start, blank
//!   lines and lines starting with `#` are skipped; spaces and tabs before
//!   the digest are skipped (as GNU `sha256sum -c` does).
//! - Escaped lines (starting with `\`) decode `\\`, `\n` and `\r` in the
//!   name; any other escape is an error.
//! - Leading `./` components are removed (`find . -type f | xargs sha256sum`
//!   writes them); the result must be a valid [`ResourcePath`]: no `..`, no
//!   absolute path, no backslash or control character, not `.` itself.
//! - A name listed twice (after that normalisation) is an error, even with
//!   the same digest.
//! - `shasum -U` / `-p` lines (markers `U`, `^`, `?`) hash transformed
//!   content, not the file's bytes, and are refused; so is the single-space
//!   `HEX NAME` form of BSD `sha256 -r`.
//! - An input with no checksum line at all is an error.
//!
//! Reading the file (with a size limit) is the caller's job; see
//! [`DEFAULT_MAX_CHECKSUMS_BYTES`].

use std::collections::BTreeMap;
use std::collections::btree_map::Entry as MapEntry;

use crate::digest::{BadDigest, Digest, HashAlgorithm};
use crate::path::{PathError, ResourcePath, shorten};

/// Default upper bound on a checksums file's size (bytes): a million files
/// with long names fit.
pub const DEFAULT_MAX_CHECKSUMS_BYTES: u64 = 256 * 1024 * 1024;

/// Why a checksums file is refused. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChecksumsError {
    /// The file is larger than the accepted limit.
    #[error("{size} bytes or more, over the {limit}-byte limit")]
    TooLarge {
        /// Its size (or a lower bound).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file holds no checksum line.
    #[error("no checksum line found")]
    Empty,
    /// A line that is not valid UTF-8.
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// The line.
        line: usize,
    },
    /// A line in none of the accepted forms.
    #[error("line {line}: {reason}")]
    Syntax {
        /// The line.
        line: usize,
        /// What is wrong, and the expected form.
        reason: LineSyntax,
    },
    /// A digest algorithm other than SHA-256 and SHA-512.
    #[error("line {line}: unsupported digest {algorithm} (only SHA-256 and SHA-512 are accepted)")]
    UnsupportedAlgorithm {
        /// The line.
        line: usize,
        /// The tag, or the digest length and the algorithms it suggests.
        algorithm: String,
    },
    /// A shasum mode that hashes transformed content.
    #[error(
        "line {line}: shasum mode {marker:?} hashes transformed content, not the file's bytes; write the checksums without -U/-p"
    )]
    UnsupportedMode {
        /// The line.
        line: usize,
        /// The marker (`U`, `^` or `?`).
        marker: char,
    },
    /// Lines with different algorithms.
    #[error("line {line}: {found} digest in a file of {first} digests")]
    MixedAlgorithms {
        /// The line.
        line: usize,
        /// The algorithm of the first line.
        first: HashAlgorithm,
        /// This line's algorithm.
        found: HashAlgorithm,
    },
    /// A digest that is not hex of the right length.
    #[error("line {line}: {source}")]
    BadDigest {
        /// The line.
        line: usize,
        /// Why.
        #[source]
        source: BadDigest,
    },
    /// A name that is not a safe relative path inside the model.
    #[error("line {line}: file name {name:?} refused: {source}")]
    BadName {
        /// The line.
        line: usize,
        /// The name as decoded (shortened).
        name: String,
        /// Why.
        #[source]
        source: PathError,
    },
    /// A name listed twice.
    #[error("line {line}: {name:?} is listed twice (first on line {first_line})")]
    Duplicate {
        /// The second line.
        line: usize,
        /// The first line.
        first_line: usize,
        /// The name.
        name: String,
    },
    /// The checksums file lists itself, its signature or the bundle being
    /// written: that digest cannot be right (the file changes after it is
    /// listed), and those files are left out of the model.
    #[error(
        "line {line}: the checksums file lists {name:?}, which is the checksums file itself, its signature or the bundle being written; remove that line"
    )]
    ListsItself {
        /// The line.
        line: usize,
        /// The name.
        name: String,
    },
}

/// One listed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumEntry {
    /// The expected digest.
    pub digest: Digest,
    /// The 1-based line it was read from.
    pub line: usize,
}

/// A parsed checksums file: one algorithm, unique validated names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksums {
    algorithm: HashAlgorithm,
    entries: BTreeMap<ResourcePath, ChecksumEntry>,
}

impl Checksums {
    /// Parse a checksums file (see the module documentation for the forms).
    ///
    /// # Errors
    /// [`ChecksumsError`] for the first line that breaks a rule, or
    /// [`ChecksumsError::Empty`] when no line lists a file.
    pub fn parse(bytes: &[u8]) -> Result<Self, ChecksumsError> {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        let mut algorithm = None;
        let mut entries: BTreeMap<ResourcePath, ChecksumEntry> = BTreeMap::new();
        for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let line = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let text = std::str::from_utf8(raw).map_err(|_| ChecksumsError::NotUtf8 { line })?;
            let Some(parsed) = parse_line(line, text)? else {
                continue;
            };
            let first = *algorithm.get_or_insert(parsed.algorithm);
            if parsed.algorithm != first {
                return Err(ChecksumsError::MixedAlgorithms {
                    line,
                    first,
                    found: parsed.algorithm,
                });
            }
            let digest = Digest::from_hex_any_case(parsed.algorithm, parsed.hex)
                .map_err(|source| ChecksumsError::BadDigest { line, source })?;
            let path = resource_name(line, &parsed.name)?;
            match entries.entry(path) {
                MapEntry::Occupied(e) => {
                    return Err(ChecksumsError::Duplicate {
                        line,
                        first_line: e.get().line,
                        name: shorten(e.key().as_str()),
                    });
                }
                MapEntry::Vacant(e) => {
                    e.insert(ChecksumEntry { digest, line });
                }
            }
        }
        match algorithm {
            Some(algorithm) if !entries.is_empty() => Ok(Self { algorithm, entries }),
            _ => Err(ChecksumsError::Empty),
        }
    }

    /// The digest algorithm of every line.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// Number of listed files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no file is listed (never true for a parsed file).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry for `path`, if listed.
    pub fn get(&self, path: &ResourcePath) -> Option<&ChecksumEntry> {
        self.entries.get(path)
    }

    /// Listed files in canonical order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&ResourcePath, &ChecksumEntry)> {
        self.entries.iter()
    }
}

/// A line split into its parts, before validation.
struct Parsed<'a> {
    algorithm: HashAlgorithm,
    hex: &'a str,
    name: String,
}

/// What is wrong with a checksum line ([`ChecksumsError::Syntax`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineSyntax {
    /// In none of the accepted forms.
    #[error("expected `HEX  NAME`, `HEX *NAME` or `SHA256 (NAME) = HEX`")]
    NoForm,
    /// One space between digest and name (BSD `-r` output).
    #[error(
        "one space between digest and name (BSD `-r` form) is not accepted; expected `HEX  NAME` or `HEX *NAME`"
    )]
    OneSpace,
    /// A digest and nothing after it.
    #[error("no file name after the digest")]
    NoName,
    /// A BSD-style line without the `)` closing the name.
    #[error("no `)` after the file name")]
    NoCloseParen,
    /// A BSD-style line without ` = HEX`.
    #[error("expected ` = HEX` after the file name")]
    NoDigest,
    /// An empty file name.
    #[error("empty file name")]
    EmptyName,
    /// An escape other than `\\`, `\n` and `\r` in an escaped name.
    #[error("unknown escape `\\{0}` in file name (only \\\\, \\n and \\r)")]
    UnknownEscape(char),
    /// An escaped name ending in a lone backslash.
    #[error("file name ends in a lone `\\`")]
    LoneBackslash,
}

const EXPECTED: LineSyntax = LineSyntax::NoForm;

fn syntax(line: usize, reason: LineSyntax) -> ChecksumsError {
    ChecksumsError::Syntax { line, reason }
}

fn parse_line(line: usize, text: &str) -> Result<Option<Parsed<'_>>, ChecksumsError> {
    let s = text.trim_start_matches([' ', '\t']);
    if s.is_empty() || s.starts_with('#') {
        return Ok(None);
    }
    let (escaped, s) = match s.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let hex_len = s.bytes().take_while(u8::is_ascii_hexdigit).count();
    let parsed = if hex_len > 0 && s.as_bytes().get(hex_len) == Some(&b' ') {
        gnu_line(line, s, hex_len, escaped)?
    } else if let Some(open) = s.find('(') {
        tag_line(line, s, open, escaped)?
    } else {
        return Err(syntax(line, EXPECTED));
    };
    Ok(Some(parsed))
}

/// `HEX  NAME` / `HEX *NAME`.
fn gnu_line(
    line: usize,
    s: &str,
    hex_len: usize,
    escaped: bool,
) -> Result<Parsed<'_>, ChecksumsError> {
    let (hex, rest) = s.split_at(hex_len);
    let algorithm = match hex_len {
        64 => HashAlgorithm::Sha256,
        128 => HashAlgorithm::Sha512,
        n => {
            let guess = match n {
                32 => " (MD5?)",
                40 => " (SHA-1?)",
                56 => " (SHA-224?)",
                96 => " (SHA-384?)",
                _ => "",
            };
            return Err(ChecksumsError::UnsupportedAlgorithm {
                line,
                algorithm: format!("of {n} hex digits{guess}"),
            });
        }
    };
    // `rest` starts with the space that ended the digest.
    let mut chars = rest.chars().skip(1);
    let name: String = match chars.next() {
        Some(' ' | '*') => chars.collect(),
        Some(marker @ ('U' | '^' | '?')) => {
            return Err(ChecksumsError::UnsupportedMode { line, marker });
        }
        Some(_) => {
            return Err(syntax(line, LineSyntax::OneSpace));
        }
        None => return Err(syntax(line, LineSyntax::NoName)),
    };
    Ok(Parsed {
        algorithm,
        hex,
        name: decode_name(line, &name, escaped)?,
    })
}

/// `SHA256 (NAME) = HEX` / `SHA2-256(NAME)= HEX`. The name ends at the last
/// `)`: a digest never contains one.
fn tag_line(
    line: usize,
    s: &str,
    open: usize,
    escaped: bool,
) -> Result<Parsed<'_>, ChecksumsError> {
    let (tag, rest) = s.split_at(open);
    let tag = tag.strip_suffix(' ').unwrap_or(tag);
    if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(syntax(line, EXPECTED));
    }
    let rest = &rest[1..];
    let close = rest
        .rfind(')')
        .ok_or_else(|| syntax(line, LineSyntax::NoCloseParen))?;
    let (name, after) = rest.split_at(close);
    let after = &after[1..];
    let hex = after
        .strip_prefix(" = ")
        .or_else(|| after.strip_prefix("= "))
        .ok_or_else(|| syntax(line, LineSyntax::NoDigest))?
        .trim_end_matches([' ', '\t']);
    let algorithm = match tag {
        "SHA256" | "SHA2-256" => HashAlgorithm::Sha256,
        "SHA512" | "SHA2-512" => HashAlgorithm::Sha512,
        other => {
            return Err(ChecksumsError::UnsupportedAlgorithm {
                line,
                algorithm: shorten(other),
            });
        }
    };
    if name.is_empty() {
        return Err(syntax(line, LineSyntax::EmptyName));
    }
    Ok(Parsed {
        algorithm,
        hex,
        name: decode_name(line, name, escaped)?,
    })
}

/// Undo GNU escaping (`\\`, `\n`, `\r`) on lines that start with `\`.
fn decode_name(line: usize, name: &str, escaped: bool) -> Result<String, ChecksumsError> {
    if name.is_empty() {
        return Err(syntax(line, LineSyntax::EmptyName));
    }
    if !escaped {
        return Ok(name.to_owned());
    }
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => {
                return Err(syntax(line, LineSyntax::UnknownEscape(other)));
            }
            None => return Err(syntax(line, LineSyntax::LoneBackslash)),
        }
    }
    Ok(out)
}

/// `./a/b` -> `a/b`, validated. `.` itself (the one-file model's name) is
/// never a listed file.
fn resource_name(line: usize, name: &str) -> Result<ResourcePath, ChecksumsError> {
    let mut rel = name;
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    let bad = |source| ChecksumsError::BadName {
        line,
        name: shorten(name),
        source,
    };
    if rel == ResourcePath::FILE_ROOT || rel.is_empty() {
        return Err(bad(PathError::BadComponent {
            path: shorten(name),
        }));
    }
    ResourcePath::new(rel).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A256: &str = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";

    fn sha256(data: &[u8]) -> String {
        HashAlgorithm::Sha256.digest(data).to_hex()
    }

    fn names(c: &Checksums) -> Vec<&str> {
        c.entries().map(|(p, _)| p.as_str()).collect()
    }

    fn err(text: &str) -> ChecksumsError {
        Checksums::parse(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn gnu_text_binary_tag_and_openssl_forms() {
        let b = sha256(b"b");
        let c = sha256(b"c");
        let d = sha256(b"d");
        let text = format!(
            "{A256}  a.txt\n{b} *sub/b.bin\nSHA256 (c c) = {c}\nSHA2-256(./d)= {}\n",
            d.to_uppercase()
        );
        let sums = Checksums::parse(text.as_bytes()).unwrap();
        assert_eq!(sums.algorithm(), HashAlgorithm::Sha256);
        assert_eq!(names(&sums), ["a.txt", "c c", "d", "sub/b.bin"]);
        let d_path = ResourcePath::new("d").unwrap();
        assert_eq!(sums.get(&d_path).unwrap().digest.to_hex(), d);
        assert_eq!(sums.get(&d_path).unwrap().line, 4);
    }

    #[test]
    fn sha512_by_length_and_by_tag() {
        let h = HashAlgorithm::Sha512.digest(b"x").to_hex();
        let sums = Checksums::parse(format!("{h}  x\nSHA512 (y) = {h}\n").as_bytes()).unwrap();
        assert_eq!(sums.algorithm(), HashAlgorithm::Sha512);
        assert_eq!(sums.len(), 2);
        assert!(matches!(
            err(&format!("{A256}  a\n{h}  x\n")),
            ChecksumsError::MixedAlgorithms {
                line: 2,
                first: HashAlgorithm::Sha256,
                found: HashAlgorithm::Sha512
            }
        ));
        assert!(matches!(
            err(&format!("SHA512 (a) = {A256}\n")),
            ChecksumsError::BadDigest { line: 1, .. }
        ));
    }

    #[test]
    fn crlf_bom_blank_and_comment_lines() {
        let text = format!("\u{feff}# made by sha256sum\r\n\r\n{A256}  a\r\n  \r\n");
        let sums = Checksums::parse(text.as_bytes()).unwrap();
        assert_eq!(names(&sums), ["a"]);
        assert_eq!(sums.entries().next().unwrap().1.line, 3);
    }

    #[test]
    fn escaped_names_decode_then_face_path_rules() {
        // `\` prefix with no escape inside: a plain name.
        let sums = Checksums::parse(format!("\\{A256}  plain\n").as_bytes()).unwrap();
        assert_eq!(names(&sums), ["plain"]);
        // Decoded names with a backslash or newline are not resource names.
        for (line, decoded) in [
            (format!("\\{A256}  back\\\\slash"), "back\\slash"),
            (format!("\\{A256}  new\\nline"), "new\nline"),
            (format!("\\SHA256 (cr\\rx) = {A256}"), "cr\rx"),
        ] {
            match err(&line) {
                ChecksumsError::BadName {
                    line: 1,
                    name,
                    source: PathError::BadCharacter { .. },
                } => assert_eq!(name, decoded),
                other => panic!("{line}: {other:?}"),
            }
        }
        assert_eq!(
            err(&format!("\\{A256}  bad\\tescape")),
            ChecksumsError::Syntax {
                line: 1,
                reason: LineSyntax::UnknownEscape('t')
            }
        );
        assert!(
            err(&format!("\\{A256}  bad\\tescape"))
                .to_string()
                .contains("unknown escape `\\t` in file name (only \\\\, \\n and \\r)")
        );
        assert_eq!(
            err(&format!("\\{A256}  trailing\\")),
            ChecksumsError::Syntax {
                line: 1,
                reason: LineSyntax::LoneBackslash
            }
        );
    }

    #[test]
    fn unsafe_names_are_refused() {
        type Check = fn(&PathError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("../etc/passwd", |e| {
                matches!(e, PathError::BadComponent { .. })
            }),
            ("a/../../b", |e| matches!(e, PathError::BadComponent { .. })),
            ("/etc/passwd", |e| matches!(e, PathError::Absolute { .. })),
            (".", |e| matches!(e, PathError::BadComponent { .. })),
            ("./", |e| matches!(e, PathError::BadComponent { .. })),
            ("a//b", |e| matches!(e, PathError::BadComponent { .. })),
            ("sub\\..\\x", |e| {
                matches!(e, PathError::BadCharacter { .. })
            }),
        ];
        for (name, want) in cases {
            match err(&format!("{A256}  {name}\n")) {
                ChecksumsError::BadName {
                    line: 1, source, ..
                } => {
                    assert!(want(&source), "{name}: {source:?}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        // The same in the tag form.
        assert!(matches!(
            err(&format!("SHA256 (../x) = {A256}")),
            ChecksumsError::BadName { .. }
        ));
    }

    #[test]
    fn dot_slash_prefix_is_normalised_and_duplicates_refused() {
        let sums = Checksums::parse(format!("{A256}  ././sub/a\n").as_bytes()).unwrap();
        assert_eq!(names(&sums), ["sub/a"]);
        assert_eq!(
            err(&format!("{A256}  a\n{A256} *./a\n")),
            ChecksumsError::Duplicate {
                line: 2,
                first_line: 1,
                name: "a".into()
            }
        );
    }

    #[test]
    fn names_keep_inner_and_trailing_spaces() {
        let sums = Checksums::parse(format!("{A256}   lead\n{A256}  trail \n").as_bytes()).unwrap();
        assert_eq!(names(&sums), [" lead", "trail "]);
    }

    #[test]
    fn other_algorithms_and_modes_are_refused() {
        let md5 = "0cc175b9c0f1b6a831c399e269772661";
        assert!(matches!(
            err(&format!("{md5}  a")),
            ChecksumsError::UnsupportedAlgorithm { line: 1, ref algorithm } if algorithm.contains("MD5")
        ));
        assert!(matches!(
            err(&format!("MD5 (a) = {md5}")),
            ChecksumsError::UnsupportedAlgorithm { line: 1, ref algorithm } if algorithm == "MD5"
        ));
        assert!(matches!(
            err(&format!("BLAKE2b (a) = {}", "0".repeat(128))),
            ChecksumsError::UnsupportedAlgorithm { .. }
        ));
        assert_eq!(
            err(&format!("{A256} Ua")),
            ChecksumsError::UnsupportedMode {
                line: 1,
                marker: 'U'
            }
        );
        assert!(matches!(
            err(&format!("{A256} ^a")),
            ChecksumsError::UnsupportedMode { marker: '^', .. }
        ));
        assert_eq!(
            err(&format!("{A256} a")),
            ChecksumsError::Syntax {
                line: 1,
                reason: LineSyntax::OneSpace
            }
        );
    }

    #[test]
    fn malformed_lines() {
        for bad in [
            "not a checksum line".to_owned(),
            A256.to_owned(),
            format!("{A256} "),
            format!("{A256}  "),
            format!("{A256}\ta"),
            format!("SHA256 (a) {A256}"),
            format!("SHA256 a) = {A256}"),
            format!("SHA256 () = {A256}"),
            format!("SHA 256 (a) = {A256}"),
            "-----BEGIN PGP SIGNED MESSAGE-----".to_owned(),
        ] {
            assert!(
                matches!(err(&bad), ChecksumsError::Syntax { line: 1, .. }),
                "{bad:?}: {:?}",
                err(&bad)
            );
        }
        assert_eq!(
            err(&format!("SHA256 () = {A256}")),
            ChecksumsError::Syntax {
                line: 1,
                reason: LineSyntax::EmptyName
            }
        );
        assert_eq!(
            err(&format!("SHA256 (a = {A256}")),
            ChecksumsError::Syntax {
                line: 1,
                reason: LineSyntax::NoCloseParen
            }
        );
        assert!(matches!(
            err(&format!("{}  a", &A256[1..])),
            ChecksumsError::UnsupportedAlgorithm { .. }
        ));
        assert!(matches!(
            err(&format!("{}g  a", &A256[1..])),
            ChecksumsError::Syntax { .. } | ChecksumsError::UnsupportedAlgorithm { .. }
        ));
        assert_eq!(
            Checksums::parse(b"a\n\xff\xfe  x\n").unwrap_err(),
            ChecksumsError::Syntax {
                line: 1,
                reason: EXPECTED
            }
        );
        assert_eq!(
            Checksums::parse(format!("{A256}  a\n\u{0}\u{ff}").as_bytes()).map(|_| ()),
            Err(ChecksumsError::Syntax {
                line: 2,
                reason: EXPECTED
            })
        );
        assert_eq!(
            Checksums::parse(b"\xff  x\n"),
            Err(ChecksumsError::NotUtf8 { line: 1 })
        );
    }

    #[test]
    fn empty_inputs_are_refused() {
        for empty in ["", "\n", "# only a comment\n", "\r\n\r\n"] {
            assert_eq!(err(empty), ChecksumsError::Empty, "{empty:?}");
        }
    }

    #[test]
    fn tag_names_may_contain_parentheses() {
        let sums = Checksums::parse(format!("SHA256 (a (1).bin) = {A256}").as_bytes()).unwrap();
        assert_eq!(names(&sums), ["a (1).bin"]);
    }

    #[test]
    fn hostile_input_never_panics() {
        let samples: &[&[u8]] = &[
            b"\\",
            b"\\(",
            b"(",
            b")",
            b"A(",
            b"A()",
            b"A() = ",
            b"a ",
            b"\\a  \\",
            "é(ü)= ab".as_bytes(),
            b"\xef\xbb\xbf",
        ];
        for s in samples {
            let _ = Checksums::parse(s);
        }
    }
}
