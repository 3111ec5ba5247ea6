use anchor_lang::prelude::*;

/// One wallet's stake in one model's crowdfund, at
/// [`seeds::CONTRIBUTION`](super::seeds::CONTRIBUTION) + model + contributor.
/// Kept after claim or refund as the contributor's receipt: the flags make
/// both one-shot, and because the account is never closed it cannot be
/// re-created with fresh flags.
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
