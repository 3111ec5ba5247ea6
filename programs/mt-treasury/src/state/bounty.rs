use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::instructions::create_proposal::MAX_GOVERNANCE_PERIOD_SECS;
use crate::math::{check_bps, mul_div_floor};

/// Most submissions one bounty takes (its review fees are reserved for this many).
#[constant]
pub const MAX_BOUNTY_SUBMISSIONS: u16 = 1_000;

/// A model's bounty pool, at [`seeds::BOUNTY_POOL`](super::seeds::BOUNTY_POOL)
/// + model. Its native tokens sit in the pool vault
/// ([`seeds::BOUNTY_VAULT`](super::seeds::BOUNTY_VAULT) + model, owned by the
/// model PDA). Every amount here is recorded, never read from the vault:
/// the vault holds at least `available + reserved + held`.
#[account]
#[derive(InitSpace)]
pub struct BountyPool {
    pub model: Pubkey,
    /// Funded by governance and not promised to any bounty.
    pub available: u64,
    /// Promised to live bounties (rewards, and review fees of submissions not yet finalised).
    pub reserved: u64,
    /// Owed to claimants: bonds, review fee pools and awards.
    pub held: u64,
    /// Lifetime totals.
    pub funded: u64,
    pub paid_out: u64,
    pub bounty_count: u64,
    pub bump: u8,
    pub vault_bump: u8,
}

impl BountyPool {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    /// Promises `amount` of the available funds to a bounty.
    pub fn reserve(&mut self, amount: u64) -> Result<()> {
        require!(amount <= self.available, TreasuryError::BountyPoolInsufficient);
        self.available -= amount;
        self.reserved = add(self.reserved, amount)?;
        Ok(())
    }

    /// Moves `amount` of a bounty's reservation to what claimants are owed.
    pub fn hold_reserved(&mut self, amount: u64) -> Result<()> {
        self.reserved = sub(self.reserved, amount)?;
        self.held = add(self.held, amount)?;
        Ok(())
    }

    /// Returns `amount` of a bounty's reservation to the available funds.
    pub fn release_reserved(&mut self, amount: u64) -> Result<()> {
        self.reserved = sub(self.reserved, amount)?;
        self.available = add(self.available, amount)?;
        Ok(())
    }

    /// Returns `amount` that no claimant is owed any more (forfeits nobody
    /// won, rounding dust) to the available funds.
    pub fn release_held(&mut self, amount: u64) -> Result<()> {
        self.held = sub(self.held, amount)?;
        self.available = add(self.available, amount)?;
        Ok(())
    }

    /// Books `amount` paid out to a claimant.
    pub fn pay(&mut self, amount: u64) -> Result<()> {
        self.held = sub(self.held, amount)?;
        self.paid_out = add(self.paid_out, amount)?;
        Ok(())
    }
}

pub(crate) fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| error!(TreasuryError::MathOverflow))
}

pub(crate) fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b).ok_or_else(|| error!(TreasuryError::MathOverflow))
}

/// What a bounty asks and pays, voted in a `CreateBounty` proposal. Amounts
/// in native base units, periods in seconds.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct BountyTerms {
    /// sha256 of the task's description (published off chain).
    pub task_hash: [u8; 32],
    /// Shared equally by the accepted submissions (rounded down).
    pub reward: u64,
    /// Paid, per finalised submission, to the reviewers who judged with the outcome.
    pub review_fee: u64,
    /// Posted by each contributor; lost only if reviewers call the work spam.
    pub submission_bond: u64,
    /// Posted by each reviewer; see BOUNTIES.md for when part or all of it is lost.
    pub review_bond: u64,
    pub max_submissions: u16,
    /// Fewer reveals than this leave a submission unreviewed.
    pub min_reviewers: u16,
    /// Approval (or spam) weight needed, of the revealed weight.
    pub threshold_bps: u16,
    /// Accepted submissions a contributor needs in this model to submit.
    pub min_reputation: u32,
    /// Submissions are taken for this long after creation.
    pub submit_secs: i64,
    /// Length of the commit window, and again of the reveal window, after submissions close.
    pub review_secs: i64,
}

