use anchor_lang::prelude::*;

/// Decimals of every Model Token.
pub const MT_DECIMALS: u8 = 6;
/// One whole MT in base units.
pub const MT_UNIT: u64 = 1_000_000;

/// Lifecycle of a model.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum Stage {
    /// Crowdfund open or awaiting finalisation.
    Funding,
    /// Raise succeeded: supply minted and fixed, DAO running.
    Active,
    /// Raise failed: contributors may only take refunds.
    Failed,
}

/// How the hard supply is split. The four parts sum exactly to `hard_supply`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct SupplySplit {
    pub hard_supply: u64,
    pub creator: u64,
    pub crowdfund: u64,
    pub liquidity: u64,
    pub contributor_rewards: u64,
}

/// Creator allocation vesting: nothing before `start + cliff_secs`, then
/// linear until `start + duration_secs`. `start` is the finalisation time.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct Vesting {
    pub start: i64,
    pub cliff_secs: i64,
    pub duration_secs: i64,
    pub claimed: u64,
}

/// The crowdfund's terms and progress. Amounts in native base units unless noted.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct Crowdfund {
    /// Native base units per whole MT (10^MT_DECIMALS base units).
    pub price: u64,
    pub soft_cap: u64,
    pub hard_cap: u64,
    /// Contributions are accepted from `start` (inclusive) to `end` (exclusive).
    pub start: i64,
    pub end: i64,
    pub per_wallet_cap: u64,
    /// Share of the raise that seeds the market's native side at finalisation.
    pub liquidity_bps: u16,
    /// Merkle root of allowed contributors; all zero when anyone may contribute.
    pub allowlist_root: [u8; 32],
    pub raised: u64,
    /// MT base units sold so far.
    pub sold: u64,
    pub contributors: u32,
    pub finalized_at: i64,
}

/// Governance rules; changeable by governance within the protocol's bounds.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct GovernanceRules {
    /// Turnout (yes + no + abstain) needed, as a share of circulating supply.
    pub quorum_bps: u16,
    /// Yes needed, as a share of yes + no.
    pub threshold_bps: u16,
    pub voting_period_secs: i64,
    /// Delay between a proposal passing and its execution.
    pub hold_up_secs: i64,
    /// MT (base units) a proposer must have deposited.
    pub min_propose_mt: u64,
}

/// Per-query price in native base units, per 1 000 tokens. A change takes
/// effect at `effective_at`; runs served before it pay the previous price.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct QueryPricing {
    pub input_per_1k: u64,
    pub output_per_1k: u64,
    pub previous_input_per_1k: u64,
    pub previous_output_per_1k: u64,
    pub effective_at: i64,
}

impl QueryPricing {
    /// The (input, output) price per 1 000 tokens for runs served at `served_at`.
    pub fn at(&self, served_at: i64) -> (u64, u64) {
        if served_at >= self.effective_at {
            (self.input_per_1k, self.output_per_1k)
        } else {
            (self.previous_input_per_1k, self.previous_output_per_1k)
        }
    }
}

/// Revenue sharing state: a reward-per-share accumulator over deposited MT.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct RevenueState {
    /// Share of every revenue deposit that goes to MT depositors; the rest
    /// goes to the model treasury.
    pub depositor_share_bps: u16,
    /// Native base units per deposited MT base unit, scaled by [`ACC_SCALE`].
    pub acc_per_share: u128,
    /// MT base units deposited in voter records.
    pub total_deposited: u64,
    /// Lifetime revenue received, and the part routed to the treasury.
    pub total_revenue: u64,
    pub treasury_revenue: u64,
}

/// Scale of [`RevenueState::acc_per_share`].
pub const ACC_SCALE: u128 = 1_000_000_000_000_000_000;

/// A community-owned model, at [`seeds::MODEL`](super::seeds::MODEL) + id.
#[account]
#[derive(InitSpace)]
pub struct Model {
    pub id: u64,
    pub creator: Pubkey,
    pub mt_mint: Pubkey,
    pub stage: Stage,
    pub supply: SupplySplit,
    pub vesting: Vesting,
    pub crowdfund: Crowdfund,
    pub governance: GovernanceRules,
    pub pricing: QueryPricing,
    pub revenue: RevenueState,
    pub proposal_count: u64,
    pub bump: u8,
    pub mint_bump: u8,
}
