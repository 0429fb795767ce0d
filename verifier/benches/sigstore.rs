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
//! of bundles, default 2000). Prints CPU time per bundle (this thread's,
//! from /proc/thread-self/schedstat, so a loaded machine does not inflate
//! it) and wall time. Not a test: it only prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use modelseal_verifier::{
    CertInfo, EvidenceSource, Identity, Inputs, Matcher, ParsedBundle, Report, Sigstore,
    TrustAnchors, TrustContext, TrustSource, authenticate_facts, gather, validate_chain,
};

/// CPU time of this thread, nanoseconds.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Run `f` `n` times: milliseconds per run, CPU and wall.
fn time(n: u32, mut f: impl FnMut()) -> (f64, f64) {
    let (cpu, wall) = (cpu_ns(), Instant::now());
    for _ in 0..n {
        f();
    }
    let per = f64::from(n);
    (
        (cpu_ns() - cpu) as f64 / 1e6 / per,
        wall.elapsed().as_secs_f64() * 1e3 / per,
    )
}

fn row(what: &str, (cpu, wall): (f64, f64)) {
    println!("| {what} | {cpu:.3} ms | {wall:.3} ms |");
}

fn main() {
    let assets = modelseal_testkit::sigstore_assets();
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
    time(50, || {
        std::hint::black_box(run(true).unwrap());
    });

    let root = time(n.min(500), || {
        std::hint::black_box(Sigstore::public_good().unwrap());
    });
    let parse = time(n, || {
        std::hint::black_box(ParsedBundle::parse(&bundle).unwrap());
    });
    let parsed = ParsedBundle::parse(&bundle).unwrap();
    let examine = time(n, || {
        std::hint::black_box(sigstore.examine(&parsed, now));
    });
    let found = sigstore.examine(&parsed, now);
    let signed_at = found[0].time.clone().unwrap();
    let ctx = TrustContext {
        now,
        signed_at: &signed_at,
        crls: None,
        evidence: &found,
        identities: &identities,
    };
    assert!(sigstore.establish(&parsed, &ctx).trust.passed());
    let establish = time(n, || {
        std::hint::black_box(sigstore.establish(&parsed, &ctx));
    });
    // Inside keyless trust: the SCT and the Fulcio chain.
    let leaf = parsed.chain_der()[0].clone();
    let at = i64::try_from(signed_at.at.duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap();
    let path = |ca: &modelseal_verifier::TrustedRoot| {
        ca.cas_at(at)
            .map(|ca| {
                let anchors = TrustAnchors::from_der(&[ca.root().to_vec()]).unwrap();
                let mut ders = vec![leaf.clone()];
                ders.extend(ca.intermediates().iter().cloned());
                (ca.clone(), anchors, ders)
            })
            .find(|(_, anchors, ders)| validate_chain(ders, anchors, signed_at.at).is_ok())
            .unwrap()
    };
    let (ca, anchors, ders) = path(sigstore.root());
    let issuer = CertInfo::from_der(&ca.chain[0]).unwrap();
    let sct = time(n, || {
        std::hint::black_box(
            modelseal_sigstore::verify_sct(&leaf, &issuer.spki_der, sigstore.root()).unwrap(),
        );
    });
    let chain = time(n, || {
        std::hint::black_box(validate_chain(&ders, &anchors, signed_at.at).unwrap());
    });
    let full = time(n, || {
        std::hint::black_box(run(true).unwrap());
    });

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "Sigstore keyless bundle ({} bytes), {n} runs, release build, load average {}:\n",
        bundle.len(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("| step | CPU per bundle | wall per bundle |");
    println!("| --- | --- | --- |");
    row(
        "trusted root parse (built-in public-good; once per process)",
        root,
    );
    row("bundle parse (strict JSON, base64, certificates)", parse);
    row(
        "tlog entry (body, SET, inclusion proof, signed checkpoint)",
        examine,
    );
    row(
        "keyless trust (Fulcio chain at the integrated time, SCT, issuer)",
        establish,
    );
    row(
        "... of which the Fulcio chain (webpki: 2 ECDSA verifications)",
        chain,
    );
    row(
        "... of which the SCT (precertificate rebuilt, CT log key)",
        sct,
    );
    row(
        "**full check beyond hashing** (all of the above, DSSE signature, statement, identity)",
        full,
    );
    row(
        "full check + trusted root parse (one CLI run)",
        (full.0 + root.0, full.1 + root.1),
    );
}
