//! `audit append --syslog` (and `sign`, `verify --syslog`) against a real rsyslogd with a TLS listener on
//! 127.0.0.1 (certificates made at test time with the openssl CLI).
//!
//! Fails with what to install when rsyslogd, its GnuTLS driver or openssl is
//! missing: `./test.sh` installs them (`.ci/deps/rsyslog.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn find_rsyslogd() -> Result<PathBuf, String> {
    let rsyslogd = [
        "/usr/sbin/rsyslogd",
        "/sbin/rsyslogd",
        "/usr/local/sbin/rsyslogd",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .ok_or("rsyslogd not found")?;
    let gtls = fs::read_dir("/usr/lib")
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|d| d.path().join("rsyslog/lmnsd_gtls.so"))
        .chain([PathBuf::from("/usr/lib/rsyslog/lmnsd_gtls.so")])
        .any(|p| p.exists());
    if !gtls {
        return Err("rsyslog's GnuTLS driver (rsyslog-gnutls) not found".into());
    }
    let openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !openssl {
        return Err("the openssl CLI (to make test certificates) not found".into());
    }
    Ok(rsyslogd)
}

fn sh(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA (`NAME-ca.pem`) and, when `server`, a server certificate for
/// 127.0.0.1 signed by it (`NAME-srv.pem`, `NAME-srv.key`).
fn make_ca(dir: &Path, name: &str, server: bool) {
    let ca_key = format!("{name}-ca.key");
    let ca = format!("{name}-ca.pem");
    sh(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &ca_key,
            "-out",
            &ca,
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test CA"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    if !server {
        return;
    }
    fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let (key, csr, crt) = (
        format!("{name}-srv.key"),
        format!("{name}-srv.csr"),
        format!("{name}-srv.pem"),
    );
    sh(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    sh(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &crt,
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

struct Rsyslog(Child);

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_rsyslog(rsyslogd: &Path, dir: &Path, port: u16, out: &Path) -> Rsyslog {
    let d = dir.display();
    let conf = format!(
        r#"global(workDirectory="{d}" maxMessageSize="64k"
       DefaultNetstreamDriver="gtls"
       DefaultNetstreamDriverCAFile="{d}/good-ca.pem"
       DefaultNetstreamDriverCertFile="{d}/good-srv.pem"
       DefaultNetstreamDriverKeyFile="{d}/good-srv.key")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="msgonly" type="string" string="%msg%\n")
ruleset(name="audit") {{ action(type="omfile" file="{}" template="msgonly") }}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="audit")
"#,
        out.display()
    );
    fs::write(dir.join("rsyslog.conf"), conf).unwrap();
    let log = fs::File::create(dir.join("rsyslogd.out")).unwrap();
    let child = Command::new(rsyslogd)
        .args(["-n", "-f"])
        .arg(dir.join("rsyslog.conf"))
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let r = Rsyslog(child);
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "rsyslogd did not listen: {}",
            fs::read_to_string(dir.join("rsyslogd.out")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    r
}

fn append(dir: &Path, i: usize, port: u16, ca: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modelseal"))
        .current_dir(dir)
        .args([
            "audit",
            "append",
            "--log",
            "audit.log",
            "--key",
            "keys/writer.key",
        ])
        .args([
            "--user",
            &format!("user-{i}"),
            "--action",
            "model.gate",
            "--ip",
            "127.0.0.1",
        ])
        .args([
            "--result",
            if i.is_multiple_of(2) {
                "success"
            } else {
                "failure"
            },
        ])
        .args([
            "--reason",
            &format!("record #{i}: \"quoted\", é, tab\there"),
        ])
        .args(["--resource", "/models/m"])
        .args(["--syslog", &format!("127.0.0.1:{port}"), "--syslog-ca", ca])
        .args(["--syslog-timeout", "5"])
        .output()
        .unwrap()
}

fn verify_records(dir: &Path, log: &str) -> u64 {
    let o = Command::new(env!("CARGO_BIN_EXE_modelseal"))
        .current_dir(dir)
        .args([
            "audit",
            "verify",
            "--log",
            log,
            "--key",
            "keys/verifier.key",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["records"].as_u64().unwrap()
}

fn lines(p: &Path) -> Vec<String> {
    fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn records_reach_rsyslog_over_tls_intact_and_failures_keep_them_locally() {
    let rsyslogd = find_rsyslogd().unwrap_or_else(|why| {
        panic!(
            "{why}: run ./test.sh, or `bash .ci/deps/rsyslog.sh` (rsyslog, rsyslog-gnutls, openssl)"
        )
    });
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    make_ca(dir, "good", true);
    make_ca(dir, "other", false);
    let o = Command::new(env!("CARGO_BIN_EXE_modelseal"))
        .current_dir(dir)
        .args(["audit", "keygen", "--out", "keys"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let received = dir.join("received.log");
    let server = start_rsyslog(&rsyslogd, dir, port, &received);

    for i in 0..5 {
        let o = append(dir, i, port, "good-ca.pem");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let start = Instant::now();
    while lines(&received).len() < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "rsyslog wrote {:?}",
            lines(&received)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // sign and verify deliver their decision records the same way.
    fs::write(dir.join("model.bin"), b"weights").unwrap();
    let key = dir.join("signing.pem");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys/p256.pkcs8.pem"),
        &key,
    )
    .unwrap();
    fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys/p256.pub.pem");
    let port_s = format!("127.0.0.1:{port}");
    let deliver = [
        "--audit-log",
        "audit.log",
        "--audit-key",
        "keys/writer.key",
        "--syslog",
        &port_s,
        "--syslog-ca",
        "good-ca.pem",
        "-q",
    ];
    for cmd in [
        vec!["sign", "model.bin", "--key", key.to_str().unwrap()],
        vec![
            "verify",
            "model.bin",
            "--public-key",
            public.to_str().unwrap(),
        ],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_modelseal"))
            .current_dir(dir)
            .args(&cmd)
            .args(deliver)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let start = Instant::now();
    while lines(&received).len() < 7 {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "rsyslog wrote {:?}",
            lines(&received)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // rsyslog wrote exactly our lines, and what it holds verifies as a log.
    assert_eq!(lines(&received), lines(&dir.join("audit.log")));
    assert_eq!(verify_records(dir, "received.log"), 7);
    assert!(lines(&received)[6].contains("\"action\":\"model.verify\""));

    // A collector whose certificate the given CA did not issue.
    let o = append(dir, 7, port, "other-ca.pem");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("record 7 is kept in audit.log but was not delivered")
            && err.contains("handshaking")
            && err.contains("UnknownIssuer"),
        "{err}"
    );

    // A collector that is down.
    drop(server);
    let o = append(dir, 8, port, "good-ca.pem");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("record 8 is kept in audit.log but was not delivered"),
        "{err}"
    );

    // Nothing was dropped locally, and nothing undelivered reached rsyslog.
    assert_eq!(verify_records(dir, "audit.log"), 9);
    assert_eq!(lines(&received).len(), 7);
}
