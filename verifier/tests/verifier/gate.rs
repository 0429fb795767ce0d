//! The gate's library API: streaming with the verdict before commit, sealed
//! copies that nothing can change, the view directory, and models that
//! change while they are read.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::{BufRead, ErrorKind, Read};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use modelseal_manifest::HashOptions;
use modelseal_manifest::{Method, ModelError, ResourceKey, ResourcePath};
use modelseal_signer::{RsaScheme, SignOptions, SigningKey};
use modelseal_verifier::{
    Authenticated, CheckName, Error, GateError, PublicKey, Report, Status, Trust,
};
use modelseal_verifier::{Gate, LoadError, ModelView};
use modelseal_verifier::{IdentityRequirement, Options};

use modelseal_testkit::fixture;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A model directory: `config.json`, a 1 MiB `weights.bin`, `sub/empty`.
fn model() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("config.json"), br#"{"layers":2}"#).unwrap();
    fs::write(d.path().join("weights.bin"), pattern(1 << 20, 7)).unwrap();
    fs::create_dir(d.path().join("sub")).unwrap();
    fs::write(d.path().join("sub/empty"), b"").unwrap();
    d
}

fn trust() -> Trust {
    let pem = fs::read(fixture("keys/ed25519.pub.pem")).unwrap();
    Trust::PublicKey(PublicKey::from_pem(&pem).unwrap())
}

/// Sign `model` with the Ed25519 test key; returns the bundle's JSON.
fn sign(model: &Path, method: Method) -> Vec<u8> {
    let pem = fs::read(fixture("keys/ed25519.pkcs8.pem")).unwrap();
    let key = SigningKey::from_pem(&pem, None, RsaScheme::default()).unwrap();
    let opts = SignOptions {
        method,
        ..SignOptions::new(&key)
    };
    modelseal_signer::sign(model, &opts)
        .unwrap()
        .bundle
        .to_json()
}

fn options(trust: &Trust) -> Options<'_> {
    let mut opts = Options::new(trust, IdentityRequirement::Any, SystemTime::now());
    opts.hash = HashOptions {
        threads: Some(2),
        buffer_size: 64 * 1024,
        ..HashOptions::default()
    };
    opts
}

fn authenticated(bundle: &[u8], trust: &Trust) -> Authenticated {
    modelseal_verifier::authenticate_bytes(bundle, &options(trust), &mut Report::default()).unwrap()
}

fn gate(model: &Path, bundle: &[u8], trust: &Trust) -> Result<Gate, Error> {
    let opts = options(trust);
    Gate::open(
        authenticated(bundle, trust),
        model,
        &opts,
        &mut Report::default(),
    )
}

fn rp(s: &str) -> ResourcePath {
    ResourcePath::new(s).unwrap()
}

