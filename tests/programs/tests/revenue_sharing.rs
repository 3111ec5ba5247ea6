//! mt_treasury stage 3, revenue sharing: deposit_revenue splits revenue
//! between MT depositors (reward-per-share accumulator) and the model
//! treasury; claim_rewards pays; deposits warm up before they earn, which
//! defeats depositing just before a known settlement (see state/revenue.rs).
//! Standard model: depositors' share 70 %, warm-up 3 600 s.

mod treasury_common;

use mt_treasury::errors::TreasuryError;
use mt_treasury::events::{RevenueDeposited, RewardsClaimed, VoterCheckpointed};
use mt_treasury::state::{ProposalAction, VoteChoice, ACC_SCALE, MT_UNIT};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

const MT: u64 = MT_UNIT;

fn setup() -> (Active, Keypair, Keypair, Keypair, Keypair) {
    let d = Active::standard();
    let [a, b, c] = [0, 1, 2].map(|i| d.holders[i].insecure_clone());
    let mut d = d;
    let sponsor = d.f.wallet(1_000_000 * NATIVE);
    (d, a, b, c, sponsor)
}

fn claimed(d: &Active, owner: &Keypair) -> u64 {
    d.f.h.token_balance(&d.native_ata(&owner.pubkey()))
}

#[test]
fn revenue_with_nothing_earning_goes_to_the_treasury() {
    let (mut d, a, _b, _c, sponsor) = setup();
    let treasury = d.f.h.token_balance(&d.keys.treasury);
    let ev: RevenueDeposited = event(&d.deposit_revenue(&sponsor, 100 * NATIVE).unwrap());
    assert_eq!((ev.to_depositors, ev.to_treasury, ev.earning_mt), (0, 100 * NATIVE, 0));
    // Deposited but still warming: nothing earns yet either.
    d.deposit_mt(&a, 15_000 * MT).unwrap();
    let ev: RevenueDeposited = event(&d.deposit_revenue(&sponsor, 100 * NATIVE).unwrap());
    assert_eq!((ev.to_depositors, ev.to_treasury), (0, 100 * NATIVE));
    assert_eq!(d.f.h.token_balance(&d.keys.treasury), treasury + 200 * NATIVE);
    assert_eq!(d.f.h.token_balance(&d.keys.revenue), 0);
    let r = d.model().revenue;
    assert_eq!((r.total_revenue, r.treasury_revenue, r.acc_per_share), (200 * NATIVE, 200 * NATIVE, 0));
}

#[test]
fn revenue_is_shared_pro_rata_among_earning_depositors() {
    let (mut d, a, b, _c, sponsor) = setup();
    d.deposit_mt(&a, 15_000 * MT).unwrap();
    d.deposit_mt(&b, 10_000 * MT).unwrap();
    d.warm_up(&[&a, &b]);
    let treasury = d.f.h.token_balance(&d.keys.treasury);
    let ev: RevenueDeposited = event(&d.deposit_revenue(&sponsor, 1_000 * NATIVE).unwrap());
    assert_eq!((ev.to_depositors, ev.to_treasury), (700 * NATIVE, 300 * NATIVE));
    assert_eq!(ev.acc_per_share, 700 * NATIVE as u128 * ACC_SCALE / (25_000 * MT) as u128);
    assert_eq!(d.f.h.token_balance(&d.keys.treasury), treasury + 300 * NATIVE);
    assert_eq!(d.f.h.token_balance(&d.keys.revenue), 700 * NATIVE);

    let a_before = claimed(&d, &a);
    let ev: RewardsClaimed = event(&d.claim_rewards(&a).unwrap());
    assert_eq!(ev.amount, 420 * NATIVE, "15 000 of 25 000 earning MT");
    assert_eq!(claimed(&d, &a), a_before + 420 * NATIVE);
    let b_before = claimed(&d, &b);
    d.claim_rewards(&b).unwrap();
    assert_eq!(claimed(&d, &b), b_before + 280 * NATIVE);
    assert_eq!(d.f.h.token_balance(&d.keys.revenue), 0);
    // [7] A claim is one-shot per accrual.
    assert_error(&d.claim_rewards(&a), TreasuryError::NothingToClaim);
    let r = d.model().revenue;
    assert_eq!((r.depositors_revenue, r.rewards_claimed), (700 * NATIVE, 700 * NATIVE));
}

