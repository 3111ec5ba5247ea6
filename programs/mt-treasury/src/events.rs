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
