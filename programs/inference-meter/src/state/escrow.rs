use anchor_lang::prelude::*;

/// Most models an escrow can be restricted to.
pub const MAX_ALLOWED_MODELS: usize = 8;

/// Purpose-bound money behind one API key, at
/// [`seeds::ESCROW`](super::seeds::ESCROW) + sha256(API key). The tokens sit
/// in the meter's escrow vault; `balance` is this escrow's share of it.
///
/// The rules (`allowed_models`, `spend_limit`) are fixed when the escrow is
/// opened and carried over by `rotate_key`: a keeper that served a run under
/// the rules it saw can always settle it.
#[account]
#[derive(InitSpace)]
pub struct Escrow {
    /// May deposit, withdraw, rotate the key and close.
    pub owner: Pubkey,
    /// sha256 of the API key; the PDA's second seed.
    pub key_hash: [u8; 32],
    /// Native base units available to settle runs.
    pub balance: u64,
    /// Lifetime amount settled from this escrow (and the escrows it was rotated from).
    pub spent: u64,
    /// Lifetime cost of runs that could not be paid (balance or spend limit exhausted).
    pub unpaid: u64,
    /// Cap on `spent`; `None` for no cap.
    pub spend_limit: Option<u64>,
    /// Model ids this key may pay for; empty for any model.
    #[max_len(MAX_ALLOWED_MODELS)]
    pub allowed_models: Vec<u64>,
    /// Amount requested for withdrawal (capped by the balance when withdrawn).
    pub withdrawal_amount: u64,
    /// When the pending withdrawal was requested; 0 when none is pending.
    pub withdrawal_requested_at: i64,
    /// Set by `rotate_key`: the escrow of the new key, which now holds the
    /// balance. Keepers settle runs of the old key against it.
    pub rotated_to: Option<Pubkey>,
    pub rotated_at: i64,
    pub opened_at: i64,
    pub bump: u8,
}

impl Escrow {
    /// What settlement may still take: the balance, within the spend limit.
    pub fn available(&self) -> u64 {
        match self.spend_limit {
            None => self.balance,
            Some(limit) => self.balance.min(limit.saturating_sub(self.spent)),
        }
    }

    pub fn allows(&self, model_id: u64) -> bool {
        self.allowed_models.is_empty() || self.allowed_models.contains(&model_id)
    }

    pub fn withdrawal_pending(&self) -> bool {
        self.withdrawal_requested_at != 0
    }
}
