//! Events, emitted with `emit_cpi!` so they reach indexers as inner-instruction data.
use anchor_lang::prelude::*;

#[event]
pub struct MeterInitialized {
    pub admin: Pubkey,
    pub settlement_fee_bps: u16,
    pub operator_share_bps: u16,
    pub min_node_stake: u64,
    pub unbonding_secs: i64,
    pub withdrawal_notice_secs: i64,
}
