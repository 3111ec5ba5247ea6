//! mt_treasury's rules, answered by the program's own functions.
use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, Result};
use mt_treasury::instructions::create_model_token::{validate_metadata, CreateModelTokenArgs};
use mt_treasury::instructions::launch_model::{
    min_sold_out_raise, validate_terms, CrowdfundTerms, LaunchModelArgs, QueryPrice, VestingTerms,
};
use mt_treasury::state::*;
use serde_json::{json, Value};

use crate::input::*;
use crate::Answer;

fn crowdfund(v: &Value) -> Result<Crowdfund> {
    Ok(Crowdfund {
        price: u64_(v, "price")?,
        soft_cap: u64_(v, "soft_cap")?,
        hard_cap: u64_(v, "hard_cap")?,
        start: i64_(v, "start")?,
        end: i64_(v, "end")?,
        per_wallet_cap: u64_(v, "per_wallet_cap")?,
        liquidity_bps: u16_(v, "liquidity_bps")?,
        protocol_fee_bps: u16_(v, "protocol_fee_bps")?,
        allowlist_root: [0; 32],
        raised: u64_(v, "raised")?,
        sold: u64_(v, "sold")?,
        contributors: 0,
        finalized_at: 0,
        protocol_fee: 0,
        liquidity_native: u64_(v, "liquidity_native")?,
    })
}

fn supply(v: &Value) -> Result<SupplySplit> {
    Ok(SupplySplit {
        hard_supply: u64_(v, "hard_supply")?,
        creator: u64_(v, "creator")?,
        crowdfund: u64_(v, "crowdfund")?,
        liquidity: u64_(v, "liquidity")?,
        contributor_rewards: u64_(v, "contributor_rewards")?,
    })
}

fn proposal(v: &Value) -> Result<Proposal> {
    let state = match str_(v, "state")? {
        "voting" => ProposalState::Voting,
        "passed" => ProposalState::Passed,
        "failed" => ProposalState::Failed,
        "executed" => ProposalState::Executed,
        other => return Err(anyhow!("unknown proposal state {other:?}")),
    };
    Ok(Proposal {
        model: Pubkey::default(),
        index: 0,
        proposer: Pubkey::default(),
        action: ProposalAction::Signal,
        content_hash: [0; 32],
        uri: String::new(),
        state,
        created_at: 0,
        voting_ends: i64_(v, "voting_ends")?,
        quorum_bps: u16_(v, "quorum_bps")?,
        threshold_bps: u16_(v, "threshold_bps")?,
        hold_up_secs: 0,
        circulating_supply: u64_(v, "circulating_supply")?,
        max_vote_weight: u64_(v, "max_vote_weight")?,
        yes: u64_(v, "yes")?,
        no: u64_(v, "no")?,
        abstain: u64_(v, "abstain")?,
        votes: 0,
        finalized_at: 0,
        execute_after: 0,
        executed_at: 0,
        bump: 0,
    })
}

fn voter(v: &Value) -> Result<Voter> {
    Ok(Voter {
        model: Pubkey::default(),
        owner: Pubkey::default(),
        deposited: u64_(v, "deposited")?,
        warming: u64_(v, "warming")?,
        warm_at: 0,
        locked_until: 0,
        reward_checkpoint: u128_(v, "reward_checkpoint")?,
        rewards_owed: 0,
        rewards_claimed: 0,
        bump: 0,
        recent: u64_(v, "recent")?,
        recent_votes_from: i64_(v, "recent_votes_from")?,
        settled_votes_from: i64_(v, "settled_votes_from")?,
    })
}

fn revenue(v: &Value) -> Result<RevenueState> {
    Ok(RevenueState {
        depositor_share_bps: u16_(v, "depositor_share_bps")?,
        acc_per_share: u128_(v, "acc_per_share")?,
        total_deposited: u64_(v, "total_deposited")?,
        total_revenue: 0,
        treasury_revenue: 0,
        warming: 0,
        warmup_secs: 0,
        depositors_revenue: 0,
        rewards_claimed: 0,
    })
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::FailedQuorum => "failed_quorum",
        Outcome::FailedThreshold => "failed_threshold",
    }
}

fn launch_args(v: &Value) -> Result<LaunchModelArgs> {
    let allowlist_root = match &v["allowlist_root"] {
        Value::Null => None,
        Value::Array(bytes) => {
            let mut r = [0u8; 32];
            anyhow::ensure!(bytes.len() == 32, "allowlist_root: want 32 bytes");
            for (i, b) in bytes.iter().enumerate() {
                r[i] = b.as_u64().and_then(|b| u8::try_from(b).ok()).ok_or_else(|| anyhow!("allowlist_root: bytes"))?;
            }
            Some(r)
        }
        other => return Err(anyhow!("allowlist_root: want an array of 32 numbers or nothing, got {other}")),
    };
    Ok(LaunchModelArgs {
        supply: supply(v)?,
        vesting: VestingTerms { cliff_secs: i64_(v, "cliff_secs")?, duration_secs: i64_(v, "duration_secs")? },
        crowdfund: CrowdfundTerms {
            price: u64_(v, "price")?,
            soft_cap: u64_(v, "soft_cap")?,
            hard_cap: u64_(v, "hard_cap")?,
            start: i64_(v, "start")?,
            end: i64_(v, "end")?,
            per_wallet_cap: u64_(v, "per_wallet_cap")?,
            liquidity_bps: u16_(v, "liquidity_bps")?,
            allowlist_root,
        },
        governance: GovernanceRules {
            quorum_bps: u16_(v, "quorum_bps")?,
            threshold_bps: u16_(v, "threshold_bps")?,
            voting_period_secs: i64_(v, "voting_period_secs")?,
            hold_up_secs: i64_(v, "hold_up_secs")?,
            min_propose_mt: u64_(v, "min_propose_mt")?,
        },
        depositor_share_bps: u16_(v, "depositor_share_bps")?,
        price: QueryPrice { input_per_1k: u64_(v, "input_per_1k")?, output_per_1k: u64_(v, "output_per_1k")? },
    })
}