#[test]
fn the_warm_up_defeats_depositing_just_before_a_settlement() {
    let (mut d, a, b, _c, sponsor) = setup();
    d.deposit_mt(&a, 5_000 * MT).unwrap();
    d.warm_up(&[&a]);
    // b knows a big settlement is about to land: deposits twice a's stake
    // right before it and leaves right after.
    d.deposit_mt(&b, 10_000 * MT).unwrap();
    d.deposit_revenue(&sponsor, 1_000 * NATIVE).unwrap();
    d.withdraw_mt(&b, 10_000 * MT).expect("no vote, no lock");
    assert_error(&d.claim_rewards(&b), TreasuryError::NothingToClaim);
    let a_before = claimed(&d, &a);
    d.claim_rewards(&a).unwrap();
    assert_eq!(claimed(&d, &a) - a_before, 700 * NATIVE, "all of the depositors' share stays with the MT that was earning");

    // Staying through the warm-up earns from then on, and only from then on.
    d.deposit_mt(&b, 10_000 * MT).unwrap();
    let warm_at = d.voter(&b.pubkey()).warm_at;
    d.warp(warm_at - 1);
    d.deposit_revenue(&sponsor, 300 * NATIVE).unwrap(); // [12] one second early: a's alone
    d.warp(warm_at);
    d.checkpoint(&sponsor, &b.pubkey()).unwrap();
    d.deposit_revenue(&sponsor, 300 * NATIVE).unwrap();
    let (a_before, b_before) = (claimed(&d, &a), claimed(&d, &b));
    d.claim_rewards(&a).unwrap();
    d.claim_rewards(&b).unwrap();
    assert_eq!(claimed(&d, &a) - a_before, 210 * NATIVE + 70 * NATIVE);
    assert_eq!(claimed(&d, &b) - b_before, 140 * NATIVE);
}

#[test]
fn adding_to_a_warming_deposit_restarts_its_warm_up() {
    let (mut d, a, _b, _c, _sponsor) = setup();
    d.deposit_mt(&a, 1_000 * MT).unwrap();
    let first = d.voter(&a.pubkey()).warm_at;
    d.warp(first - 10);
    d.deposit_mt(&a, 1_000 * MT).unwrap();
    let v = d.voter(&a.pubkey());
    assert_eq!((v.warming, v.warm_at), (2_000 * MT, first - 10 + 3_600));
    d.warp(first);
    let ev: VoterCheckpointed = event(&d.checkpoint(&a, &a.pubkey()).unwrap());
    assert_eq!((ev.activated, ev.earning), (0, 0));
    // Once warmed, further deposits warm on their own.
    d.warp(first - 10 + 3_600);
    let ev: VoterCheckpointed = event(&d.checkpoint(&a, &a.pubkey()).unwrap());
    assert_eq!((ev.activated, ev.earning, ev.warming), (2_000 * MT, 2_000 * MT, 0));
    d.deposit_mt(&a, 500 * MT).unwrap();
    let v = d.voter(&a.pubkey());
    assert_eq!((v.deposited, v.warming), (2_500 * MT, 500 * MT));
    assert_eq!(d.model().revenue.total_deposited, 2_000 * MT);
    assert_eq!(d.model().revenue.warming, 500 * MT);
}

