//! Events, emitted with `emit_cpi!` so they reach indexers as inner-instruction data.
use anchor_lang::prelude::*;

#[event]
pub struct ProtocolInitialized {
    pub admin: Pubkey,
    pub native_mint: Pubkey,
    pub fee_vault: Pubkey,
    pub setup_fee: u64,
    pub protocol_fee_bps: u16,
    pub swap_fee_bps: u16,
    pub swap_protocol_share_bps: u16,
    pub min_period_secs: i64,
}

#[event]
pub struct RevenueDeposited {
    pub model: Pubkey,
    pub payer: Pubkey,
    pub amount: u64,
    pub to_depositors: u64,
    pub to_treasury: u64,
    pub acc_per_share: u128,
}
