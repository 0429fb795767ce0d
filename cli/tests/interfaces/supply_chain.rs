//! Supply chain of modelseal itself, checked offline on every test run (a
//! `cargo deny`-style check without the network or extra tools):
//!
//! 1. **Licenses**: every package built for this host (`cargo metadata
//!    --offline --locked --filter-platform HOST`) has an SPDX license
//!    expression that the allow-list below satisfies (`OR`, `AND`, `WITH`,
//!    parentheses and the legacy `/` separator are understood). A package
//!    with only a `license-file` fails: it needs a human decision.
//! 2. **Sources**: every package in `Cargo.lock` comes from crates.io or is
//!    a workspace member; git dependencies, other registries and path
//!    dependencies outside the workspace fail.
//! 3. **Duplicates**: every crate present in several semver-incompatible
//!    versions in `Cargo.lock` is reported; one that is not allow-listed
//!    (with the reason it cannot be avoided) fails.
//! 4. **No unsafe code**: the workspace forbids `unsafe_code`, every member
//!    inherits the workspace lints, every library and binary root carries
//!    `#![forbid(unsafe_code)]`, and no source file holds an `unsafe` block,
//!    function, impl, trait, extern block or attribute.
//!
//! Packages only built for other platforms (Windows, UEFI, WASI) are in
//! `Cargo.lock`, so checks 2 and 3 cover them, but their manifests are not
//! downloaded offline, so their licenses are not checked: they are never
//! part of a Linux build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// SPDX licenses modelseal may depend on: permissive licenses only. MPL-2.0
/// (file-level copyleft), the GPL family and public-domain dedications such
/// as Unlicense (legally uncertain in some jurisdictions) are left out; a
/// dependency that offers one of them *or* an allowed license passes.
const ALLOWED_LICENSES: &[&str] = &[
    "Apache-2.0",
    "MIT",
    "MIT-0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "CC0-1.0",
    "Unicode-3.0",
    "Unicode-DFS-2016",
];

/// SPDX exceptions allowed after `WITH`.
const ALLOWED_EXCEPTIONS: &[&str] = &["LLVM-exception"];

/// Crates allowed in several semver-incompatible versions, and why. The
/// versions are semver "major" keys (`0.2`, `1`); a new one fails.
const ALLOWED_DUPLICATES: &[(&str, &[&str], &str)] = &[
    (
        "bit-vec",
        &["0.9", "0.10"],
        "dev-only: 0.9 through rcgen's yasna (the Sigstore tests' private Fulcio-like CA), \
         0.10 through proptest; neither is in the binary",
    ),
    (
        "getrandom",
        &["0.2", "0.4"],
        "0.2: ring (rustls-webpki, rustls); 0.4: RustCrypto rsa and modelseal's own RNG calls",
    ),
    (
        "hashbrown",
        &["0.16", "0.17"],
        "0.16: safetensors, used only by examples/safetensors-loader; 0.17: indexmap",
    ),
    (
        "syn",
        &["2", "3"],
        "proc-macro crates at build time only (serde_derive, thiserror-impl, clap_derive, \
         displaydoc on syn 3; asn1-rs-derive, synstructure, zerocopy-derive, \
         curve25519-dalek-derive on syn 2); nothing of it is in the binary",
    ),
    (
        "windows-sys",
        &["0.52", "0.61"],
        "Windows-only: 0.52 for ring, 0.61 for rustix, tempfile and the terminal crates; \
         never built on Linux",
    ),
];

const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn host_triple() -> String {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--locked",
            "--filter-platform",
        ])
        .arg(host_triple())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata --offline --locked failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One `[[package]]` of Cargo.lock.
#[derive(Debug, Default)]
struct Locked {
    name: String,
    version: String,
    source: Option<String>,
}

/// Reads Cargo.lock's `[[package]]` tables (name, version, source): the
/// format is line-oriented and stable (version 3 and 4).
fn lock_packages() -> Vec<Locked> {
    let text = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap();
    let mut out: Vec<Locked> = Vec::new();
    for line in text.lines() {
        if line == "[[package]]" {
            out.push(Locked::default());
            continue;
        }
        let Some(pkg) = out.last_mut() else { continue };
        let value = |l: &str, key: &str| {
            l.strip_prefix(key)
                .and_then(|r| r.strip_prefix(" = \""))
                .and_then(|r| r.strip_suffix('"'))
                .map(str::to_owned)
        };
        if let Some(v) = value(line, "name") {
            pkg.name = v;
        } else if let Some(v) = value(line, "version") {
            pkg.version = v;
        } else if let Some(v) = value(line, "source") {
            pkg.source = Some(v);
        }
    }
    assert!(
        out.len() > 50,
        "Cargo.lock parsed to {} packages",
        out.len()
    );
    assert!(
        out.iter()
            .all(|p| !p.name.is_empty() && !p.version.is_empty())
    );
    out
}