fn changed(err: &Error) -> Vec<String> {
    match err {
        Error::Integrity(d) => d.changed.iter().map(ResourceKey::name).collect(),
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
}

#[test]
fn streaming_yields_exactly_the_signed_bytes_then_the_verdict() {
    for method in [
        Method::Files,
        Method::Shards {
            shard_size: 100_000,
        },
    ] {
        let m = model();
        let bundle = sign(m.path(), method);
        let t = trust();
        let g = gate(m.path(), &bundle, &t).unwrap();
        let mut r = g.stream(&rp("weights.bin")).unwrap();
        assert_eq!(r.file().path(), &rp("weights.bin"));
        assert_eq!(r.file().len(), 1 << 20);
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!(got, pattern(1 << 20, 7));
        let proof = r.finish().unwrap();
        assert_eq!(proof.path().as_str(), "weights.bin");
        assert_eq!(proof.bytes(), 1 << 20);

        // Small and empty files take the inline path.
        let mut cfg = String::new();
        g.stream(&rp("config.json"))
            .unwrap()
            .read_to_string(&mut cfg)
            .unwrap();
        assert_eq!(cfg, r#"{"layers":2}"#);
        let empty = g.stream(&rp("sub/empty")).unwrap();
        assert!(empty.file().is_empty());
        assert_eq!(empty.finish().unwrap().bytes(), 0);
    }
}

#[test]
fn a_small_file_cut_into_many_shards_streams_without_deadlock() {
    let m = model();
    fs::write(m.path().join("small.bin"), pattern(20_000, 5)).unwrap();
    let bundle = sign(m.path(), Method::Shards { shard_size: 1024 });
    let (tx, rx) = std::sync::mpsc::channel();
    let dir = m.path().to_owned();
    std::thread::spawn(move || {
        let t = trust();
        let g = gate(&dir, &bundle, &t).unwrap();
        let mut got = Vec::new();
        let mut r = g.stream(&rp("small.bin")).unwrap();
        r.read_to_end(&mut got).unwrap();
        tx.send((got, r.finish().map(|p| p.bytes()))).unwrap();
    });
    let (got, verdict) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("streaming 20 shards of a small file hung");
    assert_eq!(got, pattern(20_000, 5));
    assert_eq!(verdict.unwrap(), 20_000);
}

#[test]
fn a_tampered_file_is_consumed_but_never_committed() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    let mut w = pattern(1 << 20, 7);
    w[(1 << 20) - 1] ^= 1; // the very last byte
    fs::write(m.path().join("weights.bin"), &w).unwrap();
    let t = trust();
    let g = gate(m.path(), &bundle, &t).unwrap();

    // A loader that reads everything: the end-of-file read is the error.
    let mut r = g.stream(&rp("weights.bin")).unwrap();
    let mut got = Vec::new();
    let err = r.read_to_end(&mut got).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains("weights.bin"), "{err}");
    assert_eq!(
        got.len(),
        1 << 20,
        "every byte was streamed before the verdict"
    );
    assert_eq!(changed(&r.finish().unwrap_err()), ["weights.bin"]);

    // A loader that swallows errors and builds something anyway: load()
    // drops what it made.
    let consumed = AtomicBool::new(false);
    let out = g.load(&rp("weights.bin"), |r| {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            consumed.store(true, Ordering::Relaxed);
        }
        Ok::<_, std::io::Error>("a model built from tampered bytes")
    });
    assert!(consumed.load(Ordering::Relaxed));
    match out {
        Err(LoadError::Rejected(e)) => assert_eq!(changed(&e), ["weights.bin"]),
        other => panic!("expected a rejection, got {other:?}"),
    }

    // The untouched file still loads.
    let cfg = g
        .load(&rp("config.json"), |r| {
            let mut s = String::new();
            r.read_to_string(&mut s).map(|_| s)
        })
        .unwrap();
    assert_eq!(cfg, r#"{"layers":2}"#);
}

#[test]
fn a_loader_that_stops_early_still_gets_the_verdict_on_the_rest() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    let t = trust();
    let g = gate(m.path(), &bundle, &t).unwrap();
    // Reads only the first bytes of a good file: verified.
    let head = g
        .load(&rp("weights.bin"), |r| {
            let mut head = [0u8; 8];
            r.read_exact(&mut head).map(|()| head)
        })
        .unwrap();
    assert_eq!(head[..], pattern(8, 7)[..]);

    // The same on a file tampered past what the loader read: rejected.
    let f = fs::OpenOptions::new()
        .write(true)
        .open(m.path().join("weights.bin"))
        .unwrap();
    f.write_all_at(b"X", 900_000).unwrap();
    let err = g
        .load(&rp("weights.bin"), |r| {
            let mut head = [0u8; 8];
            r.read_exact(&mut head).map(|()| head)
        })
        .unwrap_err();
    assert!(matches!(&err, LoadError::Rejected(e) if changed(e) == ["weights.bin"]));
}

