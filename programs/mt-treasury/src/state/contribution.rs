use anchor_lang::prelude::*;

/// One wallet's stake in one model's crowdfund, at
/// [`seeds::CONTRIBUTION`](super::seeds::CONTRIBUTION) + model + contributor.
/// The flags make claim and refund one-shot. After either, the contributor
/// may close it (`close_contribution`) for its rent; it cannot be
/// re-created with fresh flags, because only `contribute` creates it and
/// only while the raise is funding.
#[account]
#[derive(InitSpace)]
pub struct Contribution {
    pub model: Pubkey,
    pub contributor: Pubkey,
    /// Native base units paid, in total.
    pub paid: u64,
    /// MT base units bought, in total.
    pub mt: u64,
    pub claimed: bool,
    pub refunded: bool,
    pub bump: u8,
}

impl Contribution {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;
}
