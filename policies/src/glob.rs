//! Path globs for policy scopes: parsing, matching, overlap and specificity.
//!
//! A pattern is a `/`-separated list of components. A component is either
//! `**` (zero or more whole components; one or more at the end of a
//! pattern, so `models/**` is everything *under* `models`, as in globset
//! and gitignore) or a sequence of:
//! - a literal character (`\c` makes any character literal),
//! - `?`: exactly one character,
//! - `*`: any run of characters, never `/`,
//! - `[abc]`, `[a-z]`, `[!a-z]`: one character of (or not of) a set; a `]`
//!   right after `[` or `[!` is literal.
//!
//! Refused (each an error naming why): empty components (`a//b`, a trailing
//! `/`), `.` and `..` components, `**` inside a component (`a**`), brace
//! alternation (`{a,b}`: write two scopes), unclosed classes, reversed
//! ranges, a class no character can match, and patterns longer than
//! [`MAX_PATTERN`] characters.
//!
//! Matching and overlap use one algorithm: [`Glob::intersects`] decides
//! whether some path matches both patterns (dynamic programming over the two
//! token lists), and matching a path is intersecting with the path read as
//! a pattern of literals. So the load-time overlap check and the
//! verify-time choice can never disagree.

use std::fmt;

/// Longest pattern accepted, in characters.
pub const MAX_PATTERN: usize = 1024;

/// Why a pattern was refused (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GlobError {
    /// Longer than [`MAX_PATTERN`] characters.
    #[error("longer than {} characters", MAX_PATTERN)]
    TooLong,
    /// The empty string.
    #[error("empty pattern")]
    Empty,
    /// `/` alone.
    #[error("a pattern needs at least one component after `/`")]
    NoComponent,
    /// `\/`: a name never holds `/`.
    #[error("`/` cannot be escaped: it always separates")]
    EscapedSlash,
    /// A `\` at the end.
    #[error("trailing `\\` escapes nothing")]
    TrailingEscape,
    /// `a//b` or a trailing `/`.
    #[error("empty path component (`//` or a trailing `/`)")]
    EmptyComponent,
    /// A `.` or `..` component.
    #[error("`{component}` components are not allowed")]
    DotComponent {
        /// `.` or `..`.
        component: String,
    },
    /// `**` inside a component (`a**`).
    #[error("`**` must be a whole path component")]
    PartialDeep,
    /// `{a,b}`.
    #[error("brace alternation `{{a,b}}` is not supported: write one scope each")]
    Braces,
    /// A `]` that closes no class.
    #[error("`]` without `[` (write `\\]`)")]
    UnopenedClass,
    /// A `[` class without its `]`.
    #[error("unclosed `[` class")]
    UnclosedClass,
    /// `[z-a]`.
    #[error("reversed range `{lo}-{hi}` in a class")]
    ReversedRange {
        /// The range's start.
        lo: char,
        /// Its end, below the start.
        hi: char,
    },
    /// A class no character can match (`[!\u{0}-\u{10FFFF}]`).
    #[error("a class that no character can match")]
    EmptyClass,
    /// A `/` in a name pattern.
    #[error("a name pattern cannot contain `/`")]
    NameWithSlash,
    /// `**` as a name pattern.
    #[error("`**` is not a name pattern; use `*`")]
    DeepName,
}

/// One character matcher, or a star.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// This character.
    Lit(char),
    /// Any one character.
    One,
    /// Any run of characters (within a component).
    Star,
    /// One character inside (or, negated, outside) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// One component of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Comp {
    /// `**`: zero or more whole components.
    Deep,
    /// A single component.
    Seg(Vec<Tok>),
}

/// How specific a pattern is; larger is more specific. Compared
/// lexicographically: components that are fully literal, then components
/// that are not `**`, then literal characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Specificity {
    /// Components without any wildcard.
    pub literal_components: usize,
    /// Components other than `**`.
    pub single_components: usize,
    /// Literal characters in the whole pattern.
    pub literal_chars: usize,
}

/// A parsed path pattern (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    comps: Vec<Comp>,
}

