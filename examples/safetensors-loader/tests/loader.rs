//! The example loader on the demo model, signed by the reference tool.
#![allow(missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(rel)
}

fn load(model: &Path, mode: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_load-safetensors"))
        .arg(model)
        .arg("--signature")
        .arg(fixture("interop/oms/extra/demo/cert-p256-leaf.sig"))
        .arg("--trust-root")
        .arg(fixture("pki/p256/root.pem"))
        .args(["--identity", "email:release-a@modelseal.test"])
        .args(["--mode", mode])
        .output()
        .unwrap()
}

const TENSORS: &str = "model.safetensors: 2 tensors
  model.embed.bias  F32  [190]
  model.embed.weight  F32  [255, 256]
weights/model-00001-of-00002.safetensors: 2 tensors
  model.layers.0.bias  F32  [190]
  model.layers.0.weight  F32  [15, 256]
weights/model-00002-of-00002.safetensors: 2 tensors
  model.layers.1.bias  F32  [190]
  model.layers.1.weight  F32  [7, 256]
";

#[test]
fn lists_the_tensors_it_loaded_through_the_gate() {
    for mode in ["stream", "seal"] {
        let out = load(&fixture("models/demo"), mode);
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), TENSORS, "{mode}");
    }
    let out = load(&fixture("models/demo"), "stream-discard");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("287561 bytes verified"));
}

#[test]
fn a_tampered_model_yields_no_tensor() {
    let d = tempfile::tempdir().unwrap();
    let model = d.path().join("demo");
    std::fs::create_dir_all(model.join("weights")).unwrap();
    std::fs::create_dir_all(model.join("extra")).unwrap();
    for f in [
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "tokenizer.json",
        "extra/README.md",
        "weights/model-00001-of-00002.safetensors",
        "weights/model-00002-of-00002.safetensors",
    ] {
        std::fs::copy(fixture("models/demo").join(f), model.join(f)).unwrap();
    }
    let w = model.join("weights/model-00002-of-00002.safetensors");
    let mut bytes = std::fs::read(&w).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&w, bytes).unwrap();
    for mode in ["stream", "seal"] {
        let out = load(&model, mode);
        assert_eq!(out.status.code(), Some(1), "{mode}");
        assert!(
            out.stdout.is_empty(),
            "{mode}: listed tensors of a tampered model"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("digest mismatch: weights/model-00002-of-00002.safetensors"),
            "{mode}"
        );
    }
}
