//! mt_treasury stage 3, governance: parameter changes. Out-of-range values
//! are refused when proposed (and again at execution); a price change never
//! applies retroactively (SECURITY.md class 13).

mod treasury_common;

use mt_treasury::errors::TreasuryError;
use mt_treasury::events::ProposalExecuted;
use mt_treasury::instructions::{UpdateProtocolArgs, MAX_GOVERNANCE_PERIOD_SECS, MAX_QUERY_PRICE_PER_1K};
use mt_treasury::state::{SETTLE_WINDOW_SECS, GovernanceRules, ProposalAction, VoteChoice, MT_UNIT};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

const MT: u64 = MT_UNIT;

/// The standard model; holder a (15 000 MT) deposited, alone enough for quorum and threshold.
fn setup() -> (Active, Keypair) {
    let mut d = Active::standard();
    let a = d.holders[0].insecure_clone();
    d.deposit_mt(&a, 15_000 * MT).unwrap();
    d.warm_votes();
    (d, a)
}

/// Proposes, votes yes, finalises and executes `action`; returns the executed event.
fn pass_and_execute(d: &mut Active, a: &Keypair, action: ProposalAction) -> ProposalExecuted {
    let index = d.propose(a, action).expect("propose");
    d.vote(a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(a, index).unwrap();
    d.warp(d.proposal(index).execute_after);
    event(&d.execute_proposal(a, index).expect("execute"))
}

fn rules() -> GovernanceRules {
    GovernanceRules { quorum_bps: 2_000, threshold_bps: 6_000, voting_period_secs: 600, hold_up_secs: 300, min_propose_mt: 500 * MT }
}

#[test]
fn out_of_range_governance_rules_are_rejected() {
    let (mut d, a) = setup();
    let cases: Vec<(GovernanceRules, TreasuryError)> = vec![
        (GovernanceRules { quorum_bps: 10_001, ..rules() }, TreasuryError::InvalidBps),
        (GovernanceRules { threshold_bps: 10_001, ..rules() }, TreasuryError::InvalidBps),
        (GovernanceRules { quorum_bps: 0, ..rules() }, TreasuryError::ZeroGovernanceBps),
        (GovernanceRules { threshold_bps: 0, ..rules() }, TreasuryError::ZeroGovernanceBps),
        (GovernanceRules { voting_period_secs: MIN_PERIOD - 1, ..rules() }, TreasuryError::PeriodTooShort),
        (GovernanceRules { hold_up_secs: MIN_PERIOD - 1, ..rules() }, TreasuryError::PeriodTooShort),
        (GovernanceRules { hold_up_secs: -1, ..rules() }, TreasuryError::PeriodTooShort),
        (GovernanceRules { voting_period_secs: MAX_GOVERNANCE_PERIOD_SECS + 1, ..rules() }, TreasuryError::PeriodTooLong),
        (GovernanceRules { hold_up_secs: i64::MAX, ..rules() }, TreasuryError::PeriodTooLong),
        (GovernanceRules { min_propose_mt: 100_000 * MT + 1, ..rules() }, TreasuryError::ProposeThresholdAboveSupply),
    ];
    for (rules, error) in cases {
        assert_error(&d.propose_tx(&a, ProposalAction::SetGovernance { rules }), error);
    }
    // The bounds themselves are accepted.
    let edge = GovernanceRules {
        quorum_bps: 10_000,
        threshold_bps: 10_000,
        voting_period_secs: MIN_PERIOD,
        hold_up_secs: MAX_GOVERNANCE_PERIOD_SECS,
        min_propose_mt: 100_000 * MT,
    };
    d.propose(&a, ProposalAction::SetGovernance { rules: edge }).expect("bounds are inclusive");
}

#[test]
fn out_of_range_revenue_rules_are_rejected() {
    let (mut d, a) = setup();
    let set = |bps, secs| ProposalAction::SetRevenueRules { depositor_share_bps: bps, warmup_secs: secs };
    assert_error(&d.propose_tx(&a, set(10_001, 3_600)), TreasuryError::InvalidBps);
    assert_error(&d.propose_tx(&a, set(u16::MAX, 3_600)), TreasuryError::InvalidBps);
    assert_error(&d.propose_tx(&a, set(5_000, MIN_PERIOD - 1)), TreasuryError::PeriodTooShort);
    assert_error(&d.propose_tx(&a, set(5_000, MAX_GOVERNANCE_PERIOD_SECS + 1)), TreasuryError::PeriodTooLong);
    d.propose(&a, set(10_000, MIN_PERIOD)).expect("100 % and the minimum period are allowed");
    d.propose(&a, set(0, MAX_GOVERNANCE_PERIOD_SECS)).expect("0 % (all to the treasury) is allowed");
}

#[test]
fn out_of_range_prices_are_rejected() {
    let (mut d, a) = setup();
    let set = |i, o| ProposalAction::SetPrice { input_per_1k: i, output_per_1k: o };
    assert_error(&d.propose_tx(&a, set(0, 10)), TreasuryError::ZeroPrice);
    assert_error(&d.propose_tx(&a, set(10, 0)), TreasuryError::ZeroPrice);
    assert_error(&d.propose_tx(&a, set(u64::MAX, 10)), TreasuryError::PriceTooHigh);
    assert_error(&d.propose_tx(&a, set(10, u64::MAX)), TreasuryError::PriceTooHigh);
    assert_error(&d.propose_tx(&a, set(10, MAX_QUERY_PRICE_PER_1K + 1)), TreasuryError::PriceTooHigh);
    d.propose(&a, set(1, MAX_QUERY_PRICE_PER_1K)).expect("1 and the maximum are allowed");
}

#[test]
fn transfers_and_signals_need_their_parts() {
    let (mut d, a) = setup();
    let own_native = d.native_ata(&a.pubkey());
    let own_mt = d.mt_ata(&a.pubkey());
    let zero = ProposalAction::TransferNative { destination: own_native, amount: 0 };
    assert_error(&d.propose_tx(&a, zero), TreasuryError::ZeroAmount);

    // A native transfer to an MT account, and the reverse.
    let wrong = ProposalAction::TransferNative { destination: own_mt, amount: 1 };
    assert_error(&d.propose_tx(&a, wrong), TreasuryError::WrongDestinationMint);
    let wrong = ProposalAction::TransferMt { destination: own_native, amount: 1 };
    assert_error(&d.propose_tx(&a, wrong), TreasuryError::WrongDestinationMint);

    // The account passed is not the one named; none passed; one passed for a non-transfer.
    let action = ProposalAction::TransferNative { destination: own_native, amount: 1 };
    let b_native = d.native_ata(&d.holders[1].pubkey());
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), Some(b_native)), args_for(action));
    assert_error(&d.exec(ix, &[&a]), TreasuryError::WrongDestination);
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), args_for(action));
    assert_error(&d.exec(ix, &[&a]), TreasuryError::DestinationRequired);
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), Some(own_native)), args_for(ProposalAction::Signal));
    assert_error(&d.exec(ix, &[&a]), TreasuryError::DestinationRequired);

    // A signal carries a hash and a URI; a URI is at most 200 bytes.
    let mut args = args_for(ProposalAction::Signal);
    args.content_hash = [0; 32];
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), args);
    assert_error(&d.exec(ix, &[&a]), TreasuryError::MissingContent);
    let mut args = args_for(ProposalAction::Signal);
    args.uri = String::new();
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), args);
    assert_error(&d.exec(ix, &[&a]), TreasuryError::MissingContent);
    let mut args = args_for(ProposalAction::Signal);
    args.uri = "u".repeat(201);
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), args);
    assert_error(&d.exec(ix, &[&a]), TreasuryError::UriTooLong);
    let mut args = args_for(ProposalAction::Signal);
    args.uri = "u".repeat(200);
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), args);
    d.exec(ix, &[&a]).expect("a 200-byte URI fits");
    // Other proposals may go without a document.
    let args = mt_treasury::instructions::CreateProposalArgs { action: ProposalAction::SetPrice { input_per_1k: 5, output_per_1k: 5 }, content_hash: [0; 32], uri: String::new() };
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), args);
    d.exec(ix, &[&a]).expect("no document needed");
}

