use anchor_lang::prelude::*;

/// One wallet's MT deposit in one model, at
/// [`seeds::VOTER`](super::seeds::VOTER) + model + owner: its voting power,
/// its vote lock and its share of the model's revenue.
///
/// Every MT in `deposited` votes. Revenue is earned only by the part that
/// has finished its warm-up (`deposited - warming`): a deposit warms up for
/// the model's `revenue.warmup_secs` and starts earning at the voter's first
/// checkpoint at or after `warm_at` (any deposit, withdrawal or claim of the
/// owner, or a `checkpoint_voter` by anyone). See [`RevenueState`](super::RevenueState).
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
}
