//! The bounty review rule, in one place (its off-chain copy is
//! clients/rules): how revealed reviews decide a submission, who won, and
//! what each reviewer is paid. See BOUNTIES.md.
use anchor_lang::prelude::*;

use super::bounty::{add, sub};
use super::{BountyTerms, Review, ReviewChoice, Submission, SubmissionOutcome};
use crate::errors::TreasuryError;
use crate::math::{bps_ceil, mul_div_floor, BPS_DENOMINATOR};

/// The winning side's share of the revealed weight at or above which an
/// outcome is clear and the losing side is slashed (2/3, rounded up).
#[constant]
pub const CLEAR_OUTCOME_BPS: u16 = 6_667;
/// Part of a losing reviewer's bond lost on a clear outcome (rounded up).
#[constant]
pub const SLASH_BPS: u16 = 5_000;

/// Revealed reviews of one submission.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct ReviewTally {
    pub commits: u16,
    pub reveals: u16,
    pub approve_weight: u64,
    pub reject_weight: u64,
    pub spam_weight: u64,
    pub approvals: u16,
    pub rejections: u16,
    pub spam_calls: u16,
}

/// What finalising a submission decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewSettlement {
    pub outcome: SubmissionOutcome,
    /// Shared by the winners pro rata to weight.
    pub fee_pool: u64,
    pub winning_weight: u64,
    pub winners: u16,
    pub clear: bool,
    /// What each losing reviewer loses when the outcome is clear.
    pub slash: u64,
}

/// What one reviewer's claim pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewPayout {
    /// Bond returned (whole or less its slash) plus fee share.
    pub amount: u64,
    pub fee: u64,
    pub winner: bool,
    pub slashed: bool,
}

fn meets(part: u64, whole: u128, bps: u16) -> bool {
    part as u128 * BPS_DENOMINATOR as u128 >= bps as u128 * whole
}

impl ReviewTally {
    pub fn record(&mut self, choice: ReviewChoice, weight: u64) -> Result<()> {
        let (w, n) = match choice {
            ReviewChoice::Approve => (&mut self.approve_weight, &mut self.approvals),
            ReviewChoice::Reject => (&mut self.reject_weight, &mut self.rejections),
            ReviewChoice::Spam => (&mut self.spam_weight, &mut self.spam_calls),
        };
        *w = add(*w, weight)?;
        *n = n.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        self.reveals = self.reveals.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        Ok(())
    }

    pub fn revealed_weight(&self) -> u128 {
        self.approve_weight as u128 + self.reject_weight as u128 + self.spam_weight as u128
    }

    /// The outcome under `min_reviewers` and `threshold_bps` (exact, inclusive).
    pub fn outcome(&self, min_reviewers: u16, threshold_bps: u16) -> SubmissionOutcome {
        let total = self.revealed_weight();
        if self.reveals < min_reviewers || total == 0 {
            SubmissionOutcome::Unreviewed
        } else if meets(self.approve_weight, total, threshold_bps) {
            SubmissionOutcome::Accepted
        } else if meets(self.spam_weight, total, threshold_bps) {
            SubmissionOutcome::Spam
        } else {
            SubmissionOutcome::Rejected
        }
    }

    /// The winning side's weight and head count: approvers of an accepted
    /// submission, rejecters and spam-callers of a rejected or spam one.
    pub fn winners(&self, outcome: SubmissionOutcome) -> (u64, u16) {
        match outcome {
            SubmissionOutcome::Accepted => (self.approve_weight, self.approvals),
            SubmissionOutcome::Rejected | SubmissionOutcome::Spam => (
                self.reject_weight.saturating_add(self.spam_weight),
                self.rejections.saturating_add(self.spam_calls),
            ),
            _ => (0, 0),
        }
    }

