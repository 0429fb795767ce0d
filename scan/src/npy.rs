//! NumPy `.npy` arrays: an object array (`descr` holding `O`) is a pickle
//! after the header, which `np.load(allow_pickle=True)` unpickles.

use std::io;

use crate::ctx::Ctx;
use crate::input::Input;
use crate::pickle::{self, End};
use crate::report::FindingKind;

/// Scan a `.npy` stream (magic already seen).
///
/// # Errors
/// I/O errors of the input.
pub(crate) fn scan(input: &mut Input<'_>, ctx: &mut Ctx<'_>) -> io::Result<()> {
    let Some(pre) = input.vec(8)? else {
        ctx.problem(0, "npy: truncated header");
        return Ok(());
    };
    let major = pre[6];
    let len = match major {
        1 => input
            .vec(2)?
            .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]]))),
        2 | 3 => input
            .vec(4)?
            .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        _ => {
            ctx.problem(6, format!("npy: unknown format version {major}"));
            return Ok(());
        }
    };
    let Some(len) = len else {
        ctx.problem(8, "npy: truncated header");
        return Ok(());
    };
    if len > ctx.cfg.limits.max_header {
        ctx.finding(
            FindingKind::HostileHeader,
            8,
            "npy header",
            "header larger than the scan limit",
        );
        return Ok(());
    }
    let at = input.offset();
    let Some(header) = input.vec(len as usize)? else {
        ctx.problem(at, "npy: truncated header");
        return Ok(());
    };
    let header = String::from_utf8_lossy(&header);
    if !holds_objects(&header) {
        return Ok(());
    }
    // np.load(allow_pickle=True) unpickles the rest.
    let e = pickle::emulate(input, ctx)?;
    if let End::Error(at, why) = e.end {
        ctx.problem(at, format!("malformed pickle in an object array: {why}"));
    }
    Ok(())
}

/// Whether the header's `descr` has an object field (`|O`, `O`, `O8`).
fn holds_objects(header: &str) -> bool {
    let Some(start) = header.find("'descr'") else {
        // No descr: np.load refuses the file.
        return false;
    };
    let rest = &header[start + 7..];
    let end = ["'fortran_order'", "'shape'"]
        .iter()
        .filter_map(|k| rest.find(k))
        .min()
        .unwrap_or(rest.len());
    rest[..end].split('\'').skip(1).step_by(2).any(|tok| {
        let t = tok.trim_start_matches(['|', '<', '>', '=']);
        t == "O" || t == "O8" || t == "O4"
    })
}

#[cfg(test)]
mod tests {
    use super::holds_objects;

    #[test]
    fn object_descr_is_found() {
        assert!(holds_objects(
            "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
        ));
        assert!(holds_objects(
            "{'descr': [('a', '<f4'), ('b', '|O')], 'fortran_order': False, 'shape': (2,), }"
        ));
        assert!(!holds_objects(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        ));
        assert!(!holds_objects(
            "{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }"
        ));
    }
}
