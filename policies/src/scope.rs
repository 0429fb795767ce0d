//! Model scopes: which models a policy applies to, and which policy wins.
//!
//! A scope is written as:
//! - `*`: every model (the global scope, the fallback; at most one policy
//!   may have it, and not a `skip` policy);
//! - `name:PATTERN`: models whose name (the last component of the model
//!   path) matches a single-component [`crate::glob`] pattern; the same as
//!   the path pattern `**/PATTERN`;
//! - `path:PATTERN`, or any other text: a path pattern. A relative pattern
//!   is relative to the directory of the policy file.
//!
//! Models are matched by their path as the caller gave it, made absolute
//! lexically ([`ModelPath::lexical`]), never by where symbolic links lead:
//! a link named like a production model must not pick the policy of what
//! it points to. [`crate::PolicySet::select_path`] then refuses a model
//! whose resolved path would select another policy, or whose path has a
//! symbolic link below the winning scope's root ([`Scope::root_len`]).
//!
//! The most specific matching scope wins ([`Specificity`]: literal
//! components, then non-`**` components, then literal characters; the
//! global scope is below every pattern). Two scopes of different policies
//! with the same specificity that some path matches both are refused at
//! load time, so the winner is always unique.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::glob::{Glob, GlobError, Specificity};

/// Why a path cannot be a [`ModelPath`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelPathError {
    /// The path does not exist or cannot be resolved.
    #[error("{0}")]
    Resolve(#[source] std::io::Error),
    /// The current directory (to make a relative path absolute) is unknown.
    #[error("current directory: {0}")]
    CurrentDir(#[source] std::io::Error),
    /// `..` climbs above `/`.
    #[error("{} climbs above /", .0.display())]
    AboveRoot(PathBuf),
    /// A component is not UTF-8.
    #[error("{} is not UTF-8", .0.display())]
    NotUtf8(PathBuf),
    /// A path prefix (not on Unix).
    #[error("{} has a prefix", .0.display())]
    Prefix(PathBuf),
    /// `.` or `..` where a normalized path is required.
    #[error("{} is not a normalized absolute path", .0.display())]
    NotNormalized(PathBuf),
    /// A relative path where an absolute one is required.
    #[error("{} is not absolute", .0.display())]
    NotAbsolute(PathBuf),
}

/// One component as UTF-8 text; `path` names the whole path in the error.
fn utf8(component: &std::ffi::OsStr, path: &Path) -> Result<String, ModelPathError> {
    component
        .to_str()
        .map(str::to_owned)
        .ok_or_else(|| ModelPathError::NotUtf8(path.to_owned()))
}

/// A model path in the form scopes match: canonical, absolute, UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPath {
    components: Vec<String>,
}

impl ModelPath {
    /// Resolve `path` to its canonical form.
    ///
    /// # Errors
    /// [`ModelPathError`] when the path does not exist, cannot be resolved
    /// or is not UTF-8.
    pub fn resolve(path: &Path) -> Result<ModelPath, ModelPathError> {
        let canonical = std::fs::canonicalize(path).map_err(ModelPathError::Resolve)?;
        ModelPath::from_absolute(&canonical)
    }

    /// The path as given, made absolute against the current directory and
    /// normalized lexically (`.` dropped, `..` removes the component before
    /// it); symbolic links are not followed.
    ///
    /// # Errors
    /// [`ModelPathError`] when the current directory is unknown, `..`
    /// climbs above `/`, or the path is not UTF-8.
    pub fn lexical(path: &Path) -> Result<ModelPath, ModelPathError> {
        let absolute = if path.is_absolute() {
            path.to_owned()
        } else {
            std::env::current_dir()
                .map_err(ModelPathError::CurrentDir)?
                .join(path)
        };
        let mut components: Vec<String> = Vec::new();
        for c in absolute.components() {
            match c {
                Component::RootDir | Component::CurDir => {}
                Component::ParentDir => {
                    if components.pop().is_none() {
                        return Err(ModelPathError::AboveRoot(path.to_owned()));
                    }
                }
                Component::Normal(s) => components.push(utf8(s, path)?),
                Component::Prefix(_) => {
                    return Err(ModelPathError::Prefix(path.to_owned()));
                }
            }
        }
        Ok(ModelPath { components })
    }

