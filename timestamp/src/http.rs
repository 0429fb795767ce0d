//! A minimal blocking HTTP/1.1 client for RFC 3161 over HTTP (RFC 3161
//! §3.4): one POST, `Connection: close`, a bounded reply within one
//! overall deadline.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use der::Decode;

use crate::asn1::TimeStampResp;
use crate::error::{Error, Malformation, TransportError, UrlError};
use crate::request::Request;
use crate::token::Token;

/// Default deadline for one TSA exchange (connect, send, receive).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest HTTP reply read (headers and body).
pub const MAX_REPLY_BYTES: usize = 256 * 1024;

struct Url<'a> {
    host: &'a str,
    port: u16,
    path: &'a str,
}

fn parse_url(url: &str) -> Result<Url<'_>, Error> {
    let bad = |reason: UrlError| Error::Url {
        url: url.to_owned(),
        reason,
    };
    let rest = if let Some(rest) = url.strip_prefix("http://") {
        rest
    } else if url.starts_with("https://") {
        return Err(bad(UrlError::Https));
    } else {
        return Err(bad(UrlError::NotHttp));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.contains('@') {
        return Err(bad(UrlError::Credentials));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, tail) = v6
            .split_once(']')
            .ok_or_else(|| bad(UrlError::UnclosedBracket))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad(UrlError::BadPort))?,
            None if tail.is_empty() => 80,
            None => return Err(bad(UrlError::BadHost)),
        };
        (h, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad(UrlError::BadPort))?),
            None => (authority, 80),
        }
    };
    if host.is_empty()
        || path.bytes().any(|b| b.is_ascii_control() || b == b' ')
        || host.bytes().any(|b| b.is_ascii_control() || b == b' ')
    {
        return Err(bad(UrlError::BadHostOrPath));
    }
    Ok(Url { host, port, path })
}

/// Ask the TSA at `url` for a timestamp token over `request`'s message,
/// within `timeout`. The reply is checked as the crate documentation's
/// signing side says (granted, imprint, nonce, the token's own signature);
/// the TSA's chain is not judged.
///
/// # Errors
/// [`Error::Url`], [`Error::Transport`] (unreachable, timeout, HTTP error,
/// oversized reply), [`Error::Refused`], and the token errors of
/// [`Token::from_der`] and the checks.
pub fn request_timestamp(url: &str, request: &Request, timeout: Duration) -> Result<Token, Error> {
    let parsed = parse_url(url)?;
    let transport = |reason: TransportError| Error::Transport {
        url: url.to_owned(),
        reason,
    };
    let deadline = Instant::now() + timeout;
    let body = exchange(&parsed, request.to_der(), deadline).map_err(transport)?;
    let resp = TimeStampResp::from_der(&body)?;
    if resp.status.status > 1 {
        return Err(Error::Refused {
            status: resp.status.status,
            text: resp.status.status_string.map(|s| s.join("; ")),
        });
    }
    let token_any = resp
        .time_stamp_token
        .ok_or(Error::Malformed(Malformation::NoToken))?;
    let token = Token::from_der(&der::Encode::to_der(&token_any)?)?;
    token.check_imprint_digest(request.imprint())?;
    token.check_nonce(request.nonce())?;
    crate::verify::verify_signature(&token, &[])?;
    Ok(token)
}

fn remaining(deadline: Instant) -> Result<Duration, TransportError> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or(TransportError::TimedOut)
}

/// POST `body`, return the reply body of a 200 answer.
fn exchange(url: &Url<'_>, body: &[u8], deadline: Instant) -> Result<Vec<u8>, TransportError> {
    let addrs: Vec<_> = (url.host, url.port)
        .to_socket_addrs()
        .map_err(|source| TransportError::Resolve {
            host: url.host.to_owned(),
            source,
        })?
        .collect();
    let mut last = TransportError::NoAddress {
        host: url.host.to_owned(),
    };
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(source) => last = TransportError::Connect { addr, source },
        }
    }
    let mut stream = stream.ok_or(last)?;
    let host_header = if url.port == 80 {
        url.host.to_owned()
    } else if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {host_header}\r\nContent-Type: application/timestamp-query\r\nAccept: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: modelseal\r\n\r\n",
        url.path,
        body.len()
    );
    stream
        .set_write_timeout(Some(remaining(deadline)?))
        .map_err(TransportError::Socket)?;
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body))
        .map_err(TransportError::Send)?;

    let mut reply = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        stream
            .set_read_timeout(Some(remaining(deadline)?))
            .map_err(TransportError::Socket)?;
        let n = match stream.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(TransportError::TimedOut);
            }
            Err(e) => return Err(TransportError::Read(e)),
        };
        if n == 0 {
            break;
        }
        if reply.len() + n > MAX_REPLY_BYTES {
            return Err(TransportError::TooLarge(MAX_REPLY_BYTES));
        }
        reply.extend_from_slice(&buf[..n]);
        if let Some(body) = complete_body(&reply)? {
            return Ok(body);
        }
    }
    complete_body(&reply)?
        .or_else(|| eof_body(&reply))
        .ok_or(TransportError::Incomplete)
}

