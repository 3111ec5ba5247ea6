use anchor_lang::prelude::*;

use crate::errors::TreasuryError;

/// One wallet's MT deposit in one model, at
/// [`seeds::VOTER`](super::seeds::VOTER) + model + owner: its voting power,
/// its vote lock and its share of the model's revenue.
///
/// Revenue is earned only by the part that has finished its warm-up
/// (`deposited - warming`): a deposit warms up for the model's
/// `revenue.warmup_secs` and starts earning at the voter's first checkpoint
/// at or after `warm_at` (any deposit, withdrawal or claim of the owner, or a
/// `checkpoint_voter` by anyone). See [`RevenueState`](super::RevenueState).
///
/// Votes are a snapshot (see [`Voter::vote_weight`]): on a proposal created
/// at `c`, only MT that was deposited and warmed up by `c` (deposited at
/// least the warm-up before it) and is still deposited counts. The record
/// keeps its MT in two tranches for this, moved only by the owner's own
/// deposits and withdrawals (never by a third party's checkpoint): the
/// latest deposits (`recent`, counting on proposals created from
/// `recent_votes_from`) and the rest (`deposited - recent`, counting from
/// `settled_votes_from`).
#[account]
#[derive(InitSpace)]
pub struct Voter {
    pub model: Pubkey,
    pub owner: Pubkey,
    /// MT base units deposited: the voting power.
    pub deposited: u64,
    /// Part of `deposited` still warming up (earns nothing yet).
    pub warming: u64,
    /// When `warming` may start earning (inclusive).
    pub warm_at: i64,
    /// No withdrawal before this: the end of the latest voting window this
    /// record voted or proposed in.
    pub locked_until: i64,
    /// The model's `acc_per_share` when this record's rewards were last settled.
    pub reward_checkpoint: u128,
    /// Rewards settled and not yet claimed, native base units.
    pub rewards_owed: u64,
    /// Rewards paid out so far, native base units.
    pub rewards_claimed: u64,
    pub bump: u8,
    /// Part of `deposited` from the latest deposits: it votes on proposals
    /// created at or after `recent_votes_from` (its last deposit + warm-up).
    pub recent: u64,
    pub recent_votes_from: i64,
    /// The rest of `deposited` votes on proposals created at or after this.
    pub settled_votes_from: i64,
}

impl Voter {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;

    /// MT base units that earn revenue.
    pub fn earning(&self) -> u64 {
        self.deposited.saturating_sub(self.warming)
    }

    /// Withdrawals are refused while `now < locked_until`.
    pub fn is_locked(&self, now: i64) -> bool {
        now < self.locked_until
    }

    /// The MT this record votes with on a proposal created at `created_at`:
    /// each tranche counts if it was eligible by then (deposited at least the
    /// warm-up before). O(1). MT deposited at or after `created_at` never
    /// counts; withdrawals only lower it.
    pub fn vote_weight(&self, created_at: i64) -> u64 {
        let settled = self.deposited.saturating_sub(self.recent);
        let settled_votes = if self.settled_votes_from <= created_at { settled } else { 0 };
        let recent_votes = if self.recent_votes_from <= created_at { self.recent } else { 0 };
        settled_votes.saturating_add(recent_votes)
    }

    /// Books a deposit of `amount` for voting, made at `now` under a warm-up
    /// of `warmup_secs` (> 0); call it together with the revenue deposit.
    /// The new MT votes from `now + warmup_secs`. If the recent tranche is
    /// already eligible it first joins the settled one, which then counts
    /// from the later of the two times (conservative: it never counts MT
    /// earlier than it was eligible); a recent tranche still warming up is
    /// joined by the new MT and restarts, as revenue warm-up does.
    pub fn add_votes(&mut self, amount: u64, now: i64, warmup_secs: i64) -> Result<()> {
        let eligible_from = now.checked_add(warmup_secs).ok_or(TreasuryError::MathOverflow)?;
        if self.recent > 0 && self.recent_votes_from <= now {
            self.settled_votes_from = self.settled_votes_from.max(self.recent_votes_from);
            self.recent = 0;
        }
        self.recent = self.recent.checked_add(amount).ok_or(TreasuryError::MathOverflow)?;
        self.recent_votes_from = eligible_from;
        Ok(())
    }

    /// Books a withdrawal of `amount` for voting: the recent tranche first,
    /// so what stays keeps the earliest eligibility it really had.
    pub fn remove_votes(&mut self, amount: u64) {
        self.recent -= amount.min(self.recent);
    }
}