// ---- SPDX expressions ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    With,
    Id(String),
}

fn tokenize(expr: &str) -> Vec<Tok> {
    // Legacy crates.io separators: "MIT/Apache-2.0" means "MIT OR Apache-2.0".
    let spaced = expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    spaced
        .split_whitespace()
        .map(|w| match w {
            "(" => Tok::Open,
            ")" => Tok::Close,
            "AND" => Tok::And,
            "OR" => Tok::Or,
            "WITH" => Tok::With,
            id => Tok::Id(id.to_owned()),
        })
        .collect()
}

/// Recursive-descent evaluation of an SPDX expression (WITH binds tighter
/// than AND, AND tighter than OR): whether the allow-list satisfies it.
/// `Err` for an expression that does not parse.
struct Spdx<'a> {
    toks: &'a [Tok],
    pos: usize,
}

impl Spdx<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<bool, String> {
        let mut ok = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            ok |= self.and()?;
        }
        Ok(ok)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut ok = self.with()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            ok &= self.with()?;
        }
        Ok(ok)
    }

    fn with(&mut self) -> Result<bool, String> {
        let ok = match self.next() {
            Some(Tok::Open) => {
                let ok = self.or()?;
                if self.next() != Some(Tok::Close) {
                    return Err("missing )".into());
                }
                ok
            }
            Some(Tok::Id(id)) => ALLOWED_LICENSES.contains(&id.trim_end_matches('+')),
            other => return Err(format!("unexpected {other:?}")),
        };
        if self.peek() == Some(&Tok::With) {
            self.pos += 1;
            match self.next() {
                Some(Tok::Id(exc)) => return Ok(ok && ALLOWED_EXCEPTIONS.contains(&exc.as_str())),
                other => return Err(format!("WITH followed by {other:?}")),
            }
        }
        Ok(ok)
    }
}

fn license_allowed(expr: &str) -> Result<bool, String> {
    let toks = tokenize(expr);
    let mut p = Spdx {
        toks: &toks,
        pos: 0,
    };
    let ok = p.or()?;
    if p.pos != toks.len() {
        return Err(format!("trailing tokens after position {}", p.pos));
    }
    Ok(ok)
}

#[test]
fn spdx_expressions_are_evaluated() {
    for ok in [
        "MIT",
        "MIT OR Apache-2.0",
        "Apache-2.0 / MIT",
        "MIT/Apache-2.0",
        "(MIT OR Apache-2.0) AND Unicode-3.0",
        "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT",
        "Apache-2.0 AND ISC",
        "Unlicense OR MIT",
        "GPL-3.0 OR (MIT AND BSD-3-Clause)",
    ] {
        assert_eq!(license_allowed(ok), Ok(true), "{ok}");
    }
    for bad in [
        "GPL-3.0",
        "MPL-2.0",
        "Unlicense",
        "MIT AND GPL-2.0",
        "(MIT OR Apache-2.0) AND LGPL-2.1",
        "GPL-2.0 WITH Classpath-exception-2.0",
        "Apache-2.0 WITH Some-other-exception",
    ] {
        assert_eq!(license_allowed(bad), Ok(false), "{bad}");
    }
    for malformed in ["", "MIT OR", "(MIT", "MIT)", "AND MIT", "MIT WITH"] {
        assert!(license_allowed(malformed).is_err(), "{malformed:?}");
    }
}

#[test]
fn licenses_are_on_the_allow_list() {
    let meta = metadata();
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let mut bad = Vec::new();
    let mut seen = 0;
    for p in meta["packages"].as_array().unwrap() {
        let name = format!("{} {}", p["name"].as_str().unwrap(), p["version"]);
        if members.contains(p["id"].as_str().unwrap()) {
            assert_eq!(p["license"], "Apache-2.0", "workspace member {name}");
            continue;
        }
        seen += 1;
        match p["license"].as_str() {
            None => bad.push(format!("{name}: no SPDX license (license-file only?)")),
            Some(expr) => match license_allowed(expr) {
                Ok(true) => {}
                Ok(false) => bad.push(format!("{name}: {expr:?} is not on the allow-list")),
                Err(e) => bad.push(format!("{name}: {expr:?} does not parse: {e}")),
            },
        }
    }
    assert!(seen > 50, "only {seen} dependencies in cargo metadata");
    assert!(bad.is_empty(), "license check failed:\n{}", bad.join("\n"));
}

#[test]
fn every_package_comes_from_crates_io_or_the_workspace() {
    let meta = metadata();
    let root = workspace_root().canonicalize().unwrap();
    let members: BTreeSet<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source"].is_null())
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
            assert!(
                manifest.canonicalize().unwrap().starts_with(&root),
                "path dependency outside the workspace: {}",
                manifest.display()
            );
            p["name"].as_str().unwrap().to_owned()
        })
        .collect();
    let mut bad = Vec::new();
    for p in lock_packages() {
        match p.source.as_deref() {
            Some(CRATES_IO) => {}
            Some(other) => bad.push(format!("{} {}: source {other}", p.name, p.version)),
            None if members.contains(&p.name) => {}
            None => bad.push(format!(
                "{} {}: a path dependency that is not a workspace member",
                p.name, p.version
            )),
        }
    }
    assert!(bad.is_empty(), "source check failed:\n{}", bad.join("\n"));
}

