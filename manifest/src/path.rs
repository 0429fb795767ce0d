//! Resource names: validated, relative POSIX paths inside a model.
//!
//! A name in a manifest is trusted to address a file *inside* the model
//! directory, so it is validated once, here, whichever way it arrives (from a
//! directory walk or from a bundle someone else wrote): UTF-8, relative, `/`
//! separated, no empty, `.` or `..` component, no NUL, control character or
//! backslash. The one exception is the name `.`, which OMS uses for the single
//! resource of a model that is one file rather than a directory.
//!
//! Names order by path components, as Python's `PurePosixPath` does and as
//! OMS lists resources: `a/b` < `a-b/c` < `a.txt` (a plain byte sort would put
//! `a-b/c` first).

use std::cmp::Ordering;
use std::fmt;

/// The longest name accepted, in bytes (Linux `PATH_MAX`).
pub const MAX_NAME_LEN: usize = 4096;

/// A validated resource name.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResourcePath(String);

/// Why a string is not a valid resource name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The name is empty.
    #[error("empty path")]
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`].
    #[error("path is {len} bytes long, more than {MAX_NAME_LEN}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The name starts with `/`.
    #[error("absolute path {path:?}")]
    Absolute {
        /// The path (shortened).
        path: String,
    },
    /// A component is empty, `.` or `..`.
    #[error("path {path:?} has an empty, '.' or '..' component")]
    BadComponent {
        /// The path (shortened).
        path: String,
    },
    /// The name holds NUL, a control character or a backslash.
    #[error("path {path:?} contains a NUL, control character or backslash")]
    BadCharacter {
        /// The path (shortened).
        path: String,
    },
    /// The name is not valid UTF-8.
    #[error("path is not valid UTF-8: {lossy}")]
    NotUtf8 {
        /// The path, with invalid bytes replaced.
        lossy: String,
    },
}

impl ResourcePath {
    /// The name of the single resource of a one-file model.
    pub const FILE_ROOT: &'static str = ".";

    /// Validate `name` as a resource name.
    ///
    /// # Errors
    /// [`PathError`] naming the first rule `name` breaks.
    pub fn new(name: &str) -> Result<Self, PathError> {
        if name.is_empty() {
            return Err(PathError::Empty);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(PathError::TooLong { len: name.len() });
        }
        if name == Self::FILE_ROOT {
            return Ok(Self(name.to_owned()));
        }
        if name.starts_with('/') {
            return Err(PathError::Absolute {
                path: shorten(name),
            });
        }
        if name.chars().any(|c| c.is_control() || c == '\\') {
            return Err(PathError::BadCharacter {
                path: shorten(name),
            });
        }
        if name
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(PathError::BadComponent {
                path: shorten(name),
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// The name of the single resource of a one-file model (`.`).
    pub fn file_root() -> Self {
        Self(Self::FILE_ROOT.to_owned())
    }

    /// Whether this is the one-file model name `.`.
    pub fn is_file_root(&self) -> bool {
        self.0 == Self::FILE_ROOT
    }

    /// The name as written in the manifest.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `/`-separated components.
    pub fn components(&self) -> impl Iterator<Item = &str> + Clone {
        self.0.split('/')
    }

    /// Whether `self` is `prefix` or lies below it (`a/b` starts with `a`,
    /// `ab` does not).
    pub fn starts_with(&self, prefix: &ResourcePath) -> bool {
        let mut mine = self.components();
        prefix.components().all(|p| mine.next() == Some(p))
    }
}

impl Ord for ResourcePath {
    fn cmp(&self, other: &Self) -> Ordering {
        self.components().cmp(other.components())
    }
}

impl PartialOrd for ResourcePath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ResourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ResourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Cut an untrusted string for an error message.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ResourcePath {
        ResourcePath::new(s).unwrap()
    }

    #[test]
    fn accepts_plain_relative_names() {
        for ok in [
            "config.json",
            "a/b/c.safetensors",
            ".",
            ".git",
            "a/.hidden",
            "日本/語",
            "a:b",
        ] {
            assert_eq!(p(ok).as_str(), ok);
        }
    }

    #[test]
    fn rejects_escapes_and_odd_bytes() {
        use PathError::*;
        type Check = fn(&PathError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| *e == Empty),
            ("/etc/passwd", |e| matches!(e, Absolute { .. })),
            ("../x", |e| matches!(e, BadComponent { .. })),
            ("a/../../x", |e| matches!(e, BadComponent { .. })),
            ("a/./b", |e| matches!(e, BadComponent { .. })),
            ("a//b", |e| matches!(e, BadComponent { .. })),
            ("a/", |e| matches!(e, BadComponent { .. })),
            ("..", |e| matches!(e, BadComponent { .. })),
            ("a\0b", |e| matches!(e, BadCharacter { .. })),
            ("a\nb", |e| matches!(e, BadCharacter { .. })),
            ("a\\..\\b", |e| matches!(e, BadCharacter { .. })),
        ];
        for (name, want) in cases {
            let err = ResourcePath::new(name).unwrap_err();
            assert!(want(&err), "{name:?} gave {err:?}");
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            ResourcePath::new(&long),
            Err(TooLong {
                len: MAX_NAME_LEN + 1
            })
        );
    }

    #[test]
    fn orders_by_components_like_purepath() {
        let mut v = [p("a.txt"), p("a-b/c"), p("a/b"), p("b"), p("a/a/z"), p("A")];
        v.sort();
        let got: Vec<_> = v.iter().map(|x| x.as_str()).collect();
        assert_eq!(got, ["A", "a/a/z", "a/b", "a-b/c", "a.txt", "b"]);
    }

    #[test]
    fn prefix_is_by_component() {
        assert!(p("a/b").starts_with(&p("a")));
        assert!(p("a").starts_with(&p("a")));
        assert!(!p("ab").starts_with(&p("a")));
        assert!(!p("a").starts_with(&p("a/b")));
    }
}
