//! Benign and malicious samples written by Python's own `pickle`, `zipfile`
//! and `tarfile` (tests/samples/make_samples.py), each scanned and judged
//! against the verdict the generator recorded.

// Test helpers outside #[test] functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use modelseal_scan::{Config, FindingKind, Format, Verdict, scan_path, scan_reader};
use serde_json::Value;

/// Generate the samples into a fresh directory. python3 is required: the
/// test fails (never skips) without it.
fn samples() -> &'static (PathBuf, Vec<Value>) {
    static SAMPLES: OnceLock<(PathBuf, Vec<Value>)> = OnceLock::new();
    SAMPLES.get_or_init(generate)
}

fn generate() -> (PathBuf, Vec<Value>) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scan-samples");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/make_samples.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .output()
        .expect("python3 is required to generate the scanner's samples (apt-get install python3)");
    assert!(
        out.status.success(),
        "make_samples.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read(dir.join("expected.json")).unwrap();
    std::fs::remove_file(dir.join("expected.json")).unwrap();
    let expected: Vec<Value> = serde_json::from_slice(&expected).unwrap();
    (dir, expected)
}

fn path(dir: &Path, e: &Value) -> PathBuf {
    dir.join(e["file"].as_str().unwrap())
}

#[test]
fn every_sample_gets_the_expected_verdict() {
    let (dir, expected) = samples();
    let cfg = Config::default();
    let mut failures = Vec::new();
    for e in expected {
        let verdict = e["verdict"].as_str().unwrap();
        if verdict == "bomb" {
            continue;
        }
        let report = scan_path(&cfg, &path(dir, e), Some(1)).unwrap();
        let file = &report.files[0];
        let want = if verdict == "clean" {
            Verdict::Clean
        } else {
            Verdict::Unsafe
        };
        let subject = e["subject"].as_str();
        let named = subject.is_none_or(|s| file.findings.iter().any(|f| f.subject.contains(s)));
        if file.verdict() != want || !named {
            failures.push(format!(
                "{}: want {verdict} naming {subject:?}, got {:?} {:#?} {:#?}",
                file.path,
                file.verdict(),
                file.findings,
                file.problems
            ));
        }
        // Reading every byte (as a hashing pass does) and skipping what no
        // parser needs (a file) give the same report.
        let bytes = std::fs::read(path(dir, e)).unwrap();
        let streamed = scan_reader(&cfg, ".", None, &mut bytes.as_slice()).unwrap();
        assert_eq!(streamed.findings, file.findings, "{}", file.path);
        assert_eq!(streamed.format, file.format, "{}", file.path);
        assert_eq!(streamed.size, bytes.len() as u64);
        if want == Verdict::Clean {
            assert!(
                file.problems.is_empty(),
                "{}: {:?}",
                file.path,
                file.problems
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn formats_are_recognized_by_content() {
    let (dir, _) = samples();
    let cfg = Config::default();
    let report = scan_path(&cfg, dir, Some(2)).unwrap();
    let format = |name: &str| {
        report
            .files
            .iter()
            .find(|f| f.path == name)
            .map(|f| f.format)
            .unwrap()
    };
    assert_eq!(format("benign_torch_zip.pt"), Format::PytorchZip);
    assert_eq!(format("benign_torch_zip_streamed.pt"), Format::PytorchZip);
    assert_eq!(format("benign_legacy_torch.bin"), Format::Pickle);
    assert_eq!(format("benign_arrays.npz"), Format::Zip);
    assert_eq!(format("benign_nemo.nemo"), Format::Tar);
    assert_eq!(format("benign_model.safetensors"), Format::Safetensors);
    assert_eq!(format("benign_model.gguf"), Format::Gguf);
    assert_eq!(format("benign_model.onnx"), Format::Onnx);
    assert_eq!(format("benign_array.npy"), Format::Numpy);
    assert_eq!(format("benign_readme.md"), Format::Data);
    assert_eq!(format("mal_pickle_named_readme.txt"), Format::Pickle);
    assert_eq!(format("mal_tar_gz.tar.gz"), Format::Gzip);
    assert_eq!(report.verdict(), Verdict::Unsafe);
}

#[test]
fn findings_say_where_what_and_why() {
    let (dir, _) = samples();
    let cfg = Config::default();
    let r = scan_path(&cfg, &dir.join("mal_nemo_tar.nemo"), None).unwrap();
    let f = &r.files[0].findings[0];
    assert_eq!(f.kind, FindingKind::DangerousGlobal);
    assert_eq!(f.member, ["model_weights.ckpt", "archive/data.pkl"]);
    assert_eq!(f.subject, "posix.system");
    assert!(f.why.contains("operating-system commands"), "{}", f.why);
    assert!(f.offset > 0);
    // The allowlist, not a denylist, catches what no list names.
    let r = scan_path(&cfg, &dir.join("mal_doctest_debug_p4.pkl"), None).unwrap();
    assert_eq!(r.files[0].findings[0].kind, FindingKind::UnallowedGlobal);
    // Users extend the allowlist.
    let cfg = Config::with_globals(["doctest.debug_script"]);
    let r = scan_path(&cfg, &dir.join("mal_doctest_debug_p4.pkl"), None).unwrap();
    assert_eq!(r.verdict(), Verdict::Clean);
}

#[test]
fn decompression_is_bounded() {
    let (dir, _) = samples();
    let bomb = dir.join("bomb_zeros.zip");
    let mut cfg = Config::default();
    cfg.limits.max_expanded = 4 << 20;
    let r = scan_path(&cfg, &bomb, None).unwrap();
    let f = &r.files[0].findings;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].kind, FindingKind::Unscannable);
    assert!(f[0].why.contains("decompression"), "{}", f[0].why);
    // Nested archives beyond the depth limit are refused, not opened.
    let mut cfg = Config::default();
    cfg.limits.max_depth = 1;
    let r = scan_path(&cfg, &dir.join("mal_nested_zip.zip"), None).unwrap();
    let f = &r.files[0].findings;
    assert_eq!(f[0].kind, FindingKind::Unscannable, "{f:?}");
    assert!(f[0].why.contains("nested deeper"), "{}", f[0].why);
}

#[test]
fn the_hashing_pass_scans_what_it_hashes() {
    use modelseal_manifest::{HashAlgorithm, Serialization};
    use modelseal_manifest::{HashOptions, hash_model};
    use modelseal_manifest::{WalkOptions, walk};
    use modelseal_scan::ContentCheck;

    let (dir, _) = samples();
    let check = ContentCheck::new(Config::default());
    let files = walk(dir, &WalkOptions::default()).unwrap();
    let ser = Serialization::files(HashAlgorithm::Sha256, vec![]);
    let opts = HashOptions {
        threads: Some(2),
        inspect: Some(&check),
        ..HashOptions::default()
    };
    let hashed = hash_model(&files, &ser, &opts).unwrap();
    assert_eq!(
        hashed,
        hash_model(&files, &ser, &HashOptions::default()).unwrap()
    );
    let inline = check.into_report();
    let alone = scan_path(&Config::default(), dir, Some(2)).unwrap();
    assert_eq!(inline.files.len(), alone.files.len());
    for (a, b) in inline.files.iter().zip(&alone.files) {
        assert_eq!(
            (&a.path, a.format, &a.findings),
            (&b.path, b.format, &b.findings)
        );
    }
    assert_eq!(inline.verdict(), Verdict::Unsafe);
}
