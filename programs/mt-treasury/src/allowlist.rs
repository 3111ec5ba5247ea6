//! The optional Merkle allowlist of a crowdfund.
//!
//! Hashing (mirrored by the Go helper in `clients/allowlist`):
//! - leaf = sha256(0x00 ‖ wallet's 32-byte public key)
//! - parent = sha256(0x01 ‖ min(a, b) ‖ max(a, b)), the two children sorted
//!   bytewise, so a proof is just the list of sibling hashes from the leaf
//!   up, with no left/right flags.
//! - a level with an odd number of nodes promotes the last one unchanged.
//!
//! The distinct prefixes keep a leaf from ever being read as an inner node
//! (second-preimage attack on Merkle trees).
use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

/// Longest proof accepted: trees of up to 2^20 (about a million) wallets.
/// A contribute transaction (as the CLI sends it, with both compute-budget
/// instructions) stays within 900 bytes with up to 10 proof hashes (1 024
/// wallets) and within 1 232 bytes with 20 (`go run ./tools/progbench`).
pub const MAX_PROOF_LEN: usize = 20;

const LEAF_PREFIX: &[u8] = &[0];
const NODE_PREFIX: &[u8] = &[1];

/// The leaf of `wallet`.
pub fn leaf(wallet: &Pubkey) -> [u8; 32] {
    hashv(&[LEAF_PREFIX, wallet.as_ref()]).to_bytes()
}

/// The parent of two nodes, independent of their order.
pub fn parent(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    hashv(&[NODE_PREFIX, lo, hi]).to_bytes()
}

/// Whether `proof` shows `wallet` is in the tree with `root`.
pub fn verify(root: &[u8; 32], wallet: &Pubkey, proof: &[[u8; 32]]) -> bool {
    proof.iter().fold(leaf(wallet), |node, sibling| parent(&node, sibling)) == *root
}

/// The root of a tree over `wallets` (in the given order). For tests and
/// off-chain tools; the program only verifies.
pub fn root(wallets: &[Pubkey]) -> [u8; 32] {
    let mut level: Vec<[u8; 32]> = wallets.iter().map(leaf).collect();
    if level.is_empty() {
        return [0; 32];
    }
    while level.len() > 1 {
        level = level.chunks(2).map(|pair| if pair.len() == 2 { parent(&pair[0], &pair[1]) } else { pair[0] }).collect();
    }
    level[0]
}

/// The proof of the wallet at `index` in a tree over `wallets`.
pub fn proof(wallets: &[Pubkey], index: usize) -> Vec<[u8; 32]> {
    let mut level: Vec<[u8; 32]> = wallets.iter().map(leaf).collect();
    let mut index = index;
    let mut proof = Vec::new();
    while level.len() > 1 {
        let sibling = index ^ 1;
        if sibling < level.len() {
            proof.push(level[sibling]);
        }
        level = level.chunks(2).map(|pair| if pair.len() == 2 { parent(&pair[0], &pair[1]) } else { pair[0] }).collect();
        index /= 2;
    }
    proof
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_proves_and_outsiders_do_not() {
        for n in 1..=9usize {
            let wallets: Vec<Pubkey> = (0..n).map(|i| Pubkey::new_from_array([i as u8 + 1; 32])).collect();
            let root = root(&wallets);
            for (i, w) in wallets.iter().enumerate() {
                assert!(verify(&root, w, &proof(&wallets, i)), "n={n} i={i}");
            }
            let outsider = Pubkey::new_from_array([200; 32]);
            assert!(!verify(&root, &outsider, &proof(&wallets, 0)));
        }
    }

    /// The same vector is asserted by clients/allowlist's Go tests.
    #[test]
    fn cross_language_vector() {
        let wallets: Vec<Pubkey> = (1..=5u8).map(|i| Pubkey::new_from_array([i; 32])).collect();
        let hex = |b: [u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(hex(leaf(&wallets[0])), LEAF_1_HEX);
        assert_eq!(hex(root(&wallets)), ROOT_1_TO_5_HEX);
    }

    const LEAF_1_HEX: &str = "dcffe786ded16d283c663846ad0c4ff26558fccde36ca9d30b2ea19eade9fc0e";
    const ROOT_1_TO_5_HEX: &str = "2ee61a0b2db2eeaf6a568ab9fe19d1863a002199970e9c5f09cd26bb252a2aa5";
}