#[test]
fn shards_fail_at_the_first_bad_shard_before_the_end() {
    let m = model();
    let bundle = sign(m.path(), Method::Shards { shard_size: 65_536 });
    let f = fs::OpenOptions::new()
        .write(true)
        .open(m.path().join("weights.bin"))
        .unwrap();
    f.write_all_at(b"X", 10).unwrap();
    let t = trust();
    let g = gate(m.path(), &bundle, &t).unwrap();
    let mut r = g.stream(&rp("weights.bin")).unwrap();
    let mut total = 0usize;
    let err = loop {
        match r.fill_buf() {
            Ok([]) => panic!("reached the end of a tampered file"),
            Ok(b) => {
                let n = b.len();
                r.consume(n);
                total += n;
            }
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(total < 1 << 20, "failed after {total} bytes");
    assert_eq!(changed(&r.finish().unwrap_err()), ["weights.bin:0:65536"]);
}

#[test]
fn a_hashing_reader_hashes_the_callers_own_buffer() {
    for method in [
        Method::Files,
        Method::Shards {
            shard_size: 100_000,
        },
    ] {
        let m = model();
        let bundle = sign(m.path(), method);
        let t = trust();
        let g = gate(m.path(), &bundle, &t).unwrap();
        // Reads of odd sizes, crossing chunk and shard boundaries.
        let mut r = g.reader(&rp("weights.bin")).unwrap();
        assert_eq!(r.file().len(), 1 << 20);
        let mut got = vec![0u8; 1 << 20];
        let mut at = 0;
        while at < got.len() {
            let end = (at + 77_777).min(got.len());
            let n = r.read(&mut got[at..end]).unwrap();
            assert!(n > 0);
            at += n;
        }
        assert_eq!(r.read(&mut [0u8; 16]).unwrap(), 0, "end after the verdict");
        assert_eq!(got, pattern(1 << 20, 7));
        assert_eq!(r.finish().unwrap().bytes(), 1 << 20);

        // An empty file is verified before any read.
        let mut empty = g.reader(&rp("sub/empty")).unwrap();
        assert_eq!(empty.read(&mut [0u8; 4]).unwrap(), 0);
        empty.finish().unwrap();

        // A loader that reads only the head: finish() hashes the rest.
        let head = g
            .load_direct(&rp("weights.bin"), |r| {
                let mut head = [0u8; 8];
                r.read_exact(&mut head).map(|()| head)
            })
            .unwrap();
        assert_eq!(head[..], pattern(8, 7)[..]);
    }
}

#[test]
fn a_hashing_reader_never_says_yes_to_changed_bytes() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    let t = trust();
    let g = gate(m.path(), &bundle, &t).unwrap();
    let path = m.path().join("weights.bin");
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(b"X", 900_000).unwrap();

    // Every byte read, the last read is the error, and so is finish().
    let mut r = g.reader(&rp("weights.bin")).unwrap();
    let mut got = Vec::new();
    let err = r.read_to_end(&mut got).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains("weights.bin"), "{err}");
    assert_eq!(changed(&r.finish().unwrap_err()), ["weights.bin"]);

    // A loader that reads only the untouched head is still refused.
    let err = g
        .load_direct(&rp("weights.bin"), |r| {
            let mut head = [0u8; 8];
            r.read_exact(&mut head).map(|()| head)
        })
        .unwrap_err();
    assert!(matches!(&err, LoadError::Rejected(e) if changed(e) == ["weights.bin"]));

    // Shards: refused at the bad shard, long before the end.
    let bundle = sign(m.path(), Method::Shards { shard_size: 65_536 });
    f.write_all_at(b"Y", 10).unwrap();
    let g = gate(m.path(), &bundle, &t).unwrap();
    let mut r = g.reader(&rp("weights.bin")).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0;
    let err = loop {
        match r.read(&mut buf[total..]) {
            Ok(0) => panic!("reached the end of a tampered file"),
            Ok(n) => total += n,
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(total < 1 << 20, "failed after {total} bytes");
    assert_eq!(changed(&r.finish().unwrap_err()), ["weights.bin:0:65536"]);

    // A file that grew or shrank after the gate listed it.
    fs::write(&path, pattern((1 << 20) + 1, 7)).unwrap();
    let err = g.reader(&rp("weights.bin")).unwrap_err();
    assert!(
        matches!(err, Error::Model(ModelError::Changed { .. })),
        "{err:?}"
    );
}

#[test]
fn files_that_change_size_or_are_not_signed_are_refused() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    let t = trust();
    let g = gate(m.path(), &bundle, &t).unwrap();
    fs::write(m.path().join("config.json"), b"{}").unwrap();
    match g.stream(&rp("config.json")).unwrap_err() {
        Error::Model(ModelError::Changed {
            expected: 12,
            found: 2,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    match g.stream(&rp("missing.bin")).unwrap_err() {
        Error::Gate(GateError::NotSigned { path }) => assert_eq!(path, "missing.bin"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn load_all_returns_everything_with_the_proof_or_nothing() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    let t = trust();
    let mut report = Report::default();
    let g = gate(m.path(), &bundle, &t).unwrap();
    let loaded = g
        .load_all(&mut report, |r| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).map(|_| v.len())
        })
        .unwrap();
    assert_eq!(loaded.verified.bytes(), 12 + (1 << 20));
    let sizes: Vec<_> = loaded.files.iter().map(|(p, n)| (p.as_str(), *n)).collect();
    assert_eq!(
        sizes,
        [
            ("config.json", 12),
            ("sub/empty", 0),
            ("weights.bin", 1 << 20)
        ]
    );
    assert_eq!(report.status(CheckName::Digests), Some(Status::Pass));

    fs::write(m.path().join("sub/empty"), b"").unwrap();
    fs::write(m.path().join("config.json"), br#"{"layers":3}"#).unwrap();
    let mut report = Report::default();
    let g = gate(m.path(), &bundle, &t).unwrap();
    let err = g
        .load_all(&mut report, |r| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).map(|_| v)
        })
        .unwrap_err();
    assert!(matches!(&err, LoadError::Rejected(e) if changed(e) == ["config.json"]));
    assert_eq!(report.status(CheckName::Digests), Some(Status::Fail));
}

#[test]
fn sealed_copies_hold_the_signed_bytes_and_cannot_change() {
    let m = model();
    let bundle = sign(
        m.path(),
        Method::Shards {
            shard_size: 300_000,
        },
    );
    let t = trust();
    let mut report = Report::default();
    let sealed = gate(m.path(), &bundle, &t)
        .unwrap()
        .seal(&HashOptions::default(), &mut report)
        .unwrap();
    assert_eq!(report.status(CheckName::Digests), Some(Status::Pass));
    assert_eq!(sealed.verified().bytes(), 12 + (1 << 20));
    let w = sealed.get(&rp("weights.bin")).unwrap();
    assert_eq!(w.len(), 1 << 20);

    // The model store changes afterwards: the copy does not.
    fs::write(m.path().join("weights.bin"), pattern(1 << 20, 99)).unwrap();
    let mut got = Vec::new();
    w.reopen().unwrap().read_to_end(&mut got).unwrap();
    assert_eq!(got, pattern(1 << 20, 7));

    // Nobody can change the copy: not through the gate's descriptor, not by
    // reopening it, not by resizing it.
    assert_eq!(
        w.file().write_at(b"X", 0).unwrap_err().raw_os_error(),
        Some(1) // EPERM
    );
    assert!(w.file().set_len(0).is_err());
    assert!(w.file().set_len(2 << 20).is_err());
    let rw = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(format!("/proc/self/fd/{}", {
            use std::os::fd::AsRawFd;
            w.file().as_raw_fd()
        }));
    if let Ok(rw) = rw {
        // root may open it for writing despite mode 0400; the seal holds.
        assert!(rw.write_at(b"X", 0).is_err());
    }
    let seals = w.seals().unwrap();
    use rustix::fs::SealFlags;
    assert!(
        seals.contains(SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)
    );
    assert_eq!(
        w.file().metadata().unwrap().permissions().mode() & 0o777,
        0o400
    );
}

#[test]
fn sealing_names_every_tampered_file_and_keeps_nothing() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    fs::write(m.path().join("config.json"), br#"{"layers":3}"#).unwrap();
    let f = fs::OpenOptions::new()
        .write(true)
        .open(m.path().join("weights.bin"))
        .unwrap();
    f.write_all_at(b"X", 123_456).unwrap();
    let t = trust();
    let mut report = Report::default();
    let err = gate(m.path(), &bundle, &t)
        .unwrap()
        .seal(&HashOptions::default(), &mut report)
        .unwrap_err();
    assert_eq!(changed(&err), ["config.json", "weights.bin"]);
    assert_eq!(report.status(CheckName::Digests), Some(Status::Fail));
}

#[test]
fn the_seal_limit_refuses_before_reading_and_bounds_one_file() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    // A sparse file in place of the signed one: files mode signs no size.
    let weights = m.path().join("weights.bin");
    fs::remove_file(&weights).unwrap();
    fs::File::create(&weights)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let t = trust();
    let g = gate(m.path(), &bundle, &t).unwrap();
    let too_large = |e: Error| match e {
        Error::Gate(GateError::TooLarge { bytes, limit, why }) => (bytes, limit, why),
        e => panic!("{e}"),
    };
    let limit = 2 << 20;
    let g = g.with_seal_limit(limit);
    g.check_fits(limit).unwrap();
    assert_eq!(
        too_large(g.check_fits(1 << 40).unwrap_err()),
        (1 << 40, limit, "the limit given")
    );
    let mut report = Report::default();
    let start = Instant::now();
    let err = g.seal(&HashOptions::default(), &mut report).unwrap_err();
    assert_eq!(too_large(err).0, (1 << 40) + 12);
    assert_eq!(report.status(CheckName::Digests), Some(Status::Fail));
    // Nothing read: a terabyte of zeros would take minutes.
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn the_view_leads_to_the_sealed_copies_only() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    // The signature inside the model is left out, as `verify` does.
    let sig = m.path().join("model.sig");
    fs::write(&sig, &bundle).unwrap();
    let t = trust();
    let mut opts = options(&t);
    opts.signature_file = Some(&sig);
    let sealed = Gate::open(
        authenticated(&bundle, &t),
        m.path(),
        &opts,
        &mut Report::default(),
    )
    .unwrap()
    .seal(&HashOptions::default(), &mut Report::default())
    .unwrap();
    let parent = tempfile::tempdir().unwrap();
    let view = ModelView::create(&sealed, parent.path()).unwrap();
    let dir = view.path().to_owned();
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    fs::write(m.path().join("weights.bin"), pattern(1 << 20, 1)).unwrap();
    assert_eq!(
        fs::read(dir.join("weights.bin")).unwrap(),
        pattern(1 << 20, 7)
    );
    assert_eq!(fs::read(dir.join("sub/empty")).unwrap(), b"");
    let mut names: Vec<_> = walk(&dir);
    names.sort();
    assert_eq!(names, ["config.json", "sub/empty", "weights.bin"]);
    assert!(fs::write(dir.join("config.json"), b"{}").is_err());
    view.remove().unwrap();
    assert!(!dir.exists());
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()).into_iter().map(|n| format!("{name}/{n}")));
        } else {
            out.push(name);
        }
    }
    out
}

