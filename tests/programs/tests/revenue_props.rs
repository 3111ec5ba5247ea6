//! mt_treasury stage 3, revenue sharing: property tests.
//!
//! Random sequences of deposits, withdrawals, revenue, claims, checkpoints
//! and clock moves over four holders, through the runtime, against an
//! independent reference that shares every revenue deposit exactly (as a
//! fixed-point rational with 10^15 of precision) among the MT earning at
//! that moment under the documented warm-up rule. Checked:
//! - every holder's rewards (claimed + owed) never exceed their exact
//!   pro-rata share, and fall short of it by less than one base unit per
//!   checkpoint of theirs plus one (the dust bound of state/revenue.rs);
//! - the revenue vault never pays out more than it received: after every
//!   step it holds exactly what depositors were credited minus what was
//!   claimed, which covers everything still owed;
//! - value is conserved: the sponsor's payments equal the vault and
//!   treasury increases plus the claims.
//! A second, faster property drives `RevenueState` directly with many
//! more cases.

mod treasury_common;

use mt_treasury::errors::TreasuryError;
use mt_treasury::state::{RevenueState, Voter};
use program_tests::*;
use proptest::prelude::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

const SCALE: u128 = 1_000_000_000_000_000;
const HOLDERS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    /// Deposit: `small` base units, or `pct` % of the wallet's MT.
    Deposit { who: usize, pct: u8, small: Option<u16> },
    Withdraw { who: usize, pct: u8 },
    Revenue { amount: u64 },
    Claim { who: usize },
    Checkpoint { who: usize },
    Warp { secs: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..HOLDERS, 1u8..=100, proptest::option::weighted(0.3, 1u16..1_000)).prop_map(|(who, pct, small)| Op::Deposit { who, pct, small }),
        2 => (0..HOLDERS, 1u8..=100).prop_map(|(who, pct)| Op::Withdraw { who, pct }),
        4 => prop_oneof![1u64..100, 1u64..1_000_000_000].prop_map(|amount| Op::Revenue { amount }),
        2 => (0..HOLDERS).prop_map(|who| Op::Claim { who }),
        1 => (0..HOLDERS).prop_map(|who| Op::Checkpoint { who }),
        3 => (0i64..7_200).prop_map(|secs| Op::Warp { secs }),
    ]
}

/// What the rules say, tracked independently of the program.
#[derive(Default, Clone)]
struct Holder {
    wallet_mt: u64,
    deposited: u64,
    warming: u64,
    warm_at: i64,
    has_record: bool,
    /// Exact share so far, scaled by SCALE.
    exact: u128,
    checkpoints: u64,
    claimed: u64,
}

struct Reference {
    bps: u64,
    warmup: i64,
    holders: Vec<Holder>,
    sponsor_paid: u64,
}

impl Reference {
    fn touch(&mut self, who: usize, now: i64) {
        let h = &mut self.holders[who];
        if h.warming > 0 && now >= h.warm_at {
            h.warming = 0;
        }
        h.checkpoints += 1;
    }