#[test]
fn warmed_mt_earns_from_its_checkpoint_which_anyone_may_make() {
    let (mut d, a, b, _c, sponsor) = setup();
    d.deposit_mt(&a, 10_000 * MT).unwrap();
    d.deposit_mt(&b, 10_000 * MT).unwrap();
    d.warm_up(&[&a]);
    // b's warm-up is over but nobody checkpointed b yet: a earns it all.
    d.deposit_revenue(&sponsor, 100 * NATIVE).unwrap();
    let ev: VoterCheckpointed = event(&d.checkpoint(&sponsor, &b.pubkey()).expect("anyone may checkpoint"));
    assert_eq!((ev.activated, ev.rewards_owed), (10_000 * MT, 0));
    d.deposit_revenue(&sponsor, 100 * NATIVE).unwrap();
    assert_eq!(d.voter(&b.pubkey()).rewards_owed, 0, "settled at the next checkpoint");
    let (a_before, b_before) = (claimed(&d, &a), claimed(&d, &b));
    d.claim_rewards(&a).unwrap();
    d.claim_rewards(&b).unwrap();
    assert_eq!(claimed(&d, &a) - a_before, 70 * NATIVE + 35 * NATIVE);
    assert_eq!(claimed(&d, &b) - b_before, 35 * NATIVE);
    // A second checkpoint changes nothing.
    let ev: VoterCheckpointed = event(&d.checkpoint(&sponsor, &b.pubkey()).unwrap());
    assert_eq!((ev.activated, ev.rewards_owed), (0, 0));
}

#[test]
fn deposits_and_withdrawals_settle_pending_rewards_first() {
    let (mut d, a, b, _c, sponsor) = setup();
    d.deposit_mt(&a, 5_000 * MT).unwrap();
    d.deposit_mt(&b, 5_000 * MT).unwrap();
    d.warm_up(&[&a, &b]);
    d.deposit_revenue(&sponsor, 200 * NATIVE).unwrap();
    // a withdraws everything: the 70 earned so far stays owed and claimable.
    d.withdraw_mt(&a, 5_000 * MT).unwrap();
    assert_eq!(d.voter(&a.pubkey()).rewards_owed, 70 * NATIVE);
    d.deposit_revenue(&sponsor, 200 * NATIVE).unwrap();
    // b deposits more: settles the 70 + 140 earned on the old stake first.
    d.deposit_mt(&b, 1_000 * MT).unwrap();
    assert_eq!(d.voter(&b.pubkey()).rewards_owed, 210 * NATIVE);
    let a_before = claimed(&d, &a);
    d.claim_rewards(&a).unwrap();
    assert_eq!(claimed(&d, &a) - a_before, 70 * NATIVE);
}

#[test]
fn a_revenue_rule_change_applies_from_the_next_deposit() {
    let (mut d, a, _b, _c, sponsor) = setup();
    d.deposit_mt(&a, 15_000 * MT).unwrap();
    d.warm_up(&[&a]);
    d.deposit_revenue(&sponsor, 100 * NATIVE).unwrap();
    let index = d.propose(&a, ProposalAction::SetRevenueRules { depositor_share_bps: 2_000, warmup_secs: 600 }).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    d.warp(d.proposal(index).execute_after);
    d.execute_proposal(&a, index).unwrap();
    let ev: RevenueDeposited = event(&d.deposit_revenue(&sponsor, 100 * NATIVE).unwrap());
    assert_eq!((ev.to_depositors, ev.to_treasury), (20 * NATIVE, 80 * NATIVE));
    let before = claimed(&d, &a);
    d.claim_rewards(&a).unwrap();
    // Earlier revenue keeps the old rule. (70 and 20 over 15 000 MT leave
    // accumulator dust: one base unit at most per revenue deposit.)
    let got = claimed(&d, &a) - before;
    assert!(got <= 90 * NATIVE && 90 * NATIVE - got <= 2, "got {got}");
}

#[test]
fn accumulator_dust_stays_in_the_vault() {
    let (mut d, a, b, c, sponsor) = setup();
    for (h, mt) in [(&a, 1), (&b, 1), (&c, 1)] {
        d.deposit_mt(h, mt).unwrap();
    }
    d.warm_up(&[&a, &b, &c]);
    // 10 base units, 7 to depositors, over 3 equal stakes: 2 each, 1 of dust.
    for _ in 0..1 {
        d.deposit_revenue(&sponsor, 10).unwrap();
    }
    let mut paid = 0;
    for h in [&a, &b, &c] {
        let before = claimed(&d, h);
        d.claim_rewards(h).unwrap();
        paid += claimed(&d, h) - before;
    }
    assert_eq!(paid, 6);
    assert_eq!(d.f.h.token_balance(&d.keys.revenue), 1, "dust never paid out");
    assert_error(&d.claim_rewards(&a), TreasuryError::NothingToClaim);
}
