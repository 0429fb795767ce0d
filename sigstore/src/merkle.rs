//! RFC 6962 / RFC 9162 Merkle tree hashing and inclusion proofs.

use sha2::{Digest as _, Sha256};

/// The hash of a leaf: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Why an inclusion proof fails ([`verify_inclusion`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InclusionError {
    /// The leaf index is not in the tree.
    #[error("index {index} is outside a tree of {size} leaves")]
    OutOfRange {
        /// The leaf's index.
        index: u64,
        /// The tree's size.
        size: u64,
    },
    /// A proof hash is not a SHA-256 value.
    #[error("a proof hash is not 32 bytes")]
    HashLength,
    /// More hashes than the path from the leaf to the root.
    #[error("the proof is longer than the tree is deep")]
    TooLong,
    /// Fewer hashes than the path from the leaf to the root.
    #[error("the proof is shorter than the tree is deep")]
    TooShort,
    /// The path leads to another root.
    #[error("the computed root hash differs from the proof's")]
    RootMismatch,
}

/// Verify that `leaf` is at `index` of the tree of `size` leaves whose
/// root is `root`, by the audit path `proof` (RFC 9162, 2.1.3.2).
///
/// # Errors
/// [`InclusionError`]: why the proof fails.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8; 32],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), InclusionError> {
    if index >= size {
        return Err(InclusionError::OutOfRange { index, size });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if p.len() != 32 {
            return Err(InclusionError::HashLength);
        }
        if snode == 0 {
            return Err(InclusionError::TooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(InclusionError::TooShort);
    }
    if r.as_slice() != root {
        return Err(InclusionError::RootMismatch);
    }
    Ok(())
}

/// A whole Merkle tree, for tests and tools that make proofs.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    leaves: Vec<[u8; 32]>,
}

impl Tree {
    /// Append a leaf's data; returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.leaves.push(leaf_hash(data));
        self.leaves.len() as u64 - 1
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// The root hash (RFC 9162 MTH).
    pub fn root(&self) -> [u8; 32] {
        mth(&self.leaves)
    }

    /// The audit path of leaf `index` (RFC 9162 PATH).
    pub fn proof(&self, index: u64) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        path(index as usize, &self.leaves, &mut out);
        out
    }
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn path(m: usize, leaves: &[[u8; 32]], out: &mut Vec<Vec<u8>>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(mth(&leaves[k..]).to_vec());
    } else {
        path(m - k, &leaves[k..], out);
        out.push(mth(&leaves[..k]).to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_of_every_small_tree_proves() {
        for size in 1..=33u64 {
            let mut t = Tree::default();
            for i in 0..size {
                t.push(&i.to_be_bytes());
            }
            let root = t.root();
            for i in 0..size {
                let leaf = leaf_hash(&i.to_be_bytes());
                let p = t.proof(i);
                assert_eq!(
                    verify_inclusion(i, size, &leaf, &p, &root),
                    Ok(()),
                    "{i}/{size}"
                );
                // Wrong index, size, leaf, root, or a tampered path fail.
                if size > 1 {
                    assert!(verify_inclusion((i + 1) % size, size, &leaf, &p, &root).is_err());
                }
                assert_eq!(
                    verify_inclusion(i, size, &leaf_hash(b"x"), &p, &root),
                    Err(InclusionError::RootMismatch)
                );
                assert_eq!(
                    verify_inclusion(i, size, &leaf, &p, &[0u8; 32]),
                    Err(InclusionError::RootMismatch)
                );
                assert_eq!(
                    verify_inclusion(size, size, &leaf, &p, &root),
                    Err(InclusionError::OutOfRange { index: size, size })
                );
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = node_hash(first, first).to_vec();
                    assert!(verify_inclusion(i, size, &leaf, &bad, &root).is_err());
                    assert!(verify_inclusion(i, size, &leaf, &p[1..], &root).is_err());
                }
                let mut longer = p.clone();
                longer.push(vec![0u8; 32]);
                assert!(verify_inclusion(i, size, &leaf, &longer, &root).is_err());
                let mut cut = longer;
                cut[0].pop();
                assert_eq!(
                    verify_inclusion(i, size, &leaf, &cut, &root),
                    Err(InclusionError::HashLength)
                );
            }
        }
    }

    #[test]
    fn rfc6962_reference_root() {
        // The empty-tree hash of RFC 6962 2.1.
        assert_eq!(
            Tree::default()
                .root()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