#[test]
fn a_single_file_model_is_viewed_under_its_own_name() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("tiny.safetensors");
    fs::write(&file, b"weights").unwrap();
    let bundle = sign(&file, Method::Files);
    let t = trust();
    let sealed = gate(&file, &bundle, &t)
        .unwrap()
        .seal(&HashOptions::default(), &mut Report::default())
        .unwrap();
    assert_eq!(sealed.single_file_name(), Some("tiny.safetensors"));
    let view = ModelView::create(&sealed, d.path()).unwrap();
    assert_eq!(
        fs::read(view.path().join("tiny.safetensors")).unwrap(),
        b"weights"
    );
}

#[test]
fn a_whole_directory_swapped_after_open_is_not_read() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("model");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("weights.bin"), pattern(4096, 3)).unwrap();
    let bundle = sign(&dir, Method::Files);
    let t = trust();
    let g = gate(&dir, &bundle, &t).unwrap();
    // Swap the whole directory for one with other bytes of the same size.
    fs::rename(&dir, parent.path().join("old")).unwrap();
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("weights.bin"), pattern(4096, 4)).unwrap();
    let sealed = g
        .seal(&HashOptions::default(), &mut Report::default())
        .unwrap();
    let mut got = Vec::new();
    sealed.files()[0]
        .reopen()
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(
        got,
        pattern(4096, 3),
        "the gate reads the directory it listed"
    );
}

