//! Events, emitted with `emit_cpi!` so they reach indexers as inner-instruction data.
use anchor_lang::prelude::*;

use crate::state::{
    BountyTerms, GovernanceRules, ProposalAction, ProposalState, ReviewChoice, ReviewTally, Stage, SubmissionOutcome,
    SupplySplit, SwapSide, VoteChoice,
};

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

/// Revenue entered a model (`deposit_revenue`; swap fees report in `Swapped`).
#[event]
pub struct RevenueDeposited {
    pub model: Pubkey,
    pub payer: Pubkey,
    pub amount: u64,
    pub to_depositors: u64,
    pub to_treasury: u64,
    /// The accumulator after the deposit, and the earning MT it was shared over.
    pub acc_per_share: u128,
    pub earning_mt: u64,
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
    /// The nominated admin, if any (see `accept_admin`).
    pub pending_admin: Option<Pubkey>,
}

/// The nominated admin accepted: it is now the protocol (and meter) admin.
#[event]
pub struct AdminAccepted {
    pub previous_admin: Pubkey,
    pub admin: Pubkey,
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

/// A claimed or refunded contribution record was closed, its rent
/// returned to the contributor.
#[event]
pub struct ContributionClosed {
    pub model: Pubkey,
    pub contributor: Pubkey,
    pub paid: u64,
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

/// MT went into a voter record. Amounts after the deposit.
#[event]
pub struct MtDeposited {
    pub model: Pubkey,
    pub owner: Pubkey,
    pub voter: Pubkey,
    pub amount: u64,
    pub deposited: u64,
    pub warming: u64,
    /// When the warming MT can start earning.
    pub warm_at: i64,
    /// The deposit votes on proposals created at or after this.
    pub votes_from: i64,
}

/// MT came out of a voter record. Amounts after the withdrawal.
#[event]
pub struct MtWithdrawn {
    pub model: Pubkey,
    pub owner: Pubkey,
    pub voter: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
    pub deposited: u64,
}

/// A voter record's rewards were settled (and warmed-up MT activated).
#[event]
pub struct VoterCheckpointed {
    pub model: Pubkey,
    pub voter: Pubkey,
    /// MT that started earning at this checkpoint.
    pub activated: u64,
    pub earning: u64,
    pub warming: u64,
    pub rewards_owed: u64,
}

#[event]
pub struct RewardsClaimed {
    pub model: Pubkey,
    pub owner: Pubkey,
    pub voter: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
    pub claimed_total: u64,
}

#[event]
pub struct ProposalCreated {
    pub model: Pubkey,
    pub proposal: Pubkey,
    pub index: u64,
    pub proposer: Pubkey,
    pub action: ProposalAction,
    pub content_hash: [u8; 32],
    pub uri: String,
    pub voting_ends: i64,
    pub circulating_supply: u64,
    pub quorum_bps: u16,
    pub threshold_bps: u16,
}

#[event]
pub struct VoteCast {
    pub model: Pubkey,
    pub proposal: Pubkey,
    pub voter: Pubkey,
    pub owner: Pubkey,
    pub choice: VoteChoice,
    pub weight: u64,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
}

/// A proposal's voting closed: `state` is `Passed` or `Failed`.
#[event]
pub struct ProposalFinalized {
    pub model: Pubkey,
    pub proposal: Pubkey,
    pub state: ProposalState,
    pub quorum_met: bool,
    pub threshold_met: bool,
    /// Finalised before `voting_ends` because the outcome could no longer change.
    pub early: bool,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub circulating_supply: u64,
    pub execute_after: i64,
}

#[event]
pub struct ProposalExecuted {
    pub model: Pubkey,
    pub proposal: Pubkey,
    pub action: ProposalAction,
    pub executed_at: i64,
    /// For a price change: when the new price applies.
    pub effective_at: i64,
}

#[event]
pub struct ProposalCancelled {
    pub model: Pubkey,
    pub proposal: Pubkey,
    pub proposer: Pubkey,
}

#[event]
pub struct MarketOpened {
    pub model: Pubkey,
    pub reserve_mt: u64,
    pub reserve_native: u64,
}

#[event]
pub struct Swapped {
    pub model: Pubkey,
    pub trader: Pubkey,
    pub side: SwapSide,
    pub amount_in: u64,
    pub amount_out: u64,
    /// Native base units: the whole fee, the protocol's part, and the
    /// model's part split like revenue (to depositors / to the treasury).
    pub fee: u64,
    pub protocol_fee: u64,
    pub to_depositors: u64,
    pub to_treasury: u64,
    pub reserve_mt: u64,
    pub reserve_native: u64,
}

/// A vote record's rent went back to its voter (the proposal takes no more votes).
#[event]
pub struct VoteRecordClosed {
    pub proposal: Pubkey,
    pub voter: Pubkey,
    pub owner: Pubkey,
}

/// An empty voter record's rent went back to its owner.
#[event]
pub struct VoterClosed {
    pub model: Pubkey,
    pub voter: Pubkey,
    pub owner: Pubkey,
}

/// The admin took native tokens out of the protocol fee vault.
#[event]
pub struct ProtocolFeesWithdrawn {
    pub admin: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
    /// What the fee vault holds afterwards.
    pub remaining: u64,
}

/// Governance moved treasury funds into the model's bounty pool.
#[event]
pub struct BountyPoolFunded {
    pub model: Pubkey,
    pub proposal: Pubkey,
    pub amount: u64,
    pub available: u64,
    pub funded: u64,
}

/// Governance created a bounty; its reward and review fees are reserved.
#[event]
pub struct BountyCreated {
    pub model: Pubkey,
    pub bounty: Pubkey,
    pub id: u64,
    pub proposal: Pubkey,
    pub terms: BountyTerms,
    pub submit_ends: i64,
    pub commit_ends: i64,
    pub reveal_ends: i64,
    pub pool_available: u64,
}

#[event]
pub struct WorkSubmitted {
    pub bounty: Pubkey,
    pub submission: Pubkey,
    pub contributor: Pubkey,
    pub content_hash: [u8; 32],
    pub uri: String,
    pub bond: u64,
}

#[event]
pub struct ReviewCommitted {
    pub submission: Pubkey,
    pub reviewer: Pubkey,
    pub weight: u64,
    pub bond: u64,
}

#[event]
pub struct ReviewRevealed {
    pub submission: Pubkey,
    pub reviewer: Pubkey,
    pub choice: ReviewChoice,
    pub weight: u64,
}

#[event]
pub struct SubmissionFinalized {
    pub bounty: Pubkey,
    pub submission: Pubkey,
    pub outcome: SubmissionOutcome,
    pub tally: ReviewTally,
    pub fee_pool: u64,
    pub winning_weight: u64,
    pub clear: bool,
}

/// Every submission is finalised: each accepted one's award is fixed and
/// the rest of the reservation is back in the pool.
#[event]
pub struct BountySettled {
    pub bounty: Pubkey,
    pub accepted: u16,
    pub award: u64,
    pub released: u64,
}

#[event]
pub struct SubmissionClaimed {
    pub submission: Pubkey,
    pub contributor: Pubkey,
    pub outcome: SubmissionOutcome,
    pub amount: u64,
}

#[event]
pub struct ReviewClaimed {
    pub submission: Pubkey,
    pub reviewer: Pubkey,
    pub amount: u64,
    pub fee: u64,
    pub slashed: bool,
    /// Rounding dust returned to the pool by the last winner's claim.
    pub dust_released: u64,
}