/// The semver-compatibility key of a version: `0.2.17` -> `0.2`, `1.4.0` -> `1`.
fn major(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => format!("0.{minor}"),
        (Some(m), _) => m.to_owned(),
        _ => version.to_owned(),
    }
}

#[test]
fn duplicate_versions_are_known() {
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in lock_packages() {
        versions
            .entry(p.name)
            .or_default()
            .insert(major(&p.version));
    }
    let mut bad = Vec::new();
    for (name, majors) in versions.iter().filter(|(_, v)| v.len() > 1) {
        let listed: Vec<&str> = majors.iter().map(String::as_str).collect();
        match ALLOWED_DUPLICATES.iter().find(|(n, ..)| n == name) {
            Some((_, allowed, why)) => {
                eprintln!("duplicate (allowed): {name} {listed:?}: {why}");
                let new: Vec<&&str> = listed.iter().filter(|v| !allowed.contains(v)).collect();
                if !new.is_empty() {
                    bad.push(format!("{name}: new version(s) {new:?} beyond {allowed:?}"));
                }
            }
            None => bad.push(format!("{name}: versions {listed:?}")),
        }
    }
    for (name, ..) in ALLOWED_DUPLICATES {
        if versions.get(*name).is_none_or(|v| v.len() < 2) {
            eprintln!("note: {name} is no longer duplicated; drop it from ALLOWED_DUPLICATES");
        }
    }
    assert!(
        bad.is_empty(),
        "unexpected duplicate crate versions (unify them, or allow-list them with a reason):\n{}",
        bad.join("\n")
    );
}

/// A line of Rust without its `//` comment and string-literal contents
/// (good enough for this scan: block comments and raw strings spanning
/// lines are not modelled).
fn code_only(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    out.push('"');
                }
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push('"');
        } else if c == '/' && chars.peek() == Some(&'/') {
            break;
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a line of Rust uses `unsafe` code.
fn uses_unsafe(line: &str) -> bool {
    let code = code_only(line);
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '{' || c == '('))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        w.starts_with("unsafe")
            && (*w == "unsafe{"
                || w.starts_with("unsafe(")
                || (*w == "unsafe"
                    && words.get(i + 1).is_some_and(|n| {
                        n.starts_with('{')
                            || ["fn", "impl", "trait", "extern"].contains(n)
                            || n.starts_with("fn(")
                    })))
    })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn unsafe_code_is_forbidden_everywhere() {
    assert!(uses_unsafe("    unsafe { x() }"));
    assert!(uses_unsafe("pub unsafe fn f() {}"));
    assert!(uses_unsafe("unsafe impl Send for X {}"));
    assert!(uses_unsafe("#[unsafe(no_mangle)]"));
    assert!(uses_unsafe("unsafe extern \"C\" {"));
    assert!(!uses_unsafe(
        "let unsafe_names = 1; // unsafe { resource names"
    ));
    assert!(!uses_unsafe("let s = \"unsafe { \\\" unsafe fn\"; f(s)"));

    let root = workspace_root();
    let lints = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(
        lints.contains("[workspace.lints.rust]") && lints.contains("unsafe_code = \"forbid\""),
        "the workspace must forbid unsafe_code"
    );
    let meta = metadata();
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let mut roots = 0;
    let mut files = Vec::new();
    for p in meta["packages"].as_array().unwrap() {
        if !members.contains(p["id"].as_str().unwrap()) {
            continue;
        }
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
        let toml = std::fs::read_to_string(&manifest).unwrap();
        assert!(
            toml.contains("[lints]\nworkspace = true"),
            "{} does not inherit the workspace lints",
            manifest.display()
        );
        for t in p["targets"].as_array().unwrap() {
            let kinds: Vec<&str> = t["kind"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            if kinds
                .iter()
                .any(|k| ["lib", "bin", "proc-macro"].contains(k))
            {
                let src = std::fs::read_to_string(t["src_path"].as_str().unwrap()).unwrap();
                assert!(
                    src.contains("#![forbid(unsafe_code)]"),
                    "{} lacks #![forbid(unsafe_code)]",
                    t["src_path"]
                );
                roots += 1;
            }
        }
        rust_files(manifest.parent().unwrap(), &mut files);
    }
    assert!(roots >= 6, "only {roots} crate roots found");
    let mut offenders = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if uses_unsafe(line) {
                offenders.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(files.len() > 40, "only {} Rust files scanned", files.len());
    assert!(
        offenders.is_empty(),
        "unsafe code found:\n{}",
        offenders.join("\n")
    );
}