#[test]
fn bounds_are_checked_again_at_execution() {
    let (mut d, a) = setup();
    let action = ProposalAction::SetRevenueRules { depositor_share_bps: 5_000, warmup_secs: 120 };
    let index = d.propose(&a, action).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    d.warp(d.proposal(index).execute_after);
    // The protocol raised its minimum period meanwhile: 120 s is now too short.
    let admin = d.f.admin.insecure_clone();
    let ix = d.f.update_protocol_ix(&admin.pubkey(), UpdateProtocolArgs { min_period_secs: Some(121), ..Default::default() });
    d.f.h.execute(&[ix], &[&admin]).unwrap();
    assert_error(&d.execute_proposal(&a, index), TreasuryError::PeriodTooShort);
}

#[test]
fn a_treasury_transfer_larger_than_the_treasury_cannot_execute() {
    let (mut d, a) = setup();
    let treasury = d.f.h.token_balance(&d.keys.treasury);
    let action = ProposalAction::TransferNative { destination: d.native_ata(&a.pubkey()), amount: treasury + 1 };
    let index = d.propose(&a, action).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    d.warp(d.proposal(index).execute_after);
    assert_error(&d.execute_proposal(&a, index), TreasuryError::TreasuryInsufficient);
    // Revenue tops the treasury up; the proposal is still passed and executes once.
    let sponsor = d.f.wallet(10 * NATIVE);
    d.deposit_revenue(&sponsor, NATIVE).unwrap();
    d.execute_proposal(&a, index).expect("executes once the treasury holds enough");
    assert_eq!(d.f.h.token_balance(&d.keys.treasury), treasury + NATIVE - (treasury + 1));
}

