//! A policy's `content` section: which serialization formats a scope
//! accepts, which extra globals its pickles may import, and whether unsafe
//! content is enforced (rejected) or logged.
//!
//! ```json
//! "content": {
//!   "level": "enforce",
//!   "formats": ["safetensors", "gguf"],
//!   "allowGlobals": ["argparse.Namespace"]
//! }
//! ```
//!
//! The facts are a [`Report`] of `modelseal-scan`, produced while the model
//! was hashed (one read); [`ContentRules::judge`] only decides over it.
//! Plain data (`data`: text, JSON, raw bytes) is always accepted: the
//! format list names the formats a loader deserializes.

use modelseal_scan::{Config, Format, Report, Verdict};
use serde_json::Value;

use crate::level::Action;
use crate::read::{self, Problems, Ptr};

/// The content rules of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentRules {
    action: Action,
    formats: Option<Vec<Format>>,
    allow_globals: Vec<String>,
}

/// What the content rules concluded about a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentVerdict {
    /// `enforce` or `log`.
    pub action: Action,
    /// Each unsafe finding, disallowed format or malformed file, one line
    /// each (`path!member@offset: subject (why)`).
    pub violations: Vec<String>,
    /// Files scanned.
    pub files: usize,
}

impl ContentVerdict {
    /// Whether the model is refused (violations under `enforce`).
    pub fn rejects(&self) -> bool {
        !self.violations.is_empty() && self.action == Action::Enforce
    }
}

impl ContentRules {
    /// `enforce` or `log`.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The formats accepted (besides `data`), `None` for any.
    pub fn formats(&self) -> Option<&[Format]> {
        self.formats.as_deref()
    }

    /// Globals allowed beyond the default allowlist.
    pub fn allow_globals(&self) -> &[String] {
        &self.allow_globals
    }

    /// The scanner configuration these rules ask for.
    pub fn scan_config(&self) -> Config {
        Config::with_globals(self.allow_globals.iter().map(String::as_str))
    }

    /// Decide over a scan report.
    pub fn judge(&self, report: &Report) -> ContentVerdict {
        let mut violations = Vec::new();
        for file in &report.files {
            let path = modelseal_scan::escape(&file.path);
            if let Some(formats) = &self.formats
                && file.format != Format::Data
                && !formats.contains(&file.format)
            {
                violations.push(format!(
                    "{path}: format {} is not allowed here (allowed: {})",
                    file.format,
                    formats
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            for f in &file.findings {
                violations.push(format!("{path}{f}"));
            }
            if file.verdict() == Verdict::Malformed {
                for p in &file.problems {
                    violations.push(format!("{path}{p} (malformed)"));
                }
            }
        }
        ContentVerdict {
            action: self.action,
            violations,
            files: report.files.len(),
        }
    }
}

/// Read a `content` section.
pub(crate) fn load(v: &Value, ptr: &Ptr, p: &mut Problems) -> Option<ContentRules> {
    let before = p.len();
    let map = read::object(v, ptr, &["level", "formats", "allowGlobals"], &[], p)?;
    let lptr = ptr.key("level");
    let action = match map.get("level").and_then(|v| read::string(v, &lptr, p)) {
        None => Action::Enforce,
        Some("enforce") => Action::Enforce,
        Some("log") => Action::Log,
        Some(other) => {
            p.add(
                &lptr,
                format!("unknown content level {other:?} (expected enforce or log; leave the section out to skip)"),
            );
            Action::Enforce
        }
    };
    let formats = map.get("formats").map(|v| {
        let fptr = ptr.key("formats");
        read::strings(v, &fptr, false, p)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(ptr, s)| {
                let f = Format::from_name(s);
                if f.is_none() {
                    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                    p.add(
                        &ptr,
                        format!(
                            "unknown format {s:?} (expected one of: {})",
                            names.join(", ")
                        ),
                    );
                }
                f
            })
            .collect::<Vec<_>>()
    });
    let gptr = ptr.key("allowGlobals");
    let mut allow_globals = Vec::new();
    if let Some(v) = map.get("allowGlobals") {
        for (ptr, g) in read::strings(v, &gptr, false, p).unwrap_or_default() {
            match g.rsplit_once('.') {
                Some((m, n)) if !m.is_empty() && !n.is_empty() => allow_globals.push(g.to_owned()),
                _ => p.add(&ptr, format!("{g:?}: expected module.name")),
            }
        }
    }
    (p.len() == before).then_some(ContentRules {
        action,
        formats,
        allow_globals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::parse_strict;

    fn rules(json: &str) -> ContentRules {
        let v = parse_strict(json.as_bytes()).unwrap();
        let mut p = Problems::default();
        let r = load(&v, &Ptr::root(), &mut p);
        assert!(p.0.is_empty(), "{:?}", p.0);
        r.unwrap()
    }

    fn report(files: &[(&str, &[u8])]) -> Report {
        let cfg = Config::default();
        Report {
            files: files
                .iter()
                .map(|(name, bytes)| modelseal_scan::scan_bytes(&cfg, name, bytes))
                .collect(),
        }
    }

    const SAFETENSORS: &[u8] = b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ";
    const CLEAN_PICKLE: &[u8] = b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.";
    const EVIL_PICKLE: &[u8] = b"cos\nsystem\n(S'id'\ntR.";

    #[test]
    fn formats_findings_and_levels() {
        let prod = rules(r#"{"formats": ["safetensors", "gguf"]}"#);
        let model = report(&[("config.json", b"{}"), ("model.safetensors", SAFETENSORS)]);
        let v = prod.judge(&model);
        assert!(v.violations.is_empty(), "{:?}", v.violations);
        assert!(!v.rejects());
        assert_eq!(v.files, 2);

        // A clean pickle is still a format production does not accept.
        let v = prod.judge(&report(&[("pytorch_model.bin", CLEAN_PICKLE)]));
        assert!(v.rejects());
        assert!(
            v.violations[0].contains("format pickle is not allowed"),
            "{:?}",
            v.violations
        );

        // Research: pickles allowed if the scan is clean.
        let research = rules(r#"{"formats": ["pickle", "safetensors"]}"#);
        assert!(
            !research
                .judge(&report(&[("w.bin", CLEAN_PICKLE)]))
                .rejects()
        );
        let v = research.judge(&report(&[("w.bin", EVIL_PICKLE)]));
        assert!(v.rejects());
        assert_eq!(
            v.violations,
            ["w.bin@0: os.system (runs operating-system commands)"]
        );

        // Logged, not enforced.
        let log = rules(r#"{"level": "log"}"#);
        let v = log.judge(&report(&[("w.bin", EVIL_PICKLE)]));
        assert_eq!((v.violations.len(), v.rejects()), (1, false));

        // Extra globals reach the scanner's configuration.
        let extra = rules(r#"{"allowGlobals": ["os.system"]}"#);
        assert!(extra.scan_config().allow.contains("os", "system"));
    }
}
