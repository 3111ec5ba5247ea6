//! PDA seed prefixes. Each is an IDL `#[constant]`; the Go clients use the generated copies.
//!
//! Singletons: [PROTOCOL], [FEE_VAULT].
//! Per model (second seed: the model id as u64 little-endian for MODEL, the
//! model's address for everything else): MODEL, MT_MINT and the vaults.
//! Per model and wallet: CONTRIBUTION, VOTER. Per proposal and voter: VOTE.
use anchor_lang::prelude::*;

#[constant]
pub const PROTOCOL: &[u8] = b"protocol";
#[constant]
pub const FEE_VAULT: &[u8] = b"fee_vault";

#[constant]
pub const MODEL: &[u8] = b"model";
#[constant]
pub const MT_MINT: &[u8] = b"mt_mint";
/// Native tokens paid by contributors, held until the raise finalises.
#[constant]
pub const RAISE_VAULT: &[u8] = b"raise_vault";
/// The model's native-token treasury, spent only by governance.
#[constant]
pub const TREASURY_VAULT: &[u8] = b"treasury_vault";
/// Native-token revenue owed to MT depositors, paid out by `claim_rewards`.
#[constant]
pub const REVENUE_VAULT: &[u8] = b"revenue_vault";
/// Native tokens earmarked at finalisation (the model's `liquidity_bps` of
/// the net raise) for the native side of the model's market.
#[constant]
pub const LIQUIDITY_NATIVE_VAULT: &[u8] = b"liquidity_native_vault";
/// MT allocations, minted at finalisation.
#[constant]
pub const SALE_VAULT: &[u8] = b"sale_vault";
#[constant]
pub const CREATOR_VAULT: &[u8] = b"creator_vault";
#[constant]
pub const LIQUIDITY_VAULT: &[u8] = b"liquidity_vault";
#[constant]
pub const REWARDS_VAULT: &[u8] = b"rewards_vault";
/// MT deposited by voters.
#[constant]
pub const DEPOSIT_VAULT: &[u8] = b"deposit_vault";

#[constant]
pub const CONTRIBUTION: &[u8] = b"contribution";
#[constant]
pub const VOTER: &[u8] = b"voter";
#[constant]
pub const PROPOSAL: &[u8] = b"proposal";
#[constant]
pub const VOTE: &[u8] = b"vote";

/// Bounties (see BOUNTIES.md). Per model: BOUNTY_POOL and its native vault
/// BOUNTY_VAULT; BOUNTY + model + id (u64 LE); SUBMISSION + bounty +
/// contributor; REVIEW + submission + reviewer; REPUTATION + model + wallet;
/// WORK + model + content hash.
#[constant]
pub const BOUNTY_POOL: &[u8] = b"bounty_pool";
#[constant]
pub const BOUNTY_VAULT: &[u8] = b"bounty_vault";
#[constant]
pub const BOUNTY: &[u8] = b"bounty";
#[constant]
pub const SUBMISSION: &[u8] = b"submission";
#[constant]
pub const REVIEW: &[u8] = b"review";
#[constant]
pub const REPUTATION: &[u8] = b"reputation";
#[constant]
pub const WORK: &[u8] = b"work";
