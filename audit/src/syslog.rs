//! Delivery to a SIEM: syslog over TLS (RFC 5425) with RFC 5424 messages.
//!
//! Each record is sent as one RFC 5424 message whose MSG is the record's
//! canonical JSON line, framed with RFC 5425 octet counting (`LEN SP MSG`)
//! over a TLS connection (rustls with the *ring* provider, TLS 1.2 or 1.3).
//! The collector's certificate must chain to the CA given in the
//! configuration and name the host that was dialled (DNS name or IP address).
//!
//! Header: `<PRI>1 TIMESTAMP HOSTNAME modelseal PROCID audit - MSG`, with
//! facility 13 (log audit), severity 5 (notice) for `success` and 4
//! (warning) for `failure`; TIMESTAMP is the record's `@timestamp`; HOSTNAME
//! its `host.name` with characters outside printable ASCII replaced by `_`.
//!
//! Syslog over TLS has no application-level acknowledgement: a send that
//! succeeded means the bytes reached the TLS stream, not that the collector
//! stored them. The local file stays the record of truth; callers append to
//! it before sending and report a failed delivery.

use crate::error::{Error, Result};
use crate::record::{Outcome, Record};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// RFC 5424 facility 13: log audit.
const FACILITY_LOG_AUDIT: u8 = 13;

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct SyslogConfig {
    /// `HOST:PORT` (`[v6addr]:PORT` for IPv6 literals).
    pub address: String,
    /// PEM certificates of the CA(s) the collector's certificate must chain to.
    pub ca_pem: Vec<u8>,
    /// PROCID field (e.g. the process id), `-` when unknown.
    pub procid: String,
    /// One deadline for the whole delivery: connecting, the TLS handshake,
    /// every send and the close of one [`SyslogSink`] together (not per
    /// read or write: a collector trickling bytes cannot stretch it).
    pub timeout: Duration,
}

/// An open TLS connection to a syslog collector.
pub struct SyslogSink {
    tls: StreamOwned<ClientConnection, DeadlineStream>,
    address: String,
    procid: String,
}

impl std::fmt::Debug for SyslogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyslogSink")
            .field("address", &self.address)
            .finish()
    }
}

/// A TCP stream whose every read and write waits at most until one fixed
/// deadline: each call gets the time left as its socket timeout and fails
/// with `TimedOut` once none is left.
struct DeadlineStream {
    sock: TcpStream,
    deadline: Instant,
}

impl DeadlineStream {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the syslog delivery deadline passed",
            ));
        }
        Ok(left)
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.sock.set_read_timeout(Some(left))?;
        self.sock.read(buf)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.sock.set_write_timeout(Some(left))?;
        self.sock.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sock.flush()
    }
}

