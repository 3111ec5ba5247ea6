//! Events, emitted with `emit_cpi!` so they reach indexers as inner-instruction data.
use anchor_lang::prelude::*;

use crate::state::{GovernanceRules, Stage, SupplySplit};

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

/// The protocol's settings after an `update_protocol`.
#[event]
pub struct ProtocolUpdated {
    pub admin: Pubkey,
    pub setup_fee: u64,
    pub protocol_fee_bps: u16,
    pub swap_fee_bps: u16,
    pub swap_protocol_share_bps: u16,
    pub min_period_secs: i64,
    pub paused: bool,
}

/// A model's terms are fixed and its set-up fee paid (stage `Launching`).
#[event]
pub struct ModelLaunched {
    pub model: Pubkey,
    pub id: u64,
    pub creator: Pubkey,
    pub setup_fee_paid: u64,
    pub supply: SupplySplit,
    pub vesting_cliff_secs: i64,
    pub vesting_duration_secs: i64,
    pub price: u64,
    pub soft_cap: u64,
    pub hard_cap: u64,
    pub start: i64,
    pub end: i64,
    pub per_wallet_cap: u64,
    pub liquidity_bps: u16,
    /// The protocol's fee on the raise, fixed for this model.
    pub protocol_fee_bps: u16,
    /// All zero for an open crowdfund.
    pub allowlist_root: [u8; 32],
    pub governance: GovernanceRules,
    pub depositor_share_bps: u16,
    pub input_price_per_1k: u64,
    pub output_price_per_1k: u64,
}

/// The model's MT mint exists, with its on-mint metadata.
#[event]
pub struct ModelTokenCreated {
    pub model: Pubkey,
    pub mt_mint: Pubkey,
    pub decimals: u8,
    pub name: String,
    pub symbol: String,
    pub uri: String,
}

/// The model's vaults exist; its crowdfund accepts contributions from `start`.
#[event]
pub struct ModelVaultsOpened {
    pub model: Pubkey,
    pub raise_vault: Pubkey,
    pub start: i64,
    pub end: i64,
}

/// A contribution landed. Totals are after it.
#[event]
pub struct Contributed {
    pub model: Pubkey,
    pub contributor: Pubkey,
    /// Native base units paid and MT base units bought by this call.
    pub paid: u64,
    pub mt: u64,
    /// What the contributor offered; more than `paid` on a partial fill.
    pub offered: u64,
    pub wallet_paid: u64,
    pub wallet_mt: u64,
    pub raised: u64,
    pub sold: u64,
    pub soft_cap: u64,
    pub hard_cap: u64,
    pub contributors: u32,
    /// Nothing more can be bought: the raise can be finalised now.
    pub sold_out: bool,
}

/// A raise finalised: `stage` is `Active` or `Failed`.
#[event]
pub struct RaiseFinalized {
    pub model: Pubkey,
    pub stage: Stage,
    pub raised: u64,
    pub sold: u64,
    pub soft_cap: u64,
    pub hard_cap: u64,
    pub contributors: u32,
    /// Native base units; zero on failure (everything stays for refunds).
    pub protocol_fee: u64,
    pub to_treasury: u64,
    pub to_liquidity: u64,
    /// MT base units minted into each vault; zero on failure.
    pub mt_sale: u64,
    pub mt_creator: u64,
    pub mt_liquidity: u64,
    pub mt_rewards: u64,
    /// MT base units in existence, now fixed.
    pub mt_supply: u64,
    pub finalized_at: i64,
}

#[event]
pub struct MtClaimed {
    pub model: Pubkey,
    pub contributor: Pubkey,
    pub destination: Pubkey,
    pub mt: u64,
}

#[event]
pub struct Refunded {
    pub model: Pubkey,
    pub contributor: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
}

#[event]
pub struct VestedClaimed {
    pub model: Pubkey,
    pub creator: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
    /// Claimed so far, including this claim, and the creator's whole allocation.
    pub claimed_total: u64,
    pub allocation: u64,
}