    /// Decides a submission once its reveal window is over.
    pub fn settle(&self, terms: &BountyTerms) -> Result<ReviewSettlement> {
        let outcome = self.outcome(terms.min_reviewers, terms.threshold_bps);
        let (winning_weight, winners) = self.winners(outcome);
        let losers = self.reveals - winners;
        let clear = winners > 0 && meets(winning_weight, self.revealed_weight(), CLEAR_OUTCOME_BPS);
        let slash = bps_ceil(terms.review_bond, SLASH_BPS)?;
        let no_shows = (self.commits - self.reveals) as u64;
        let mut fee_pool = add(terms.review_fee, mul_div_floor(terms.review_bond, no_shows, 1)?)?;
        if clear {
            fee_pool = add(fee_pool, mul_div_floor(slash, losers as u64, 1)?)?;
        }
        if outcome == SubmissionOutcome::Spam {
            fee_pool = add(fee_pool, terms.submission_bond)?;
        }
        Ok(ReviewSettlement { outcome, fee_pool, winning_weight, winners, clear, slash })
    }
}

/// What `review` is paid from its finalised submission `s`.
pub fn review_payout(review: &Review, s: &Submission) -> Result<ReviewPayout> {
    if !review.revealed {
        return Ok(ReviewPayout { amount: 0, fee: 0, winner: false, slashed: false });
    }
    let winner = match s.outcome {
        SubmissionOutcome::Accepted => review.choice == ReviewChoice::Approve,
        SubmissionOutcome::Rejected | SubmissionOutcome::Spam => review.choice != ReviewChoice::Approve,
        _ => false,
    };
    if winner {
        let fee = mul_div_floor(s.fee_pool, review.weight, s.winning_weight)?;
        return Ok(ReviewPayout { amount: add(review.bond, fee)?, fee, winner, slashed: false });
    }
    let slashed = s.clear && s.outcome != SubmissionOutcome::Unreviewed;
    let amount = if slashed { sub(review.bond, s.slash)? } else { review.bond };
    Ok(ReviewPayout { amount, fee: 0, winner, slashed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> BountyTerms {
        BountyTerms {
            task_hash: [1; 32],
            reward: 1_000,
            review_fee: 100,
            submission_bond: 50,
            review_bond: 11,
            max_submissions: 3,
            min_reviewers: 3,
            threshold_bps: 6_000,
            min_reputation: 0,
            submit_secs: 10,
            review_secs: 10,
        }
    }

    fn tally(votes: &[(ReviewChoice, u64)], no_shows: u16) -> ReviewTally {
        let mut t = ReviewTally::default();
        for &(c, w) in votes {
            t.commits += 1;
            t.record(c, w).unwrap();
        }
        t.commits += no_shows;
        t
    }

    use ReviewChoice::*;

    #[test]
    fn threshold_is_inclusive_and_spam_needs_the_same_supermajority() {
        let t = tally(&[(Approve, 60), (Reject, 40), (Spam, 0)], 0);
        assert_eq!(t.outcome(3, 6_000), SubmissionOutcome::Accepted);
        let t = tally(&[(Approve, 59), (Reject, 41), (Spam, 0)], 0);
        assert_eq!(t.outcome(3, 6_000), SubmissionOutcome::Rejected);
        let t = tally(&[(Approve, 10), (Spam, 60), (Reject, 30)], 0);
        assert_eq!(t.outcome(3, 6_000), SubmissionOutcome::Spam);
        let t = tally(&[(Approve, 100), (Approve, 1)], 0);
        assert_eq!(t.outcome(3, 6_000), SubmissionOutcome::Unreviewed);
    }

    #[test]
    fn clear_outcome_slashes_losers_and_no_shows_fund_the_fee_pool() {
        let t = tally(&[(Approve, 70), (Approve, 10), (Reject, 20)], 1);
        let s = t.settle(&terms()).unwrap();
        assert!(s.clear, "80 of 100 ≥ 2/3");
        assert_eq!(s.slash, 6, "half of 11, rounded up");
        assert_eq!(s.fee_pool, 100 + 11 + 6);
        let t = tally(&[(Approve, 65), (Reject, 35), (Reject, 0)], 0);
        let s = t.settle(&terms()).unwrap();
        assert!(!s.clear, "65 of 100 < 2/3");
        assert_eq!(s.fee_pool, 100);
    }
}