    /// The path on disk (`/` and the components).
    pub fn to_path_buf(&self) -> std::path::PathBuf {
        let mut p = std::path::PathBuf::from("/");
        p.extend(&self.components);
        p
    }

    /// Take an already absolute, normalized path (no `.`/`..`) as is.
    ///
    /// # Errors
    /// [`ModelPathError`] when the path is relative, holds `.`/`..`, or is
    /// not UTF-8.
    pub fn from_absolute(path: &Path) -> Result<ModelPath, ModelPathError> {
        let mut components = Vec::new();
        let mut rooted = false;
        for c in path.components() {
            match c {
                Component::RootDir => rooted = true,
                Component::Normal(s) => components.push(utf8(s, path)?),
                Component::Prefix(_) | Component::CurDir | Component::ParentDir => {
                    return Err(ModelPathError::NotNormalized(path.to_owned()));
                }
            }
        }
        if !rooted {
            return Err(ModelPathError::NotAbsolute(path.to_owned()));
        }
        Ok(ModelPath { components })
    }

    /// The components after `/`.
    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// The model's name: its last component (empty for `/`).
    pub fn name(&self) -> &str {
        self.components.last().map_or("", String::as_str)
    }
}

impl fmt::Display for ModelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.components.is_empty() {
            return f.write_str("/");
        }
        for c in &self.components {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// How specific a scope is; the global scope is the least specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
// Closed by definition: a scope is either the global `*` or a pattern
// (the policy document's grammar); the order between them is the point.
#[allow(clippy::exhaustive_enums)]
pub enum Rank {
    /// `*`.
    Global,
    /// A path or name pattern.
    Pattern(Specificity),
}

/// Why a scope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// `name:` with nothing after it.
    #[error("empty model name")]
    EmptyName,
    /// The pattern is not a valid glob.
    #[error(transparent)]
    Glob(#[from] GlobError),
}

/// One scope of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    text: String,
    glob: Option<Glob>,
    model_names: Vec<String>,
}

impl Scope {
    /// Parse a scope as written; relative path patterns are anchored at
    /// `base` (the policy file's directory, canonical).
    ///
    /// # Errors
    /// [`ScopeError`]: an invalid glob, an empty name.
    pub fn parse(text: &str, base: &ModelPath) -> Result<Scope, ScopeError> {
        let glob = if text == "*" {
            None
        } else if let Some(name) = text.strip_prefix("name:") {
            if name.is_empty() {
                return Err(ScopeError::EmptyName);
            }
            Some(Glob::parse_name(name)?.anywhere())
        } else {
            let pattern = text.strip_prefix("path:").unwrap_or(text);
            let (absolute, glob) = Glob::parse(pattern)?;
            Some(if absolute {
                glob
            } else {
                glob.after(Glob::literal(base.components()))
            })
        };
        Ok(Scope {
            text: text.to_owned(),
            glob,
            model_names: Vec::new(),
        })
    }

    /// Pin the signed subject names a model this scope covers may carry
    /// (`modelNames`); empty allows any.
    #[must_use]
    pub fn with_model_names(mut self, names: Vec<String>) -> Self {
        self.model_names = names;
        self
    }

    /// The signed subject names allowed (any of them); empty allows any.
    pub fn model_names(&self) -> &[String] {
        &self.model_names
    }

    /// The scope as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The absolute pattern it stands for (`*` for the global scope).
    pub fn pattern(&self) -> String {
        self.glob
            .as_ref()
            .map_or_else(|| "*".into(), ToString::to_string)
    }

    /// Whether this is the global scope `*`.
    pub fn is_global(&self) -> bool {
        self.glob.is_none()
    }

    /// How specific it is.
    pub fn rank(&self) -> Rank {
        self.glob
            .as_ref()
            .map_or(Rank::Global, |g| Rank::Pattern(g.specificity()))
    }