impl Glob {
    /// Parse a `/`-separated pattern. Returns whether it is absolute (starts
    /// with `/`) and the pattern of its components.
    ///
    /// # Errors
    /// A one-line reason for any refused form (see the module doc).
    pub fn parse(pattern: &str) -> Result<(bool, Glob), GlobError> {
        if pattern.chars().count() > MAX_PATTERN {
            return Err(GlobError::TooLong);
        }
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        let (absolute, rest) = match pattern.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        if rest.is_empty() {
            return Err(GlobError::NoComponent);
        }
        let comps = split_components(rest)?
            .into_iter()
            .map(|c| parse_component(&c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((absolute, Glob { comps }))
    }

    /// Parse a single-component pattern (no `/`), such as a model name.
    ///
    /// # Errors
    /// As [`Glob::parse`]; `**` and `/` are refused.
    pub fn parse_name(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.chars().count() > MAX_PATTERN {
            return Err(GlobError::TooLong);
        }
        let comps = split_components(pattern)?;
        let [one] = comps.as_slice() else {
            return Err(GlobError::NameWithSlash);
        };
        match parse_component(one)? {
            Comp::Deep => Err(GlobError::DeepName),
            seg => Ok(Glob { comps: vec![seg] }),
        }
    }

    /// The pattern that matches exactly these path components.
    pub fn literal<S: AsRef<str>>(components: &[S]) -> Glob {
        Glob {
            comps: components
                .iter()
                .map(|c| Comp::Seg(c.as_ref().chars().map(Tok::Lit).collect()))
                .collect(),
        }
    }

    /// How many leading components are fully literal (no wildcard): the
    /// directory every match lies under.
    pub fn literal_prefix_len(&self) -> usize {
        self.comps
            .iter()
            .take_while(|c| match c {
                Comp::Deep => false,
                Comp::Seg(toks) => toks.iter().all(|t| matches!(t, Tok::Lit(_))),
            })
            .count()
    }

    /// `**/` followed by this pattern: the pattern anywhere in a path.
    pub fn anywhere(self) -> Glob {
        let mut comps = vec![Comp::Deep];
        comps.extend(self.comps);
        Glob { comps }
    }

    /// This pattern after the literal `prefix`.
    pub fn after(self, prefix: Glob) -> Glob {
        let mut comps = prefix.comps;
        comps.extend(self.comps);
        Glob { comps }
    }

    /// Whether the path with these components matches.
    pub fn matches<S: AsRef<str>>(&self, components: &[S]) -> bool {
        self.intersects(&Glob::literal(components))
    }

    /// The components to match with: a trailing `**` (one or more) is
    /// `*` (exactly one) followed by `**` (zero or more).
    fn expanded(&self) -> Vec<Comp> {
        let mut comps = self.comps.clone();
        if comps.last() == Some(&Comp::Deep) {
            comps.pop();
            comps.push(Comp::Seg(vec![Tok::Star]));
            comps.push(Comp::Deep);
        }
        comps
    }

    /// Whether some path matches both patterns.
    pub fn intersects(&self, other: &Glob) -> bool {
        let (a, b) = (&self.expanded(), &other.expanded());
        // dp[i][j]: a[i..] and b[j..] have a common match.
        let width = b.len() + 1;
        let mut dp = vec![false; (a.len() + 1) * width];
        let at = |i: usize, j: usize| i * width + j;
        for i in (0..=a.len()).rev() {
            for j in (0..=b.len()).rev() {
                let get = |dp: &[bool], i: usize, j: usize| dp.get(at(i, j)).copied() == Some(true);
                let ai = a.get(i);
                let bj = b.get(j);
                let v = match (ai, bj) {
                    (None, None) => true,
                    (Some(Comp::Deep), _) | (_, Some(Comp::Deep)) => {
                        // A `**` ends (moves on) or swallows the other side's
                        // next component (which is never an empty language).
                        let a_deep = matches!(ai, Some(Comp::Deep));
                        let b_deep = matches!(bj, Some(Comp::Deep));
                        (a_deep && get(&dp, i + 1, j))
                            || (b_deep && get(&dp, i, j + 1))
                            || (a_deep && bj.is_some() && get(&dp, i, j + 1))
                            || (b_deep && ai.is_some() && get(&dp, i + 1, j))
                    }
                    (Some(Comp::Seg(x)), Some(Comp::Seg(y))) => {
                        get(&dp, i + 1, j + 1) && segments_intersect(x, y)
                    }
                    _ => false,
                };
                if let Some(cell) = dp.get_mut(at(i, j)) {
                    *cell = v;
                }
            }
        }
        dp.first().copied() == Some(true)
    }

    /// How specific the pattern is.
    pub fn specificity(&self) -> Specificity {
        let mut s = Specificity {
            literal_components: 0,
            single_components: 0,
            literal_chars: 0,
        };
        for c in &self.comps {
            if let Comp::Seg(toks) = c {
                s.single_components += 1;
                let lits = toks.iter().filter(|t| matches!(t, Tok::Lit(_))).count();
                if lits == toks.len() {
                    s.literal_components += 1;
                }
                s.literal_chars += lits;
            }
        }
        s
    }

    /// Whether the pattern has no wildcard at all.
    pub fn is_literal(&self) -> bool {
        self.comps.iter().all(|c| match c {
            Comp::Deep => false,
            Comp::Seg(t) => t.iter().all(|t| matches!(t, Tok::Lit(_))),
        })
    }
}

impl fmt::Display for Glob {
    /// The pattern, normalized (absolute form, escapes where needed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.comps {
            f.write_str("/")?;
            match c {
                Comp::Deep => f.write_str("**")?,
                Comp::Seg(toks) => {
                    for t in toks {
                        match t {
                            Tok::Lit(c) if "*?[]{}\\".contains(*c) => write!(f, "\\{c}")?,
                            Tok::Lit(c) => write!(f, "{c}")?,
                            Tok::One => f.write_str("?")?,
                            Tok::Star => f.write_str("*")?,
                            Tok::Class { negated, ranges } => {
                                f.write_str(if *negated { "[!" } else { "[" })?;
                                for (lo, hi) in ranges {
                                    if lo == hi {
                                        write!(f, "{}", escape_class(*lo))?;
                                    } else {
                                        write!(f, "{}-{}", escape_class(*lo), escape_class(*hi))?;
                                    }
                                }
                                f.write_str("]")?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn escape_class(c: char) -> String {
    if "]\\-!^".contains(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

/// Split on `/` (an escaped `\/` is refused: `/` never occurs in a name).
fn split_components(s: &str) -> Result<Vec<String>, GlobError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('/') => return Err(GlobError::EscapedSlash),
                Some(n) => {
                    cur.push('\\');
                    cur.push(n);
                }
                None => return Err(GlobError::TrailingEscape),
            },
            '/' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    for c in &out {
        match c.as_str() {
            "" => return Err(GlobError::EmptyComponent),
            "." | ".." => {
                return Err(GlobError::DotComponent {
                    component: c.clone(),
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

fn parse_component(s: &str) -> Result<Comp, GlobError> {
    if s == "**" {
        return Ok(Comp::Deep);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '\\' => {
                let n = chars.get(i).copied().ok_or(GlobError::TrailingEscape)?;
                i += 1;
                toks.push(Tok::Lit(n));
            }
            '?' => toks.push(Tok::One),
            '*' => {
                if chars.get(i) == Some(&'*') {
                    return Err(GlobError::PartialDeep);
                }
                toks.push(Tok::Star);
            }
            '{' | '}' => {
                return Err(GlobError::Braces);
            }
            ']' => return Err(GlobError::UnopenedClass),
            '[' => {
                let (tok, next) = parse_class(&chars, i)?;
                toks.push(tok);
                i = next;
            }
            _ => toks.push(Tok::Lit(c)),
        }
    }
    Ok(Comp::Seg(toks))
}

/// Parse a class whose `[` is just before `start`; returns the token and
/// the index after `]`.
fn parse_class(chars: &[char], start: usize) -> Result<(Tok, usize), GlobError> {
    let mut i = start;
    let negated = matches!(chars.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i).ok_or(GlobError::UnclosedClass)?;
        i += 1;
        let lo = match c {
            ']' if !first => break,
            '\\' => {
                let n = *chars.get(i).ok_or(GlobError::UnclosedClass)?;
                i += 1;
                n
            }
            _ => c,
        };
        first = false;
        // A range `lo-hi`, unless `-` is last before `]`.
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|n| *n != ']') {
            let mut hi = *chars.get(i + 1).ok_or(GlobError::UnclosedClass)?;
            i += 2;
            if hi == '\\' {
                hi = *chars.get(i).ok_or(GlobError::UnclosedClass)?;
                i += 1;
            }
            if hi < lo {
                return Err(GlobError::ReversedRange { lo, hi });
            }
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
    let tok = Tok::Class { negated, ranges };
    if char_set(&tok).is_empty() {
        return Err(GlobError::EmptyClass);
    }
    Ok((tok, i))
}

/// The characters a single-character token matches, as inclusive ranges of
/// code points.
fn char_set(t: &Tok) -> Vec<(u32, u32)> {
    const MAX: u32 = 0x10FFFF;
    match t {
        Tok::Lit(c) => vec![(*c as u32, *c as u32)],
        Tok::One | Tok::Star => vec![(0, MAX)],
        Tok::Class { negated, ranges } => {
            let mut r: Vec<(u32, u32)> =
                ranges.iter().map(|(a, b)| (*a as u32, *b as u32)).collect();
            r.sort_unstable();
            if !negated {
                return r;
            }
            let mut out = Vec::new();
            let mut next = 0u32;
            for (lo, hi) in r {
                if lo > next {
                    out.push((next, lo - 1));
                }
                next = next.max(hi.saturating_add(1));
            }
            if next <= MAX {
                out.push((next, MAX));
            }
            out
        }
    }
}

fn sets_intersect(a: &Tok, b: &Tok) -> bool {
    let (x, y) = (char_set(a), char_set(b));
    x.iter()
        .any(|(alo, ahi)| y.iter().any(|(blo, bhi)| alo <= bhi && blo <= ahi))
}

/// Whether some non-empty component matches both token lists.
fn segments_intersect(a: &[Tok], b: &[Tok]) -> bool {
    let width = b.len() + 1;
    let mut dp = vec![false; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in (0..=a.len()).rev() {
        for j in (0..=b.len()).rev() {
            let get = |dp: &[bool], i: usize, j: usize| dp.get(at(i, j)).copied() == Some(true);
            let (ai, bj) = (a.get(i), b.get(j));
            let a_star = matches!(ai, Some(Tok::Star));
            let b_star = matches!(bj, Some(Tok::Star));
            let v = match (ai, bj) {
                (None, None) => true,
                _ if a_star || b_star => {
                    (a_star && get(&dp, i + 1, j))
                        || (b_star && get(&dp, i, j + 1))
                        || (a_star && bj.is_some() && get(&dp, i, j + 1))
                        || (b_star && ai.is_some() && get(&dp, i + 1, j))
                }
                (Some(x), Some(y)) => get(&dp, i + 1, j + 1) && sets_intersect(x, y),
                _ => false,
            };
            if let Some(cell) = dp.get_mut(at(i, j)) {
                *cell = v;
            }
        }
    }
    // The empty string is common only to all-star segments, which share
    // every non-empty string too; so "some common string" suffices.
    dp.first().copied() == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str) -> Glob {
        Glob::parse(p).unwrap().1
    }

    fn comps(p: &str) -> Vec<&str> {
        p.split('/').filter(|c| !c.is_empty()).collect()
    }

    #[test]
    fn matching_truth_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("/srv/models/**", "/srv/models", false),
            ("/srv/models/**", "/srv/models/a", true),
            ("/srv/models/**", "/srv/models/a/b/c", true),
            ("/srv/models/**", "/srv/modelsx", false),
            ("/srv/models/*", "/srv/models/a", true),
            ("/srv/models/*", "/srv/models/a/b", false),
            ("/srv/models/*", "/srv/models", false),
            ("/srv/*/llama", "/srv/x/llama", true),
            ("/srv/*/llama", "/srv/x/y/llama", false),
            ("/srv/**/llama", "/srv/x/y/llama", true),
            ("/srv/**/llama", "/srv/llama", true),
            ("/srv/llama-?b", "/srv/llama-7b", true),
            ("/srv/llama-?b", "/srv/llama-70b", false),
            ("/srv/llama-[0-9]*", "/srv/llama-70b", true),
            ("/srv/llama-[!0-9]*", "/srv/llama-70b", false),
            ("/srv/llama-[!0-9]*", "/srv/llama-xl", true),
            ("/srv/a\\*b", "/srv/a*b", true),
            ("/srv/a\\*b", "/srv/axb", false),
            ("/srv/[]]", "/srv/]", true),
            ("/srv/[a-]", "/srv/-", true),
            ("/**", "/anything/at/all", true),
            ("/srv/*", "/srv/.hidden", true),
            ("/srv/m", "/srv/M", false),
        ];
        for (pat, path, want) in cases {
            assert_eq!(g(pat).matches(&comps(path)), *want, "{pat} vs {path}");
        }
    }

    #[test]
    fn intersection_truth_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("/a/**", "/a/b/*", true),
            ("/a/*.bin", "/a/*.safetensors", false),
            ("/a/x*", "/a/*y", true),
            ("/a/x*", "/a/y*", false),
            ("/a/**/z", "/a/*/z", true),
            ("/a/**/z", "/a/y", false),
            ("/**", "/q", true),
            ("/a/x*", "/a/x*/**", false),
            ("/a/x*", "/a/**/x*", true),
            ("/a/**", "/a", false),
            ("/a/[0-4]", "/a/[5-9]", false),
            ("/a/[0-5]", "/a/[5-9]", true),
            ("/a/[!0-9]", "/a/7", false),
            ("/a/?", "/a/??", false),
            ("/a/*", "/a/??", true),
            ("/a/**", "/b/**", false),
            ("/a/**/b/**", "/**/c", true),
        ];
        for (x, y, want) in cases {
            assert_eq!(g(x).intersects(&g(y)), *want, "{x} ∩ {y}");
            assert_eq!(g(y).intersects(&g(x)), *want, "{y} ∩ {x}");
        }
    }

    #[test]
    fn refused_patterns_say_why() {
        for (bad, why) in [
            ("", "empty"),
            ("/", "at least one component"),
            ("a//b", "empty path component"),
            ("a/", "empty path component"),
            ("a/../b", "`..`"),
            ("./a", "`.`"),
            ("a**", "whole path component"),
            ("a/**b", "whole path component"),
            ("{a,b}", "brace"),
            ("[abc", "unclosed"),
            ("[z-a]", "reversed"),
            ("a]", "without `[`"),
            ("a\\", "trailing"),
            ("a\\/b", "cannot be escaped"),
            ("[!\u{0}-\u{10FFFF}]", "no character"),
        ] {
            let err = Glob::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        assert_eq!(
            Glob::parse("[z-a]"),
            Err(GlobError::ReversedRange { lo: 'z', hi: 'a' })
        );
        assert_eq!(
            Glob::parse(&"a".repeat(MAX_PATTERN + 1)),
            Err(GlobError::TooLong)
        );
        assert_eq!(Glob::parse_name("a/b"), Err(GlobError::NameWithSlash));
        assert_eq!(Glob::parse_name("**"), Err(GlobError::DeepName));
        assert!(Glob::parse_name("llama-*").is_ok());
    }

    #[test]
    fn specificity_orders_exact_over_wildcards() {
        let exact = g("/srv/prod/bert").specificity();
        let star = g("/srv/prod/*").specificity();
        let deep = g("/srv/prod/**").specificity();
        let name = Glob::parse_name("bert").unwrap().anywhere().specificity();
        assert!(exact > star && star > deep && deep > name);
        assert!(g("/srv/prod/bert").is_literal());
        assert!(!g("/srv/prod/*").is_literal());
    }

    #[test]
    fn display_is_normalized_and_reparses() {
        for p in ["/a/**/b*", "/a/[!0-9x]?", "/a/\\*\\[", "/a/[\\]\\-]"] {
            let shown = g(p).to_string();
            assert_eq!(g(&shown), g(p), "{p} -> {shown}");
        }
        assert!(!Glob::parse("a/b").unwrap().0);
        assert!(Glob::parse("/a/b").unwrap().0);
    }
}
