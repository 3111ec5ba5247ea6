use anchor_lang::prelude::*;

/// The meter's configuration, at [`seeds::METER`](super::seeds::METER).
#[account]
#[derive(InitSpace)]
pub struct MeterConfig {
    /// The `mt_treasury` protocol this meter settles into; its admin administers the meter too.
    pub protocol: Pubkey,
    pub native_mint: Pubkey,
    pub native_token_program: Pubkey,
    /// Holds every escrow's balance; each escrow records its share as a number.
    pub escrow_vault: Pubkey,
    /// Holds every node's stake.
    pub stake_vault: Pubkey,
    /// Protocol's cut of every settled run, to the protocol fee vault.
    pub settlement_fee_bps: u16,
    /// Node operator's cut of every settled run; the rest is model revenue.
    pub operator_share_bps: u16,
    pub min_node_stake: u64,
    pub unbonding_secs: i64,
    /// How long an escrow owner waits between requesting and withdrawing, so
    /// that runs already served can still settle.
    pub withdrawal_notice_secs: i64,
    pub bump: u8,
    pub escrow_vault_bump: u8,
    pub stake_vault_bump: u8,
    /// Domains ever created; each domain's `serial` is this count at its
    /// creation, so a domain re-created at a closed one's address differs.
    pub domains_created: u64,
}