/// The header block's end, the status code and the headers.
fn split_head(reply: &[u8]) -> Option<(usize, &[u8])> {
    reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i + 4, &reply[..i]))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The body, once the reply holds all of it (`Content-Length` or chunked);
/// `None` while more must be read. An error for a non-200 status.
fn complete_body(reply: &[u8]) -> Result<Option<Vec<u8>>, TransportError> {
    let Some((start, head)) = split_head(reply) else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(head);
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(TransportError::StatusLine(status_line.to_owned()));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(TransportError::StatusLine(status_line.to_owned()));
    }
    if code != "200" {
        return Err(TransportError::Status(
            status_line.chars().take(120).collect(),
        ));
    }
    let body = &reply[start..];
    if header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        return dechunk(body);
    }
    match header(&head, "content-length") {
        Some(len) => {
            let len: usize = len.parse().map_err(|_| TransportError::ContentLength)?;
            if len > MAX_REPLY_BYTES {
                return Err(TransportError::TooLarge(MAX_REPLY_BYTES));
            }
            Ok((body.len() >= len).then(|| body[..len].to_vec()))
        }
        None => Ok(None),
    }
}

/// A reply without length, delimited by the connection's close.
fn eof_body(reply: &[u8]) -> Option<Vec<u8>> {
    let (start, head) = split_head(reply)?;
    let head = String::from_utf8_lossy(head);
    (header(&head, "content-length").is_none() && header(&head, "transfer-encoding").is_none())
        .then(|| reply[start..].to_vec())
}

/// Decode a chunked body; `None` until the last chunk has arrived.
fn dechunk(mut body: &[u8]) -> Result<Option<Vec<u8>>, TransportError> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| TransportError::ChunkSize)?;
        if size > MAX_REPLY_BYTES {
            return Err(TransportError::ChunkSize);
        }
        let rest = &body[eol + 2..];
        if size == 0 {
            return Ok(Some(out));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&rest[..size]);
        body = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("http://tsa.example:8080/ts").unwrap();
        assert_eq!((u.host, u.port, u.path), ("tsa.example", 8080, "/ts"));
        let u = parse_url("http://127.0.0.1").unwrap();
        assert_eq!((u.host, u.port, u.path), ("127.0.0.1", 80, "/"));
        let u = parse_url("http://[::1]:9/x").unwrap();
        assert_eq!((u.host, u.port, u.path), ("::1", 9, "/x"));
        for (bad, why) in [
            ("https://tsa.example/", UrlError::Https),
            ("ftp://x", UrlError::NotHttp),
            ("http://", UrlError::BadHostOrPath),
            ("http://u:p@host/", UrlError::Credentials),
            ("http://host:99999/", UrlError::BadPort),
            ("http://[::1/", UrlError::UnclosedBracket),
            ("http://[::1]x/", UrlError::BadHost),
            ("http://host/a b", UrlError::BadHostOrPath),
            ("http://host/\r\nX: y", UrlError::BadHostOrPath),
        ] {
            match parse_url(bad) {
                Err(Error::Url { reason, .. }) => assert_eq!(reason, why, "{bad}"),
                other => panic!("{bad}: {:?}", other.map(|u| u.host)),
            }
        }
    }

    #[test]
    fn bodies() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(complete_body(r).unwrap(), Some(b"abc".to_vec()));
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabc";
        assert_eq!(complete_body(r).unwrap(), None);
        let r =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        assert_eq!(complete_body(r).unwrap(), Some(b"abc".to_vec()));
        let r = b"HTTP/1.0 200 OK\r\n\r\nabc";
        assert_eq!(complete_body(r).unwrap(), None);
        assert_eq!(eof_body(r), Some(b"abc".to_vec()));
        let r = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(
            complete_body(r),
            Err(TransportError::Status(line)) if line == "HTTP/1.1 500 Internal Server Error"
        ));
        assert!(matches!(
            complete_body(b"SMTP 200 OK\r\n\r\n"),
            Err(TransportError::StatusLine(_))
        ));
        assert!(matches!(
            complete_body(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
            Err(TransportError::ContentLength)
        ));
        assert!(matches!(
            complete_body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            Err(TransportError::ChunkSize)
        ));
    }
}
