use anchor_lang::prelude::*;

/// The protocol's configuration. One per deployment, at [`seeds::PROTOCOL`](super::seeds::PROTOCOL).
#[account]
#[derive(InitSpace)]
pub struct Protocol {
    /// May update this account and pause the protocol.
    pub admin: Pubkey,
    /// The platform's native token: what set-up fees, contributions, query
    /// payments and swap fees are paid in.
    pub native_mint: Pubkey,
    /// Token program of `native_mint` (SPL Token or Token-2022).
    pub native_token_program: Pubkey,
    /// Native-token account, owned by this PDA, that collects protocol fees.
    pub fee_vault: Pubkey,
    /// Charged to a creator at launch, in native base units.
    pub setup_fee: u64,
    /// Protocol cut of a successful raise's proceeds.
    pub protocol_fee_bps: u16,
    /// Fee on every swap, charged on the native side.
    pub swap_fee_bps: u16,
    /// Part of the swap fee that goes to the protocol; the rest is model revenue.
    pub swap_protocol_share_bps: u16,
    /// Shortest raise window, voting period, hold-up and notice period a model
    /// may choose. Small on localnet so tests can run short windows.
    pub min_period_secs: i64,
    /// Launches and buys stop while paused; refunds and claims never do.
    pub paused: bool,
    /// Number of models launched; the next model's id.
    pub model_count: u64,
    pub bump: u8,
    pub fee_vault_bump: u8,
    /// Nominated by the admin (`update_protocol` with `new_admin`); becomes
    /// the admin only when it signs `accept_admin`, so a mistyped key can
    /// never take the protocol out of reach.
    pub pending_admin: Option<Pubkey>,
}
