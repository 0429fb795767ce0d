//! RFC 3161 timestamps at signing time: each TSA vouches that the bundle's
//! signature existed, so that it still verifies after the signing
//! certificate expires (see modelseal-timestamp).

use std::time::{Duration, SystemTime};

use modelseal_manifest::Bundle;
use modelseal_timestamp::{Request, request_timestamp};

use crate::error::Error;

/// A timestamp added to a bundle (as the TSA said; the verifier judges it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    /// The TSA asked.
    pub url: String,
    /// The TSA's genTime.
    pub gen_time: SystemTime,
    /// The token's serial number, hex.
    pub serial: String,
}

/// Ask every TSA in `urls` for a timestamp over the bundle's signature
/// bytes and add the tokens to `bundle` (`rfc3161Timestamps`). Each reply
/// must carry our nonce and imprint and a signature that verifies with the
/// TSA certificate it carries. All or nothing: the bundle is changed only
/// when every TSA answered.
///
/// # Errors
/// [`Error::Timestamp`] naming the first TSA that failed, and how.
pub fn timestamp_bundle(
    bundle: &mut Bundle,
    urls: &[String],
    timeout: Duration,
) -> Result<Vec<Stamped>, Error> {
    let mut tokens = Vec::with_capacity(urls.len());
    let mut stamped = Vec::with_capacity(urls.len());
    for url in urls {
        let fail = |source| Error::Timestamp {
            url: url.clone(),
            source,
        };
        let request = Request::new(&bundle.envelope.signature).map_err(fail)?;
        let token = request_timestamp(url, &request, timeout).map_err(fail)?;
        stamped.push(Stamped {
            url: url.clone(),
            gen_time: token.gen_time(),
            serial: token.serial_hex(),
        });
        tokens.push(token.to_der().to_vec());
    }
    if !tokens.is_empty() {
        bundle.timestamps.extend(tokens);
        bundle.has_timestamps = true;
    }
    Ok(stamped)
}