#[test]
fn a_file_swapped_for_a_symlink_is_not_followed() {
    let m = model();
    let bundle = sign(m.path(), Method::Files);
    let t = trust();
    let g = gate(m.path(), &bundle, &t).unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    fs::write(outside.path(), br#"{"layers":2}"#).unwrap();
    fs::remove_file(m.path().join("config.json")).unwrap();
    std::os::unix::fs::symlink(outside.path(), m.path().join("config.json")).unwrap();
    // Same bytes behind the link, still refused: no link is followed.
    match g.stream(&rp("config.json")).unwrap_err() {
        Error::Model(ModelError::Io { source, .. }) => {
            assert_eq!(source.raw_os_error(), Some(40), "ELOOP: {source}")
        }
        other => panic!("{other:?}"),
    }
}

/// A writer keeps rewriting a file between the signed bytes and others
/// (same size, then other sizes) while the gate streams and seals it. Every
/// outcome is a refusal or exactly the signed bytes, never a mix.
#[test]
fn a_concurrent_writer_never_gets_a_mix_through() {
    let m = model();
    let path = m.path().join("weights.bin");
    let good = pattern(1 << 20, 7);
    let bundle = sign(
        m.path(),
        Method::Shards {
            shard_size: 1 << 18,
        },
    );
    let t = trust();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, path, good) = (stop.clone(), path.clone(), good.clone());
        std::thread::spawn(move || {
            let evil = pattern(1 << 20, 8);
            let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // In-place rewrites of a region, same size.
                let off = (i * 77_777) % (1 << 20);
                let src = if i.is_multiple_of(2) { &evil } else { &good };
                let end = (off as usize + 50_000).min(1 << 20);
                f.write_all_at(&src[off as usize..end], off).unwrap();
                if i % 16 == 15 {
                    // Now and then: truncate and grow back.
                    f.set_len(1000).unwrap();
                    f.write_all_at(&good[1000..], 1000).unwrap();
                }
                i += 1;
            }
            // Leave the signed bytes behind.
            f.set_len(1 << 20).unwrap();
            f.write_all_at(&good, 0).unwrap();
            i
        })
    };
    let (mut ok, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(4);
    for round in 0u32.. {
        if Instant::now() > deadline || round >= 400 {
            break;
        }
        let Ok(g) = gate(m.path(), &bundle, &t) else {
            refused += 1;
            continue;
        };
        let got = if round.is_multiple_of(2) {
            g.load(&rp("weights.bin"), |r| {
                let mut v = Vec::new();
                r.read_to_end(&mut v).map(|_| v)
            })
            .ok()
        } else {
            g.seal(&HashOptions::default(), &mut Report::default())
                .ok()
                .map(|s| {
                    let mut v = Vec::new();
                    s.get(&rp("weights.bin"))
                        .unwrap()
                        .reopen()
                        .unwrap()
                        .read_to_end(&mut v)
                        .unwrap();
                    v
                })
        };
        match got {
            Some(bytes) => {
                assert!(bytes == good, "round {round}: unverified bytes got through");
                ok += 1;
            }
            None => refused += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().unwrap();
    eprintln!("{writes} writes, {ok} rounds verified, {refused} refused");
    assert!(
        writes > 0 && ok + refused > 10,
        "{writes} writes, {ok} ok, {refused} refused"
    );
    assert!(refused > 0, "the writer never disturbed a round ({ok} ok)");
}
