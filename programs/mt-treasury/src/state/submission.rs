use anchor_lang::prelude::*;

use super::ReviewTally;

/// Longest `uri` a submission may carry, in bytes.
#[constant]
pub const MAX_SUBMISSION_URI_LEN: u32 = 200;

/// What the reviewers decided about a submission.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum SubmissionOutcome {
    /// Not finalised yet.
    Pending,
    Accepted,
    Rejected,
    /// Rejected as spam: the contributor's bond goes to the reviewers.
    Spam,
    /// Fewer reveals than the bounty's `min_reviewers`: nobody is judged.
    Unreviewed,
}

/// One contributor's work for one bounty, at
/// [`seeds::SUBMISSION`](super::seeds::SUBMISSION) + bounty + contributor:
/// one per wallet per bounty.
#[account]
#[derive(InitSpace)]
pub struct Submission {
    pub bounty: Pubkey,
    pub contributor: Pubkey,
    /// sha256 of the work; its `WorkClaim` ties it to this submission.
    pub content_hash: [u8; 32],
    #[max_len(MAX_SUBMISSION_URI_LEN)]
    pub uri: String,
    pub bond: u64,
    pub submitted_at: i64,
    pub tally: ReviewTally,
    pub outcome: SubmissionOutcome,
    /// Set at finalisation: the reviewers' fee pool, the winning side's
    /// revealed weight and head count, whether the outcome was clear, and
    /// the slash each losing reviewer pays on a clear outcome.
    pub fee_pool: u64,
    pub winning_weight: u64,
    pub winners: u16,
    pub clear: bool,
    pub slash: u64,
    /// Fee paid to winners so far and how many have claimed: the last
    /// winner's claim returns the rounding dust to the pool.
    pub fee_paid: u64,
    pub winner_claims: u16,
    pub claimed: bool,
    pub bump: u8,
}

impl Submission {
    /// Always the longest uri's size: `init_if_needed` (which turns a second
    /// submission into `AlreadySubmitted`) needs one fixed size.
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    pub fn is_finalized(&self) -> bool {
        self.outcome != SubmissionOutcome::Pending
    }

    /// What the contributor's claim pays once finalised: the award (fixed
    /// when the bounty settles) and the bond if accepted, the bond back if
    /// rejected in good faith or unreviewed, nothing for spam.
    pub fn contributor_payout(&self, award: u64) -> Result<u64> {
        Ok(match self.outcome {
            SubmissionOutcome::Accepted => super::bounty::add(award, self.bond)?,
            SubmissionOutcome::Rejected | SubmissionOutcome::Unreviewed => self.bond,
            SubmissionOutcome::Spam | SubmissionOutcome::Pending => 0,
        })
    }
}

/// The first claim of a piece of work in a model, at
/// [`seeds::WORK`](super::seeds::WORK) + model + content hash. Never closed:
/// the same content hash cannot be submitted again, to this bounty or any other.
#[account]
#[derive(InitSpace)]
pub struct WorkClaim {
    pub model: Pubkey,
    pub content_hash: [u8; 32],
    pub bounty: Pubkey,
    pub submission: Pubkey,
    pub bump: u8,
}

impl WorkClaim {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;
}

/// A wallet's record in one model, at
/// [`seeds::REPUTATION`](super::seeds::REPUTATION) + model + wallet.
#[account]
#[derive(InitSpace)]
pub struct Reputation {
    pub model: Pubkey,
    pub wallet: Pubkey,
    /// As a contributor: submissions, and their finalised outcomes.
    pub submitted: u32,
    pub accepted: u32,
    pub rejected: u32,
    pub spam: u32,
    /// As a reviewer: reviews committed, revealed, claimed on the winning
    /// side, and claimed after losing part of the bond.
    pub reviews_committed: u32,
    pub reviews_revealed: u32,
    pub reviews_agreed: u32,
    pub reviews_slashed: u32,
    pub bump: u8,
}

impl Reputation {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;
}
