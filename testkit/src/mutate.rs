//! Byte-level mutations for parser property tests: edits at positions
//! proptest picks, applied to a valid input (a bundle, a certificate, a
//! PEM file) so every parser meets near-valid hostile bytes.

use proptest::prelude::*;
use proptest::sample::Index;

/// One edit of a byte string.
#[derive(Debug, Clone)]
pub enum ByteEdit {
    /// XOR the byte at the index with a non-zero mask.
    Xor(Index, u8),
    /// Replace the byte at the index.
    Set(Index, u8),
    /// Insert a byte before the index (or at the end).
    Insert(Index, u8),
    /// Delete the byte at the index.
    Delete(Index),
    /// Cut the input at the index.
    Truncate(Index),
}

/// Edits drawn with `weights` (xor, set, insert, delete, truncate), with
/// set and insert taking bytes from `interesting()` (what matters to the
/// parser under test).
pub fn byte_edit<S>(interesting: fn() -> S, weights: [u32; 5]) -> impl Strategy<Value = ByteEdit>
where
    S: Strategy<Value = u8> + 'static,
{
    let ix = any::<Index>;
    let [xor, set, insert, delete, truncate] = weights;
    prop_oneof![
        xor => (ix(), 1..=255u8).prop_map(|(i, m)| ByteEdit::Xor(i, m)),
        set => (ix(), interesting()).prop_map(|(i, b)| ByteEdit::Set(i, b)),
        insert => (ix(), interesting()).prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        delete => ix().prop_map(ByteEdit::Delete),
        truncate => ix().prop_map(ByteEdit::Truncate),
    ]
}

/// `orig` with `edits` applied in order (edits stop once it is empty).
pub fn apply(orig: &[u8], edits: &[ByteEdit]) -> Vec<u8> {
    let mut b = orig.to_vec();
    for e in edits {
        if b.is_empty() {
            break;
        }
        match e {
            ByteEdit::Xor(i, m) => {
                let i = i.index(b.len());
                b[i] ^= m;
            }
            ByteEdit::Set(i, v) => {
                let i = i.index(b.len());
                b[i] = *v;
            }
            ByteEdit::Insert(i, v) => {
                let i = i.index(b.len() + 1);
                b.insert(i, *v);
            }
            ByteEdit::Delete(i) => {
                let i = i.index(b.len());
                b.remove(i);
            }
            ByteEdit::Truncate(i) => {
                let i = i.index(b.len());
                b.truncate(i);
            }
        }
    }
    b
}
