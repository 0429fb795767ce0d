//! Fixtures shared by the unit tests of several modules.

use crate::record::{Event, Outcome};

/// A successful `model.gate` event by user `u{i}` at `i` seconds after
/// the epoch: `i` tells records apart.
pub(crate) fn event(i: u64) -> Event {
    Event {
        timestamp: time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(i as i64),
        action: "model.gate".into(),
        category: Vec::new(),
        types: Vec::new(),
        user_name: None,
        details: crate::Details::default(),
        outcome: Outcome::Success,
        reason: None,
        user_id: format!("u{i}"),
        source_ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        host_name: "h".into(),
        file_path: None,
        file_hash: None,
    }
}