impl BountyTerms {
    /// What creating the bounty reserves from the pool: the reward and every
    /// submission's review fee.
    pub fn reservation(&self) -> Result<u64> {
        let fees = (self.review_fee as u128) * (self.max_submissions as u128);
        u64::try_from(self.reward as u128 + fees).map_err(|_| error!(TreasuryError::MathOverflow))
    }

    /// The bounds, checked when the proposal is created and again when it executes.
    pub fn check(&self, min_period_secs: i64) -> Result<()> {
        require!(self.task_hash != [0; 32], TreasuryError::MissingContent);
        require!(self.reward > 0, TreasuryError::ZeroAmount);
        require!(self.submission_bond > 0 && self.review_bond > 0, TreasuryError::ZeroBond);
        require!(
            self.max_submissions > 0 && self.max_submissions <= MAX_BOUNTY_SUBMISSIONS,
            TreasuryError::InvalidBountyLimits
        );
        require!(self.min_reviewers > 0, TreasuryError::InvalidBountyLimits);
        check_bps(self.threshold_bps)?;
        require!(self.threshold_bps > 0, TreasuryError::ZeroGovernanceBps);
        for period in [self.submit_secs, self.review_secs] {
            require!(period >= min_period_secs && period > 0, TreasuryError::PeriodTooShort);
            require!(period <= MAX_GOVERNANCE_PERIOD_SECS, TreasuryError::PeriodTooLong);
        }
        self.reservation()?;
        Ok(())
    }
}

/// A bounty of a model, at [`seeds::BOUNTY`](super::seeds::BOUNTY) + model +
/// id (u64 LE), created by executing a passed `CreateBounty` proposal.
#[account]
#[derive(InitSpace)]
pub struct Bounty {
    pub model: Pubkey,
    pub id: u64,
    /// The proposal that created it.
    pub proposal: Pubkey,
    pub terms: BountyTerms,
    /// Review weights are snapshots at this time (`Voter::vote_weight`).
    pub created_at: i64,
    /// Submissions while `now < submit_ends`; commits while `now <
    /// commit_ends`; reveals while `commit_ends <= now < reveal_ends`;
    /// finalisation from `reveal_ends`.
    pub submit_ends: i64,
    pub commit_ends: i64,
    pub reveal_ends: i64,
    pub submissions: u16,
    pub finalized: u16,
    pub accepted: u16,
    /// Set once by `settle_bounty`: each accepted submission's share of the reward.
    pub settled: bool,
    pub award: u64,
    pub bump: u8,
}

impl Bounty {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    /// The windows of a bounty created at `now`.
    pub fn windows(terms: &BountyTerms, now: i64) -> Result<(i64, i64, i64)> {
        let submit_ends = now.checked_add(terms.submit_secs).ok_or(TreasuryError::MathOverflow)?;
        let commit_ends = submit_ends.checked_add(terms.review_secs).ok_or(TreasuryError::MathOverflow)?;
        let reveal_ends = commit_ends.checked_add(terms.review_secs).ok_or(TreasuryError::MathOverflow)?;
        Ok((submit_ends, commit_ends, reveal_ends))
    }

    /// What settling moves: (each accepted submission's award, the award
    /// total now owed, the rest of the reservation released to the pool).
    pub fn settlement(&self) -> Result<(u64, u64, u64)> {
        let t = &self.terms;
        let award = if self.accepted == 0 { 0 } else { t.reward / self.accepted as u64 };
        let owed = mul_div_floor(award, self.accepted as u64, 1)?;
        let unused_fees = mul_div_floor(t.review_fee, (t.max_submissions - self.submissions) as u64, 1)?;
        Ok((award, owed, add(t.reward - owed, unused_fees)?))
    }
}