fn split_host_port(address: &str) -> Result<(String, u16)> {
    let bad = || Error::SyslogConfig {
        detail: format!("address {address:?} is not HOST:PORT"),
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

impl SyslogSink {
    /// Connect, handshake and verify the collector's certificate. The
    /// configuration's timeout starts now and bounds this and every later
    /// send and the close together.
    ///
    /// # Errors
    /// [`Error::SyslogConfig`] for a bad address or CA file;
    /// [`Error::Syslog`] when the collector cannot be reached or the TLS
    /// handshake fails (including an untrusted certificate).
    pub fn connect(cfg: &SyslogConfig) -> Result<Self> {
        let (host, port) = split_host_port(&cfg.address)?;
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&cfg.ca_pem) {
            let cert = cert.map_err(|e| Error::SyslogConfig {
                detail: format!("CA file: {e}"),
            })?;
            roots.add(cert).map_err(|e| Error::SyslogConfig {
                detail: format!("CA certificate: {e}"),
            })?;
        }
        if roots.is_empty() {
            return Err(Error::SyslogConfig {
                detail: "the CA file holds no certificate".into(),
            });
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::SyslogConfig {
                detail: format!("TLS: {e}"),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let server_name = ServerName::try_from(host.clone()).map_err(|_| Error::SyslogConfig {
            detail: format!("{host:?} is neither a DNS name nor an IP address"),
        })?;
        let fail = |op: &'static str, detail: String| Error::Syslog {
            op,
            addr: cfg.address.clone(),
            detail,
        };
        let deadline = Instant::now() + cfg.timeout;
        let timed_out = || fail("connecting", "the delivery deadline passed".into());
        let addrs: Vec<_> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| fail("resolving", e.to_string()))?
            .collect();
        let mut last_err = String::from("no address");
        let mut tcp = None;
        for a in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            match TcpStream::connect_timeout(&a, left) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last_err = e.to_string(),
            }
        }
        let tcp = tcp.ok_or_else(|| fail("connecting", last_err))?;
        tcp.set_nodelay(true)
            .map_err(|e| fail("connecting", e.to_string()))?;
        let conn = ClientConnection::new(Arc::new(config), server_name)
            .map_err(|e| fail("handshaking", e.to_string()))?;
        let mut tls = StreamOwned::new(
            conn,
            DeadlineStream {
                sock: tcp,
                deadline,
            },
        );
        while tls.conn.is_handshaking() {
            tls.conn
                .complete_io(&mut tls.sock)
                .map_err(|e| fail("handshaking", e.to_string()))?;
        }
        Ok(Self {
            tls,
            address: cfg.address.clone(),
            procid: cfg.procid.clone(),
        })
    }

    /// Frame one message: `LEN SP <PRI>1 ...`.
    pub fn frame(record_line: &[u8], procid: &str) -> Result<Vec<u8>> {
        let line = record_line.strip_suffix(b"\n").unwrap_or(record_line);
        let rec = Record::parse(line).map_err(|e| Error::SyslogConfig {
            detail: format!("not a record: {e}"),
        })?;
        let severity = match rec.event.outcome {
            Outcome::Success => 5,
            Outcome::Failure => 4,
        };
        let pri = u16::from(FACILITY_LOG_AUDIT) * 8 + severity;
        let ts = crate::checkpoint::format_time(rec.event.timestamp)?;
        let host = header_token(&rec.event.host_name, 255);
        let procid = header_token(procid, 128);
        let mut msg = format!("<{pri}>1 {ts} {host} modelseal {procid} audit - ").into_bytes();
        msg.extend_from_slice(line);
        let mut framed = format!("{} ", msg.len()).into_bytes();
        framed.extend_from_slice(&msg);
        Ok(framed)
    }

    /// Send one record (its canonical line, with or without the newline).
    ///
    /// # Errors
    /// [`Error::Syslog`] when the connection fails; [`Error::SyslogConfig`]
    /// when the line is not a record.
    pub fn send(&mut self, record_line: &[u8]) -> Result<()> {
        let framed = Self::frame(record_line, &self.procid)?;
        self.tls
            .write_all(&framed)
            .and_then(|()| self.tls.flush())
            .map_err(|e| Error::Syslog {
                op: "sending",
                addr: self.address.clone(),
                detail: e.to_string(),
            })
    }

    /// Send TLS close_notify and close the connection.
    ///
    /// # Errors
    /// [`Error::Syslog`] when the close could not be sent.
    pub fn close(mut self) -> Result<()> {
        self.tls.conn.send_close_notify();
        self.tls.flush().map_err(|e| Error::Syslog {
            op: "closing",
            addr: self.address.clone(),
            detail: e.to_string(),
        })
    }
}

/// An RFC 5424 header field: printable ASCII without spaces, `-` if empty.
fn header_token(s: &str, max: usize) -> String {
    let t: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    if t.is_empty() { "-".into() } else { t }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        assert_eq!(
            split_host_port("127.0.0.1:6514").unwrap(),
            ("127.0.0.1".to_string(), 6514)
        );
        assert_eq!(
            split_host_port("[::1]:10514").unwrap(),
            ("::1".to_string(), 10514)
        );
        assert!(split_host_port("localhost").is_err());
        assert!(split_host_port("h:0").is_err());
        assert!(split_host_port(":514").is_err());
    }

    #[test]
    fn header_tokens_are_printable_ascii() {
        assert_eq!(header_token("build host é", 255), "build_host__");
        assert_eq!(header_token("", 255), "-");
    }

    #[test]
    fn a_trickling_collector_cannot_stretch_the_delivery_past_its_deadline() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // A TLS record header announcing 16 KiB of handshake, then one byte
        // every 200 ms: every read returns well within a per-read timeout.
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut hello = [0u8; 512];
            let _ = s.read(&mut hello);
            if s.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]).is_err() {
                return;
            }
            for _ in 0..150 {
                std::thread::sleep(Duration::from_millis(200));
                if s.write_all(&[0]).is_err() {
                    return;
                }
            }
        });
        let ca = include_bytes!("../../fixtures/pki/p256/root.pem");
        let cfg = SyslogConfig {
            address: addr.to_string(),
            ca_pem: ca.to_vec(),
            procid: "-".into(),
            timeout: Duration::from_secs(1),
        };
        let start = Instant::now();
        let err = SyslogSink::connect(&cfg).unwrap_err();
        let took = start.elapsed();
        assert!(matches!(err, Error::Syslog { .. }), "{err}");
        assert!(took < Duration::from_secs(3), "took {took:?}: {err}");
        assert!(err.to_string().contains("deadline"), "{err}");
        drop(server);
    }

    #[test]
    fn bad_ca_and_unreachable_collector_are_errors() {
        let cfg = SyslogConfig {
            address: "127.0.0.1:9".into(),
            ca_pem: b"not a pem".to_vec(),
            procid: "-".into(),
            timeout: Duration::from_secs(2),
        };
        assert!(matches!(
            SyslogSink::connect(&cfg),
            Err(Error::SyslogConfig { .. })
        ));
    }
}
