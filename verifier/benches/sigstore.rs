//! The cost of Sigstore verification per bundle, beyond hashing: a real
//! public-good keyless bundle (pypi-attestations 0.0.31's
//! `pypi_attestation_models-0.0.4a2.tar.gz.sigstore`: Rekor v1 `dsse`
//! entry with SET, inclusion proof and checkpoint, embedded SCT, Fulcio
//! chain) through the one pipeline: parse, tlog entry, Fulcio chain at the
//! integrated time, SCT, DSSE signature, statement, identity. The file
//! itself is not hashed (that is the engine's cost, measured by
//! bench/run.py).
//!
//! `cargo bench -p modelseal-verifier --bench sigstore` (needs the assets:
//! `bash .ci/deps/sigstore-assets.sh`; `MODELSEAL_BENCH_N` sets the number
//! of bundles, default 2000). Not a test: it only prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use modelseal_verifier::{
    EvidenceSource, Identity, Inputs, Matcher, Report, Sigstore, authenticate_facts, gather,
};

fn per(d: Duration, n: u32) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0 / f64::from(n))
}

fn main() {
    let assets = std::env::var_os("MODELSEAL_SIGSTORE_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.sigstore-assets"));
    assert!(
        assets.join(".complete").exists(),
        "Sigstore assets missing in {}: run `bash .ci/deps/sigstore-assets.sh`",
        assets.display()
    );
    let bundle = std::fs::read(
        assets.join("pypi-attestations/pypi_attestation_models-0.0.4a2.tar.gz.sigstore"),
    )
    .unwrap();
    let n: u32 = std::env::var("MODELSEAL_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let identities = [Identity::keyless(
        Matcher::Exact("https://token.actions.githubusercontent.com".into()),
        Matcher::Exact(
            "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2"
                .into(),
        ),
    )];
    let now = SystemTime::now();

    // The built-in trusted root, parsed (once per process in the CLI).
    let roots = n.min(500);
    let t = Instant::now();
    for _ in 0..roots {
        std::hint::black_box(Sigstore::public_good().unwrap());
    }
    let root_parse = t.elapsed();
    let sigstore = Sigstore::public_good().unwrap();
    let evidence: [&dyn EvidenceSource; 1] = [&sigstore];
    let run = |with_evidence: bool| {
        let mut inputs = Inputs::new(Some(&sigstore), now);
        inputs.identities = &identities;
        if with_evidence {
            inputs.evidence = &evidence;
        }
        let facts = gather(&bundle, &inputs);
        let mut report = Report::default();
        authenticate_facts(facts, &mut report)
    };
    // Sanity: it verifies (and without the log entry, it must not).
    run(true).expect("the public-good bundle verifies");
    assert!(run(false).is_err(), "keyless without evidence must fail");

    // Warm-up, then the full check.
    for _ in 0..50 {
        std::hint::black_box(run(true).unwrap());
    }
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(run(true).unwrap());
    }
    let full = t.elapsed();

    // Parsing alone (strict JSON, base64, certificates read).
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(modelseal_verifier::ParsedBundle::parse(&bundle).unwrap());
    }
    let parse = t.elapsed();

    println!(
        "Sigstore keyless bundle ({} bytes), {n} runs, release build:",
        bundle.len()
    );
    println!("| step | per bundle |");
    println!("| --- | --- |");
    println!(
        "| trusted root parse (built-in public-good, once per process) | {} |",
        per(root_parse, roots)
    );
    println!("| bundle parse only | {} |", per(parse, n));
    println!(
        "| full check beyond hashing (parse, tlog entry: body, SET, inclusion proof, checkpoint; Fulcio chain at the integrated time; SCT; DSSE signature; statement; identity) | {} |",
        per(full, n)
    );
    println!(
        "| full check + trusted root parse (a one-shot CLI run) | {:.3} ms |",
        (full.as_secs_f64() / f64::from(n) + root_parse.as_secs_f64() / f64::from(roots)) * 1000.0
    );
}