    /// How many leading components of a model path `model` this scope
    /// covers are its root: the literal directory of the pattern (none for
    /// `*` and `name:` scopes), and never the model's own last component.
    pub fn root_len(&self, model: &ModelPath) -> usize {
        let literal = self.glob.as_ref().map_or(0, Glob::literal_prefix_len);
        literal.min(model.components().len().saturating_sub(1))
    }

    /// Whether the scope covers the model.
    pub fn matches(&self, model: &ModelPath) -> bool {
        self.glob
            .as_ref()
            .is_none_or(|g| g.matches(model.components()))
    }

    /// Whether some model is covered by both scopes.
    pub fn overlaps(&self, other: &Scope) -> bool {
        match (&self.glob, &other.glob) {
            (Some(a), Some(b)) => a.intersects(b),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ModelPath {
        ModelPath::from_absolute(Path::new("/etc/modelseal")).unwrap()
    }

    fn model(p: &str) -> ModelPath {
        ModelPath::from_absolute(Path::new(p)).unwrap()
    }

    #[test]
    fn forms() {
        let b = base();
        let rel = Scope::parse("models/prod/**", &b).unwrap();
        assert_eq!(rel.pattern(), "/etc/modelseal/models/prod/**");
        assert!(rel.matches(&model("/etc/modelseal/models/prod/bert")));
        assert!(!rel.matches(&model("/etc/modelseal/models/prod")));
        assert!(!rel.matches(&model("/srv/models/prod/bert")));
        let abs = Scope::parse("path:/srv/models/*", &b).unwrap();
        assert!(abs.matches(&model("/srv/models/bert")));
        let name = Scope::parse("name:bert-*", &b).unwrap();
        assert!(name.matches(&model("/anywhere/bert-base")));
        assert!(!name.matches(&model("/anywhere/bert-base/x")));
        let global = Scope::parse("*", &b).unwrap();
        assert!(global.is_global() && global.matches(&model("/x")));
        assert!(Scope::parse("name:", &b).is_err());
        assert!(Scope::parse("name:a/b", &b).is_err());
        assert!(Scope::parse("path:", &b).is_err());
    }

    #[test]
    fn ranks_order_scopes() {
        let b = base();
        let r = |s: &str| Scope::parse(s, &b).unwrap().rank();
        assert!(r("/srv/prod/bert") > r("/srv/prod/*"));
        assert!(r("/srv/prod/*") > r("/srv/prod/**"));
        assert!(r("/srv/prod/**") > r("name:bert"));
        assert!(r("name:bert") > r("*"));
    }

    #[test]
    fn roots_are_literal_prefixes_above_the_model() {
        let b = base();
        let m = model("/etc/modelseal/models/prod/bert");
        assert_eq!(Scope::parse("models/prod/**", &b).unwrap().root_len(&m), 4);
        assert_eq!(Scope::parse("models/*/bert", &b).unwrap().root_len(&m), 3);
        assert_eq!(
            Scope::parse("models/prod/bert", &b).unwrap().root_len(&m),
            4
        );
        assert_eq!(Scope::parse("name:bert", &b).unwrap().root_len(&m), 0);
        assert_eq!(Scope::parse("*", &b).unwrap().root_len(&m), 0);
    }

    #[test]
    fn lexical_paths_are_not_resolved() {
        let m = ModelPath::lexical(Path::new("/a/./b/../c")).unwrap();
        assert_eq!(m.to_string(), "/a/c");
        assert!(ModelPath::lexical(Path::new("/..")).is_err());
        assert_eq!(ModelPath::lexical(Path::new("rel")).unwrap().name(), "rel");
    }

    #[test]
    fn paths_must_be_absolute_and_normalized() {
        assert!(ModelPath::from_absolute(Path::new("rel/x")).is_err());
        assert!(ModelPath::from_absolute(Path::new("/a/../b")).is_err());
        assert_eq!(model("/a/b").name(), "b");
        assert_eq!(model("/a/b").to_string(), "/a/b");
    }
}