/// Answers mt_treasury's rules; None for a rule that is not one of them.
pub fn answer(rule: &str, v: &Value) -> Result<Option<Answer>> {
    let a: Answer = match rule {
        "raise_due" => {
            let c = crowdfund(v)?;
            c.can_finalize(i64_(v, "now")?, u64_(v, "sale_allocation")?)
                .map(|due| json!({ "due": due }))
                .map_err(error_name)
        }
        "fill" => {
            let c = crowdfund(v)?;
            c.fill(u64_(v, "sale_allocation")?, u64_(v, "wallet_paid")?, u64_(v, "offered")?)
                .map(|f| json!({ "mt": f.mt, "cost": f.cost }))
                .map_err(error_name)
        }
        "claimable" => {
            let vest = Vesting {
                start: i64_(v, "start")?,
                cliff_secs: i64_(v, "cliff_secs")?,
                duration_secs: i64_(v, "duration_secs")?,
                claimed: u64_(v, "claimed")?,
            };
            let (total, now) = (u64_(v, "total")?, i64_(v, "now")?);
            match vest.vested(total, now) {
                Err(e) => Err(error_name(e)),
                Ok(vested) => {
                    vest.claimable(total, now).map(|c| json!({ "vested": vested, "claimable": c })).map_err(error_name)
                }
            }
        }
        "tally" => {
            let p = proposal(v)?;
            let t = p.tally().map_err(|e| anyhow!("tally: {}", error_name(e)))?;
            let now = i64_(v, "now")?;
            let due = match p.finalize_outcome(now) {
                Err(e) => return Ok(Some(Err(error_name(e)))),
                Ok(o) => p.state == ProposalState::Voting && o.is_some(),
            };
            Ok(json!({
                "quorum_met": t.quorum_met(),
                "threshold_met": t.threshold_met(),
                "outcome": outcome_name(t.outcome()),
                "decided": t.decided().map(outcome_name).unwrap_or(""),
                "due": due,
            }))
        }
        "swap" => {
            let market = Market {
                opened_at: 1,
                reserve_mt: u64_(v, "reserve_mt")?,
                reserve_native: u64_(v, "reserve_native")?,
                ..Default::default()
            };
            let side = if bool_(v, "buy")? { SwapSide::Buy } else { SwapSide::Sell };
            let rev = revenue(v)?;
            market
                .quote(side, u64_(v, "amount_in")?, u16_(v, "swap_fee_bps")?, u16_(v, "protocol_share_bps")?)
                .and_then(|q| Ok((q, rev.split(q.model_fee)?)))
                .map(|(q, split)| {
                    json!({
                        "amount_out": q.amount_out, "fee": q.fee, "protocol_fee": q.protocol_fee, "model_fee": q.model_fee,
                        "reserve_mt": q.reserve_mt, "reserve_native": q.reserve_native,
                        "to_depositors": split.to_depositors, "to_treasury": split.to_treasury,
                    })
                })
                .map_err(error_name)
        }
        "market_seed" => {
            let (mt, native) = mt_treasury::state::market_seed(&supply(v)?, &crowdfund(v)?);
            Ok(json!({ "reserve_mt": mt, "reserve_native": native }))
        }
        "vote_weight" => Ok(json!({ "weight": voter(v)?.vote_weight(i64_(v, "created_at")?) })),
        "price_at" => {
            let p = QueryPricing {
                input_per_1k: u64_(v, "input_per_1k")?,
                output_per_1k: u64_(v, "output_per_1k")?,
                previous_input_per_1k: u64_(v, "previous_input_per_1k")?,
                previous_output_per_1k: u64_(v, "previous_output_per_1k")?,
                effective_at: i64_(v, "effective_at")?,
            };
            let (input, output) = p.at(i64_(v, "served_at")?);
            Ok(json!({ "input": input, "output": output }))
        }
        "pending" => revenue(v)?.pending(&voter(v)?).map(|p| json!({ "pending": p })).map_err(error_name),
        "credit" => {
            let mut rev = revenue(v)?;
            rev.credit(u64_(v, "amount")?)
                .map(|s| {
                    json!({ "to_depositors": s.to_depositors, "to_treasury": s.to_treasury, "acc_per_share": rev.acc_per_share.to_string() })
                })
                .map_err(error_name)
        }
        "min_sold_out_raise" => min_sold_out_raise(u64_(v, "price")?, u64_(v, "hard_cap")?)
            .map(|r| json!({ "raise": r }))
            .map_err(error_name),
        "proceeds" => crowdfund(v)?
            .proceeds()
            .map(|p| json!({ "protocol_fee": p.protocol_fee, "liquidity": p.liquidity, "treasury": p.treasury }))
            .map_err(error_name),
        "validate_terms" => {
            validate_terms(&launch_args(v)?, i64_(v, "min_period_secs")?, u16_(v, "protocol_fee_bps")?, i64_(v, "now")?)
                .map(|()| json!({}))
                .map_err(error_name)
        }
        "validate_metadata" => validate_metadata(&CreateModelTokenArgs {
            name: str_(v, "name")?.to_string(),
            symbol: str_(v, "symbol")?.to_string(),
            uri: str_(v, "uri")?.to_string(),
        })
        .map(|()| json!({}))
        .map_err(error_name),
        _ => return Ok(None),
    };
    Ok(Some(a))
}