    fn revenue(&mut self, amount: u64) -> u64 {
        let earning: u128 = self.holders.iter().map(|h| (h.deposited - h.warming) as u128).sum();
        if earning == 0 {
            return 0;
        }
        let to_depositors = amount as u128 * self.bps as u128 / 10_000;
        for h in &mut self.holders {
            h.exact += to_depositors * (h.deposited - h.warming) as u128 * SCALE / earning;
        }
        to_depositors as u64
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut d = Active::new(&[30_000 * NATIVE, 25_000 * NATIVE, 20_000 * NATIVE, 10_000 * NATIVE]);
    let holders: Vec<Keypair> = d.holders.iter().map(|h| h.insecure_clone()).collect();
    let sponsor = d.f.wallet(u64::MAX / 4);
    let model = d.model();
    let mut r = Reference {
        bps: model.revenue.depositor_share_bps as u64,
        warmup: model.revenue.warmup_secs,
        holders: holders.iter().map(|h| Holder { wallet_mt: d.f.h.token_balance(&d.mt_ata(&h.pubkey())), ..Default::default() }).collect(),
        sponsor_paid: 0,
    };
    let vault0 = d.f.h.token_balance(&d.keys.revenue);
    let treasury0 = d.f.h.token_balance(&d.keys.treasury);
    let native0: Vec<u64> = holders.iter().map(|h| d.f.h.token_balance(&d.native_ata(&h.pubkey()))).collect();

    for op in ops {
        let now = d.now();
        match op {
            Op::Deposit { who, pct, small } => {
                let h = &r.holders[who];
                let amount = match small {
                    Some(s) => (s as u64).min(h.wallet_mt),
                    None => h.wallet_mt * pct as u64 / 100,
                };
                if amount == 0 {
                    continue;
                }
                d.deposit_mt(&holders[who], amount).map_err(|e| TestCaseError::fail(format!("deposit: {e:?}")))?;
                r.touch(who, now);
                let h = &mut r.holders[who];
                h.has_record = true;
                h.wallet_mt -= amount;
                h.deposited += amount;
                h.warming += amount;
                h.warm_at = now + r.warmup;
            }
            Op::Withdraw { who, pct } => {
                let amount = r.holders[who].deposited * pct as u64 / 100;
                if amount == 0 {
                    continue;
                }
                d.withdraw_mt(&holders[who], amount).map_err(|e| TestCaseError::fail(format!("withdraw: {e:?}")))?;
                r.touch(who, now);
                let h = &mut r.holders[who];
                let from_warming = amount.min(h.warming);
                h.warming -= from_warming;
                h.deposited -= amount;
                h.wallet_mt += amount;
            }
            Op::Revenue { amount } => {
                let vault = d.f.h.token_balance(&d.keys.revenue);
                d.deposit_revenue(&sponsor, amount).map_err(|e| TestCaseError::fail(format!("revenue: {e:?}")))?;
                let to_depositors = r.revenue(amount);
                r.sponsor_paid += amount;
                prop_assert_eq!(d.f.h.token_balance(&d.keys.revenue) - vault, to_depositors, "depositors' share");
            }
            Op::Claim { who } => {
                if !r.holders[who].has_record {
                    continue;
                }
                let ata = d.native_ata(&holders[who].pubkey());
                let before = d.f.h.token_balance(&ata);
                match d.claim_rewards(&holders[who]) {
                    Ok(_) => {
                        r.touch(who, now);
                        r.holders[who].claimed += d.f.h.token_balance(&ata) - before;
                    }
                    Err(e) => {
                        assert_error(&Err(e), TreasuryError::NothingToClaim);
                    }
                }
            }
            Op::Checkpoint { who } => {
                if !r.holders[who].has_record {
                    continue;
                }
                d.checkpoint(&sponsor, &holders[who].pubkey()).map_err(|e| TestCaseError::fail(format!("checkpoint: {e:?}")))?;
                r.touch(who, now);
            }
            Op::Warp { secs } => d.warp(now + secs),
        }
        check_vault(&d, &holders)?;
        let m = d.model();
        let earning: u64 = r.holders.iter().map(|h| h.deposited - h.warming).sum();
        let warming: u64 = r.holders.iter().map(|h| h.warming).sum();
        prop_assert_eq!((m.revenue.total_deposited, m.revenue.warming), (earning, warming), "earning and warming MT follow the warm-up rule");
    }

    // Settle everyone, then compare with the exact shares.
    let now = d.now();
    for (who, h) in holders.iter().enumerate() {
        if r.holders[who].has_record {
            d.checkpoint(&sponsor, &h.pubkey()).unwrap();
            r.touch(who, now);
        }
    }
    let mut vault_owes = 0u64;
    for (who, h) in holders.iter().enumerate() {
        let x = &r.holders[who];
        let (claimed, owed) = if x.has_record {
            let v = d.voter(&h.pubkey());
            (v.rewards_claimed, v.rewards_owed)
        } else {
            (0, 0)
        };
        prop_assert_eq!(claimed, x.claimed, "claims paid what the record says");
        prop_assert_eq!(d.f.h.token_balance(&d.native_ata(&h.pubkey())) - native0[who], claimed);
        let paid = (claimed + owed) as u128 * SCALE;
        let slack = 64; // fixed-point floors of the reference, < 64 / 10^15 base units
        prop_assert!(paid <= x.exact + slack, "holder {who} got more than their share: {paid} > {}", x.exact);
        prop_assert!(x.exact < paid + (x.checkpoints as u128 + 1) * SCALE, "holder {who} short by more than the dust bound");
        vault_owes += owed;
    }
    let vault = d.f.h.token_balance(&d.keys.revenue) - vault0;
    prop_assert!(vault >= vault_owes);
    let claims: u64 = r.holders.iter().map(|h| h.claimed).sum();
    let treasury = d.f.h.token_balance(&d.keys.treasury) - treasury0;
    prop_assert_eq!(r.sponsor_paid, vault + treasury + claims, "conservation");
    Ok(())
}

/// The revenue vault holds exactly credited − claimed, and that covers every record's owed + pending.
fn check_vault(d: &Active, holders: &[Keypair]) -> Result<(), TestCaseError> {
    let m = d.model();
    let vault = d.f.h.token_balance(&d.keys.revenue);
    prop_assert_eq!(vault, m.revenue.depositors_revenue - m.revenue.rewards_claimed);
    let mut owed = 0u64;
    for h in holders {
        let addr = voter_pda(&d.keys.model, &h.pubkey());
        if d.f.h.exists(&addr) {
            let v: Voter = d.f.h.account(&addr);
            owed += v.rewards_owed + m.revenue.pending(&v).unwrap();
        }
    }
    prop_assert!(vault >= owed, "vault {vault} < owed {owed}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn claims_match_exact_pro_rata_shares_and_the_vault_never_overpays(ops in proptest::collection::vec(op(), 1..40)) {
        run(ops)?;
    }
}

// ---------------------------------------------------------------- the accounting alone

#[derive(Debug, Clone)]
enum StateOp {
    Deposit(usize, u64),
    Withdraw(usize, u64),
    Revenue(u64),
    Claim(usize),
    Warp(i64),
}

fn state_op() -> impl Strategy<Value = StateOp> {
    prop_oneof![
        (0..6usize, prop_oneof![1u64..10, 1u64..10_000_000_000_000]).prop_map(|(i, a)| StateOp::Deposit(i, a)),
        (0..6usize, 1u64..=100).prop_map(|(i, p)| StateOp::Withdraw(i, p)),
        prop_oneof![1u64..10, 1u64..1_000_000_000_000].prop_map(StateOp::Revenue),
        (0..6usize).prop_map(StateOp::Claim),
        (0i64..200).prop_map(StateOp::Warp),
    ]
}

fn empty_voter() -> Voter {
    Voter {
        model: Pubkey::default(),
        owner: Pubkey::default(),
        deposited: 0,
        warming: 0,
        warm_at: 0,
        locked_until: 0,
        reward_checkpoint: 0,
        rewards_owed: 0,
        rewards_claimed: 0,
        bump: 0,
        recent: 0,
        recent_votes_from: 0,
        settled_votes_from: 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// `RevenueState` on its own, with stakes up to 10^13 base units and
    /// six holders: never owes more than it was credited, and credits plus
    /// the treasury's part equal every revenue deposit.
    #[test]
    fn the_accumulator_never_owes_more_than_it_was_credited(bps in 0u16..=10_000, ops in proptest::collection::vec(state_op(), 1..80)) {
        let mut s = RevenueState {
            depositor_share_bps: bps, acc_per_share: 0, total_deposited: 0, total_revenue: 0, treasury_revenue: 0,
            warming: 0, warmup_secs: 100, depositors_revenue: 0, rewards_claimed: 0,
        };
        let mut voters: Vec<Voter> = (0..6).map(|_| empty_voter()).collect();
        let mut now = 0i64;
        let mut revenue = 0u64;
        for op in ops {
            match op {
                StateOp::Deposit(i, a) => s.deposit(&mut voters[i], a, now).unwrap(),
                StateOp::Withdraw(i, pct) => {
                    let a = voters[i].deposited * pct / 100;
                    s.withdraw(&mut voters[i], a, now).unwrap();
                }
                StateOp::Revenue(a) => {
                    let split = s.credit(a).unwrap();
                    prop_assert_eq!(split.to_depositors + split.to_treasury, a);
                    revenue += a;
                }
                StateOp::Claim(i) => {
                    s.take_rewards(&mut voters[i], now).unwrap();
                }
                StateOp::Warp(t) => now += t,
            }
            let owed: u128 = voters.iter().map(|v| v.rewards_owed as u128 + s.pending(v).unwrap() as u128).sum();
            prop_assert!(s.rewards_claimed as u128 + owed <= s.depositors_revenue as u128, "owes more than credited");
            prop_assert_eq!(s.total_revenue, revenue);
            prop_assert_eq!(s.depositors_revenue + s.treasury_revenue, revenue);
            let earning: u64 = voters.iter().map(|v| v.earning()).sum();
            prop_assert_eq!(s.total_deposited, earning);
        }
    }
}
