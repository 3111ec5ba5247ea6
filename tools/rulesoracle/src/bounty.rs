//! mt_treasury's bounty rules (state/review_rule.rs, bounty.rs,
//! submission.rs, review.rs), answered by the program's own functions.
use anchor_lang::prelude::Pubkey;
use anyhow::{anyhow, Result};
use mt_treasury::state::*;
use serde_json::{json, Value};

use crate::input::*;
use crate::Answer;

fn terms(v: &Value) -> Result<BountyTerms> {
    Ok(BountyTerms {
        task_hash: [1; 32],
        reward: u64_(v, "reward")?,
        review_fee: u64_(v, "review_fee")?,
        submission_bond: u64_(v, "submission_bond")?,
        review_bond: u64_(v, "review_bond")?,
        max_submissions: u16_(v, "max_submissions")?,
        min_reviewers: u16_(v, "min_reviewers")?,
        threshold_bps: u16_(v, "threshold_bps")?,
        min_reputation: 0,
        submit_secs: 1,
        review_secs: 1,
    })
}

fn tally(v: &Value) -> Result<ReviewTally> {
    Ok(ReviewTally {
        commits: u16_(v, "commits")?,
        reveals: u16_(v, "reveals")?,
        approve_weight: u64_(v, "approve_weight")?,
        reject_weight: u64_(v, "reject_weight")?,
        spam_weight: u64_(v, "spam_weight")?,
        approvals: u16_(v, "approvals")?,
        rejections: u16_(v, "rejections")?,
        spam_calls: u16_(v, "spam_calls")?,
    })
}

fn choice(v: &Value, k: &str) -> Result<ReviewChoice> {
    Ok(match u64_(v, k)? {
        0 => ReviewChoice::Approve,
        1 => ReviewChoice::Reject,
        2 => ReviewChoice::Spam,
        other => return Err(anyhow!("field {k:?}: unknown choice {other}")),
    })
}

fn outcome_name(o: SubmissionOutcome) -> &'static str {
    match o {
        SubmissionOutcome::Pending => "pending",
        SubmissionOutcome::Accepted => "accepted",
        SubmissionOutcome::Rejected => "rejected",
        SubmissionOutcome::Spam => "spam",
        SubmissionOutcome::Unreviewed => "unreviewed",
    }
}

fn key(v: &Value, k: &str) -> Result<Pubkey> {
    let bytes = u64s(v, k)?;
    anyhow::ensure!(bytes.len() == 32, "field {k:?}: want 32 bytes");
    let mut b = [0u8; 32];
    for (i, x) in bytes.iter().enumerate() {
        b[i] = u8::try_from(*x).map_err(|_| anyhow!("field {k:?}: bytes"))?;
    }
    Ok(Pubkey::new_from_array(b))
}

pub fn answer(rule: &str, v: &Value) -> Result<Option<Answer>> {
    let a: Answer = match rule {
        // Finalising a submission, then one review's and the contributor's payouts.
        "bounty_review" => {
            let t = terms(v)?;
            let st = match tally(v)?.settle(&t) {
                Ok(st) => st,
                Err(e) => return Ok(Some(Err(error_name(e)))),
            };
            let s = Submission {
                bounty: Pubkey::default(),
                contributor: Pubkey::default(),
                content_hash: [0; 32],
                uri: String::new(),
                bond: t.submission_bond,
                submitted_at: 0,
                tally: tally(v)?,
                outcome: st.outcome,
                fee_pool: st.fee_pool,
                winning_weight: st.winning_weight,
                winners: st.winners,
                clear: st.clear,
                slash: st.slash,
                fee_paid: 0,
                winner_claims: 0,
                claimed: false,
                bump: 0,
            };
            let r = Review {
                submission: Pubkey::default(),
                reviewer: Pubkey::default(),
                commitment: [0; 32],
                weight: u64_(v, "weight")?,
                bond: t.review_bond,
                revealed: bool_(v, "revealed")?,
                choice: choice(v, "choice")?,
                claimed: false,
                bump: 0,
            };
            match (review_payout(&r, &s), s.contributor_payout(u64_(v, "award")?)) {
                (Err(e), _) | (_, Err(e)) => Err(error_name(e)),
                (Ok(p), Ok(contributor)) => Ok(json!({
                    "outcome": outcome_name(st.outcome), "fee_pool": st.fee_pool, "winning_weight": st.winning_weight,
                    "winners": st.winners, "clear": st.clear, "slash": st.slash,
                    "amount": p.amount, "fee": p.fee, "winner": p.winner, "slashed": p.slashed, "contributor": contributor,
                })),
            }
        }
        "bounty_settlement" => {
            let t = terms(v)?;
            let reservation = t.reservation();
            let b = Bounty {
                model: Pubkey::default(),
                id: 0,
                proposal: Pubkey::default(),
                terms: t,
                created_at: 0,
                submit_ends: 0,
                commit_ends: 0,
                reveal_ends: 0,
                submissions: u16_(v, "submissions")?,
                finalized: 0,
                accepted: u16_(v, "accepted")?,
                settled: false,
                award: 0,
                bump: 0,
            };
            match (reservation, b.settlement()) {
                (Err(e), _) | (_, Err(e)) => Err(error_name(e)),
                (Ok(res), Ok((award, owed, released))) => {
                    Ok(json!({ "reservation": res, "award": award, "owed": owed, "released": released }))
                }
            }
        }
        "review_commitment" => {
            let salt = key(v, "salt")?.to_bytes();
            let c = review_commitment(choice(v, "choice")?, &salt, &key(v, "submission")?, &key(v, "reviewer")?);
            Ok(json!({ "commitment": c.to_vec() }))
        }
        _ => return Ok(None),
    };
    Ok(Some(a))
}
