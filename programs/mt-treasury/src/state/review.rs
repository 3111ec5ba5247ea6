use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

/// A reviewer's judgement of a submission.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ReviewChoice {
    Approve,
    /// Not good enough, in good faith: the contributor keeps the bond.
    Reject,
    /// Not a real attempt: the contributor loses the bond.
    Spam,
}

/// Domain tag of a review commitment.
pub const REVIEW_COMMITMENT_TAG: &[u8] = b"mt-review";

/// The hash a reviewer commits to: binding the choice to a secret salt, the
/// submission and the reviewer, so a commitment copied from someone else
/// cannot be revealed by the copier.
pub fn review_commitment(choice: ReviewChoice, salt: &[u8; 32], submission: &Pubkey, reviewer: &Pubkey) -> [u8; 32] {
    hashv(&[REVIEW_COMMITMENT_TAG, &[choice as u8], salt, submission.as_ref(), reviewer.as_ref()]).to_bytes()
}

/// One reviewer's review of one submission, at
/// [`seeds::REVIEW`](super::seeds::REVIEW) + submission + reviewer wallet.
#[account]
#[derive(InitSpace)]
pub struct Review {
    pub submission: Pubkey,
    pub reviewer: Pubkey,
    pub commitment: [u8; 32],
    /// The reviewer's snapshot weight at the bounty's creation.
    pub weight: u64,
    pub bond: u64,
    pub revealed: bool,
    /// Meaningful once revealed.
    pub choice: ReviewChoice,
    pub claimed: bool,
    pub bump: u8,
}

impl Review {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;
}