#[test]
fn governance_and_revenue_rule_changes_take_effect() {
    let (mut d, a) = setup();
    pass_and_execute(&mut d, &a, ProposalAction::SetGovernance { rules: rules() });
    assert_eq!(d.model().governance, rules());
    pass_and_execute(&mut d, &a, ProposalAction::SetRevenueRules { depositor_share_bps: 2_500, warmup_secs: 900 });
    let r = d.model().revenue;
    assert_eq!((r.depositor_share_bps, r.warmup_secs), (2_500, 900));
    // The new warm-up applies to deposits made from now on.
    let b = d.holders[1].insecure_clone();
    d.deposit_mt(&b, MT).unwrap();
    assert_eq!(d.voter(&b.pubkey()).warm_at, d.now() + 900);
}

#[test]
fn a_price_change_applies_only_from_its_effective_time() {
    let (mut d, a) = setup();
    let before = d.model().pricing;
    assert_eq!(before.at(d.now()), (10, 30));
    let ev = pass_and_execute(&mut d, &a, ProposalAction::SetPrice { input_per_1k: 40, output_per_1k: 70 });
    let executed = ev.executed_at;
    let hold_up = d.model().governance.hold_up_secs;
    assert_eq!(ev.effective_at, executed + hold_up, "effective one hold-up period after execution");
    let p = d.model().pricing;
    assert_eq!((p.previous_input_per_1k, p.previous_output_per_1k, p.effective_at), (10, 30, executed + hold_up));
    // Runs served before the switch, including everything before execution, pay the old price.
    assert_eq!(p.at(executed - 1_000), (10, 30));
    assert_eq!(p.at(executed), (10, 30));
    assert_eq!(p.at(p.effective_at - 1), (10, 30)); // [12]
    assert_eq!(p.at(p.effective_at), (40, 70));

    // The attack on a two-price memory: a second change executed after the
    // first took effect would make 40 / 70 the previous price and forget
    // 10 / 30, so a run served before the first switch but settled after the
    // second would be charged 40 / 70. It is refused while such runs can
    // still be settled (SETTLE_WINDOW_SECS after the first switch).
    let index = d.propose(&a, ProposalAction::SetPrice { input_per_1k: 99, output_per_1k: 99 }).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    d.warp(d.proposal(index).execute_after);
    assert!(d.now() >= p.effective_at, "the first change is in force by now");
    assert_error(&d.execute_proposal(&a, index), TreasuryError::PriceChangeTooSoon);
    d.warp(p.effective_at + SETTLE_WINDOW_SECS - 1);
    assert_error(&d.execute_proposal(&a, index), TreasuryError::PriceChangeTooSoon);
    assert_eq!(d.model().pricing, p, "nothing changed");
    // Once every run served under 10 / 30 is too old to settle, it may go.
    d.warp(p.effective_at + SETTLE_WINDOW_SECS);
    let now = d.now();
    d.execute_proposal(&a, index).unwrap();
    let q = d.model().pricing;
    assert_eq!((q.previous_input_per_1k, q.previous_output_per_1k), (40, 70));
    assert_eq!(q.at(now), (40, 70));
    assert_eq!(q.at(q.effective_at), (99, 99));
}

#[test]
fn a_pending_price_change_superseded_before_it_applies_never_applies() {
    let (mut d, a) = setup();
    // Two price proposals pass together; both execute before the first's switch.
    let first = d.propose(&a, ProposalAction::SetPrice { input_per_1k: 40, output_per_1k: 70 }).unwrap();
    let second = d.propose(&a, ProposalAction::SetPrice { input_per_1k: 50, output_per_1k: 80 }).unwrap();
    for i in [first, second] {
        d.vote(&a, i, VoteChoice::Yes).unwrap();
    }
    d.warp_to_voting_end(second);
    d.finalize_proposal(&a, first).unwrap();
    d.finalize_proposal(&a, second).unwrap();
    d.warp(d.proposal(second).execute_after);
    d.execute_proposal(&a, first).unwrap();
    let now = d.now();
    d.execute_proposal(&a, second).unwrap();
    let p = d.model().pricing;
    assert_eq!((p.previous_input_per_1k, p.previous_output_per_1k), (10, 30), "the price in force, not the superseded one");
    assert_eq!(p.at(now), (10, 30));
    assert_eq!(p.at(p.effective_at), (50, 80));
}
