//! mt_treasury stage 3, governance: the life of a proposal, told rule by
//! rule (SECURITY.md class 13). Three holders with 15 000, 10 000 and 5 000
//! MT; 50 000 MT circulating once the creator's 20 000 have vested (every
//! proposal here is created after the deposits' 3 600 s warm-up); quorum
//! 10 % (5 000 MT), threshold 50 %, voting period and hold-up 3 600 s,
//! 1 000 MT to propose.

mod treasury_common;

use mt_treasury::errors::TreasuryError;
use mt_treasury::events::{ProposalCreated, ProposalExecuted, ProposalFinalized};
use mt_treasury::state::{GovernanceRules, ProposalAction, ProposalState, VoteChoice, MT_UNIT};
use program_tests::*;
use solana_signer::Signer;
use treasury_common::*;

const MT: u64 = MT_UNIT;

/// The standard active model with every holder's MT deposited and warmed
/// up: it votes on proposals created from now on.
fn deposited() -> Active {
    let mut d = Active::standard();
    for (i, amount) in [15_000 * MT, 10_000 * MT, 5_000 * MT].into_iter().enumerate() {
        let h = d.holders[i].insecure_clone();
        d.deposit_mt(&h, amount).expect("deposit");
    }
    d.warm_votes();
    d
}

fn transfer_to(d: &Active, owner: &solana_keypair::Keypair, amount: u64) -> ProposalAction {
    ProposalAction::TransferNative { destination: d.native_ata(&owner.pubkey()), amount }
}

#[test]
fn a_proposal_passes_and_executes_a_treasury_transfer() {
    let mut d = deposited();
    let [a, b, c] = [0, 1, 2].map(|i| d.holders[i].insecure_clone());
    let grantee = d.f.wallet(0);
    let action = transfer_to(&d, &grantee, 1_000 * NATIVE);
    let index = d.propose(&a, action).expect("propose");
    let p = d.proposal(index);
    assert_eq!(p.circulating_supply, 50_000 * MT, "hard supply minus the pool's MT and the MT treasury (the creator's MT has vested)");
    assert_eq!(p.state, ProposalState::Voting);
    assert_eq!(d.voter(&a.pubkey()).locked_until, p.voting_ends, "the proposer's deposit is locked");

    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.vote(&b, index, VoteChoice::No).unwrap();
    d.vote(&c, index, VoteChoice::Abstain).unwrap();
    let p = d.proposal(index);
    assert_eq!((p.yes, p.no, p.abstain, p.votes), (15_000 * MT, 10_000 * MT, 5_000 * MT, 3));
    assert_eq!(d.vote_record(index, &b.pubkey()).weight, 10_000 * MT);

    // The outcome cannot change any more (70 000 MT could still vote no),
    // so it is not final before the end.
    assert_error(&d.finalize_proposal(&c, index), TreasuryError::VotingNotOver);
    d.warp_to_voting_end(index);
    let ev: ProposalFinalized = event(&d.finalize_proposal(&c, index).unwrap());
    assert!(ev.quorum_met && ev.threshold_met && !ev.early);
    let p = d.proposal(index);
    assert_eq!(p.state, ProposalState::Passed);
    assert_eq!(p.execute_after, p.finalized_at + 3_600);

    let treasury_before = d.f.h.token_balance(&d.keys.treasury);
    d.warp(p.execute_after);
    let ev: ProposalExecuted = event(&d.execute_proposal(&c, index).expect("execute at exactly execute_after"));
    assert_eq!(ev.action, action);
    assert_eq!(d.f.h.token_balance(&d.native_ata(&grantee.pubkey())), 1_000 * NATIVE);
    assert_eq!(d.f.h.token_balance(&d.keys.treasury), treasury_before - 1_000 * NATIVE);
    assert_eq!(d.proposal(index).state, ProposalState::Executed);
}

#[test]
fn an_mt_transfer_pays_from_the_rewards_vault() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let b = d.holders[1].insecure_clone();
    let grantee_mt = d.mt_ata(&b.pubkey());
    let index = d.propose(&a, ProposalAction::TransferMt { destination: grantee_mt, amount: 2_500 * MT }).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.vote(&b, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    let rewards_before = d.f.h.token_balance(&d.keys.rewards);
    d.warp(d.proposal(index).execute_after);
    d.execute_proposal(&a, index).unwrap();
    assert_eq!(d.f.h.token_balance(&grantee_mt), 2_500 * MT);
    assert_eq!(d.f.h.token_balance(&d.keys.rewards), rewards_before - 2_500 * MT);
}

#[test]
fn a_proposal_below_quorum_fails() {
    let mut d = Active::standard();
    let a = d.holders[0].insecure_clone();
    // 4 999 MT of 50 000 circulating vote: just under the 10 % quorum.
    d.deposit_mt(&a, 4_999 * MT).unwrap();
    d.warm_votes();
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    let ev: ProposalFinalized = event(&d.finalize_proposal(&a, index).unwrap());
    assert!(!ev.quorum_met && ev.threshold_met);
    assert_eq!(d.proposal(index).state, ProposalState::Failed);
    assert_error(&d.execute_proposal(&a, index), TreasuryError::ProposalNotPassed);
}

#[test]
fn quorum_is_met_at_exactly_its_share_of_circulating_supply() {
    let mut d = Active::standard();
    let a = d.holders[0].insecure_clone();
    d.deposit_mt(&a, 5_000 * MT).unwrap();
    d.warm_votes();
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    assert_eq!(d.proposal(index).state, ProposalState::Passed);
}

#[test]
fn a_proposal_below_threshold_fails() {
    let mut d = deposited();
    let [a, b] = [0, 1].map(|i| d.holders[i].insecure_clone());
    // b (10 000) and c's abstention do not help; 10 000 yes vs 15 000 no.
    let index = d.propose(&b, ProposalAction::Signal).unwrap();
    d.vote(&b, index, VoteChoice::Yes).unwrap();
    d.vote(&a, index, VoteChoice::No).unwrap();
    d.warp_to_voting_end(index);
    let ev: ProposalFinalized = event(&d.finalize_proposal(&a, index).unwrap());
    assert!(ev.quorum_met && !ev.threshold_met);
    assert_eq!(d.proposal(index).state, ProposalState::Failed);
    d.warp(d.now() + 10_000);
    assert_error(&d.execute_proposal(&a, index), TreasuryError::ProposalNotPassed);
}

#[test]
fn abstentions_alone_never_pass() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    d.vote(&a, index, VoteChoice::Abstain).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    assert_eq!(d.proposal(index).state, ProposalState::Failed);
}

#[test]
fn execute_before_the_hold_up_is_rejected() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let index = d.propose(&a, transfer_to(&d, &a, NATIVE)).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    assert_error(&d.execute_proposal(&a, index), TreasuryError::ProposalNotPassed);
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    assert_error(&d.execute_proposal(&a, index), TreasuryError::HoldUpNotOver);
    let after = d.proposal(index).execute_after;
    d.warp(after - 1);
    assert_error(&d.execute_proposal(&a, index), TreasuryError::HoldUpNotOver); // [12]
    d.warp(after);
    d.execute_proposal(&a, index).expect("executable at execute_after");
}

#[test]
fn a_passed_proposal_expires_if_not_executed_within_the_window() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let index = d.propose(&a, transfer_to(&d, &a, NATIVE)).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    let last = d.proposal(index).execute_after + mt_treasury::state::EXECUTION_WINDOW_SECS;
    d.warp(last);
    assert_error(&d.execute_proposal(&a, index), TreasuryError::ProposalExpired); // [12]
    assert_eq!(d.proposal(index).state, ProposalState::Passed);

    // One second earlier it still executes (a second proposal, same timing).
    let index = d.propose(&a, transfer_to(&d, &a, NATIVE)).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    d.warp(d.proposal(index).execute_after + mt_treasury::state::EXECUTION_WINDOW_SECS - 1);
    d.execute_proposal(&a, index).expect("executable until the window's last second");
}

#[test]
fn execute_twice_is_rejected() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let index = d.propose(&a, transfer_to(&d, &a, NATIVE)).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    d.warp(d.proposal(index).execute_after);
    let before = d.f.h.token_balance(&d.native_ata(&a.pubkey()));
    // Twice in one transaction: the second fails and takes the first with it.
    let ix = d.execute_proposal_ix(d.execute_proposal_accounts(index));
    let res = d.f.h.execute(&[ix.clone(), ix], &[&a]);
    assert_error(&res, TreasuryError::ProposalAlreadyExecuted);
    d.execute_proposal(&a, index).unwrap();
    assert_error(&d.execute_proposal(&a, index), TreasuryError::ProposalAlreadyExecuted);
    assert_eq!(d.f.h.token_balance(&d.native_ata(&a.pubkey())), before + NATIVE, "paid once");
}

#[test]
fn double_vote_is_rejected() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    assert_error(&d.vote(&a, index, VoteChoice::Yes), TreasuryError::AlreadyVoted);
    assert_error(&d.vote(&a, index, VoteChoice::No), TreasuryError::AlreadyVoted);
    // Twice in one transaction.
    let b = d.holders[1].insecure_clone();
    let ix = d.cast_vote_ix(d.cast_vote_accounts(&b.pubkey(), index), VoteChoice::No);
    assert_error(&d.f.h.execute(&[ix.clone(), ix], &[&b]), TreasuryError::AlreadyVoted);
    assert_eq!((d.proposal(index).yes, d.proposal(index).no), (15_000 * MT, 0), "counted once");
}

#[test]
fn withdraw_while_locked_is_rejected_until_voting_ends() {
    let mut d = deposited();
    let [a, b] = [0, 1].map(|i| d.holders[i].insecure_clone());
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    d.vote(&b, index, VoteChoice::No).unwrap();
    assert_error(&d.withdraw_mt(&b, 1), TreasuryError::DepositLocked);
    assert_error(&d.withdraw_mt(&a, 1), TreasuryError::DepositLocked);
    let end = d.proposal(index).voting_ends;
    d.warp(end - 1);
    assert_error(&d.withdraw_mt(&b, MT), TreasuryError::DepositLocked); // [12]
    d.warp(end);
    d.withdraw_mt(&b, 10_000 * MT).expect("unlocked when voting ends");
    assert_eq!(d.f.h.token_balance(&d.mt_ata(&b.pubkey())), 10_000 * MT);
}

#[test]
fn flash_deposit_adds_no_weight_and_cannot_leave_in_one_transaction() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    // A newcomer gets MT (from c, who has not voted), deposits, votes and tries to leave at once.
    let c = d.holders[2].insecure_clone();
    d.withdraw_mt(&c, 5_000 * MT).unwrap();
    let flash = d.f.wallet(0);
    let keys = d.keys;
    d.f.mt_ata(&flash, &flash.pubkey(), &keys);
    let ix = spl_transfer(&d, &c.pubkey(), &flash.pubkey(), 5_000 * MT);
    d.f.h.execute(&[ix], &[&c]).unwrap();
    let ixs = [
        d.deposit_mt_ix(d.deposit_mt_accounts(&flash.pubkey()), 5_000 * MT),
        d.cast_vote_ix(d.cast_vote_accounts(&flash.pubkey(), index), VoteChoice::No),
        d.withdraw_mt_ix(d.withdraw_mt_accounts(&flash.pubkey()), 5_000 * MT),
    ];
    // MT deposited after the proposal was created has no weight on it.
    assert_error(&d.f.h.execute(&ixs, &[&flash]), TreasuryError::NoEligibleWeight);
    assert_error(&d.f.h.execute(&ixs[..2], &[&flash]), TreasuryError::NoEligibleWeight);
    // Deposited and waiting until the window's last second, it still has none.
    d.exec(ixs[0].clone(), &[&flash]).unwrap();
    let end = d.proposal(index).voting_ends;
    d.warp(end - 1);
    assert_error(&d.vote(&flash, index, VoteChoice::No), TreasuryError::NoEligibleWeight);
    assert_eq!(d.proposal(index).no, 0);
}

#[test]
fn vote_after_the_end_is_rejected() {
    let mut d = deposited();
    let [a, b] = [0, 1].map(|i| d.holders[i].insecure_clone());
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    let end = d.proposal(index).voting_ends;
    d.warp(end - 1);
    d.vote(&a, index, VoteChoice::Yes).expect("votes accepted until the last second");
    d.warp(end);
    assert_error(&d.vote(&b, index, VoteChoice::No), TreasuryError::VotingEnded); // [12]
    d.finalize_proposal(&a, index).unwrap();
    assert_error(&d.vote(&b, index, VoteChoice::No), TreasuryError::ProposalNotVoting);
}

#[test]
fn execute_cancelled_or_failed_is_rejected() {
    let mut d = deposited();
    let [a, b] = [0, 1].map(|i| d.holders[i].insecure_clone());
    let cancelled = d.propose(&a, transfer_to(&d, &a, NATIVE)).unwrap();
    d.cancel_proposal(&a, cancelled).unwrap();
    assert_eq!(d.proposal(cancelled).state, ProposalState::Cancelled);
    assert_error(&d.vote(&b, cancelled, VoteChoice::Yes), TreasuryError::ProposalNotVoting);
    d.warp_to_voting_end(cancelled);
    assert_error(&d.finalize_proposal(&a, cancelled), TreasuryError::ProposalNotVoting);
    d.warp(d.now() + 10_000);
    assert_error(&d.execute_proposal(&a, cancelled), TreasuryError::ProposalNotPassed);

    let failed = d.propose(&a, transfer_to(&d, &a, NATIVE)).unwrap();
    d.vote(&b, failed, VoteChoice::No).unwrap();
    d.warp_to_voting_end(failed);
    d.finalize_proposal(&a, failed).unwrap();
    assert_eq!(d.proposal(failed).state, ProposalState::Failed);
    d.warp(d.now() + 10_000);
    assert_error(&d.execute_proposal(&a, failed), TreasuryError::ProposalNotPassed);
}

#[test]
fn cancel_is_for_the_proposer_before_any_vote() {
    let mut d = deposited();
    let [a, b] = [0, 1].map(|i| d.holders[i].insecure_clone());
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    assert_error(&d.cancel_proposal(&b, index), TreasuryError::NotProposer);
    d.vote(&b, index, VoteChoice::No).unwrap();
    assert_error(&d.cancel_proposal(&a, index), TreasuryError::ProposalHasVotes);
}

#[test]
fn proposing_needs_the_minimum_deposit() {
    let mut d = Active::standard();
    let a = d.holders[0].insecure_clone();
    d.deposit_mt(&a, 1_000 * MT - 1).unwrap();
    d.warm_votes();
    assert_error(&d.propose_tx(&a, ProposalAction::Signal), TreasuryError::BelowProposalThreshold);
    d.deposit_mt(&a, 1).unwrap();
    // The topped-up deposit proposes once it has warmed up.
    assert_error(&d.propose_tx(&a, ProposalAction::Signal), TreasuryError::BelowProposalThreshold);
    d.warm_votes();
    d.propose(&a, ProposalAction::Signal).expect("exactly the minimum may propose");
    // No voter record at all.
    let b = d.holders[1].insecure_clone();
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&b.pubkey(), None), args_for(ProposalAction::Signal));
    assert_error(&d.exec(ix, &[&b]), anchor_lang::error::ErrorCode::AccountNotInitialized);
}

#[test]
fn a_decided_proposal_can_be_finalised_early() {
    // The whole sale (50 000 MT) sold to four holders. No more than the
    // 100 000 MT hard supply can ever vote, so yes is certain only once it
    // holds the threshold against all the rest: 50 000 yes at 50 %.
    let mut d = Active::new(&[30_000 * NATIVE, 30_000 * NATIVE, 30_000 * NATIVE, 10_000 * NATIVE]);
    let holders: Vec<_> = d.holders.iter().map(|h| h.insecure_clone()).collect();
    for (h, mt) in holders.iter().zip([15_000, 15_000, 15_000, 5_000]) {
        d.deposit_mt(h, mt * MT).unwrap();
    }
    d.warm_votes();
    let index = d.propose(&holders[0], ProposalAction::Signal).unwrap();
    for h in &holders[..3] {
        d.vote(h, index, VoteChoice::Yes).unwrap();
    }
    assert_error(&d.finalize_proposal(&holders[0], index), TreasuryError::VotingNotOver);
    d.vote(&holders[3], index, VoteChoice::Yes).unwrap();
    let ev: ProposalFinalized = event(&d.finalize_proposal(&holders[0], index).expect("50 000 yes can no longer lose"));
    assert!(ev.early);
    let p = d.proposal(index);
    assert_eq!(p.state, ProposalState::Passed);
    assert!(p.finalized_at < p.voting_ends);
    assert_eq!(p.execute_after, p.finalized_at + p.hold_up_secs);
}

#[test]
fn a_proposal_that_cannot_reach_its_threshold_fails_early() {
    let mut d = Active::new(&[30_000 * NATIVE, 30_000 * NATIVE, 30_000 * NATIVE, 10_000 * NATIVE]);
    let holders: Vec<_> = d.holders.iter().map(|h| h.insecure_clone()).collect();
    // The creator's vested 20 000 MT are deposited too.
    let creator = d.creator.insecure_clone();
    let vested_at = d.model().vesting.start + 1_000;
    d.warp(vested_at);
    let keys = d.keys;
    d.f.claim_vested(&creator, &keys).unwrap();
    d.deposit_mt(&creator, 20_000 * MT).unwrap();
    for (h, mt) in holders.iter().zip([15_000, 15_000, 15_000, 5_000]) {
        d.deposit_mt(h, mt * MT).unwrap();
    }
    d.warm_votes();
    let index = d.propose(&holders[0], ProposalAction::Signal).unwrap();
    for h in &holders[..3] {
        d.vote(h, index, VoteChoice::No).unwrap();
    }
    d.vote(&holders[3], index, VoteChoice::No).unwrap();
    // 50 000 no against at most 50 000 yes still to come: a tie would pass.
    assert_error(&d.finalize_proposal(&holders[0], index), TreasuryError::VotingNotOver);
    // The creator's 20 000 MT vote no too: at most 30 000 yes can follow.
    d.vote(&creator, index, VoteChoice::No).unwrap();
    let ev: ProposalFinalized = event(&d.finalize_proposal(&holders[0], index).expect("decided"));
    assert!(ev.early && !ev.threshold_met);
    assert_eq!(d.proposal(index).state, ProposalState::Failed);
}

#[test]
fn the_proposal_keeps_the_rules_it_was_created_under() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let rules = GovernanceRules { quorum_bps: 9_000, threshold_bps: 9_000, voting_period_secs: 7_200, hold_up_secs: 60, min_propose_mt: 10 * MT };
    let change = d.propose(&a, ProposalAction::SetGovernance { rules }).unwrap();
    let other = d.propose(&a, ProposalAction::Signal).unwrap();
    d.vote(&a, change, VoteChoice::Yes).unwrap();
    d.vote(&a, other, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(change);
    d.finalize_proposal(&a, change).unwrap();
    d.warp(d.proposal(change).execute_after);
    d.execute_proposal(&a, change).unwrap();
    assert_eq!(d.model().governance, rules);
    // `other` was created under a 10 % quorum and a 50 % threshold: it passes.
    d.finalize_proposal(&a, other).unwrap();
    assert_eq!(d.proposal(other).state, ProposalState::Passed);
    // New proposals use the new rules.
    let ev_index = d.propose(&a, ProposalAction::Signal).unwrap();
    let p = d.proposal(ev_index);
    assert_eq!((p.quorum_bps, p.threshold_bps, p.voting_ends - p.created_at), (9_000, 9_000, 7_200));
}

#[test]
fn proposal_created_event_carries_the_content() {
    let mut d = deposited();
    let a = d.holders[0].insecure_clone();
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), args_for(ProposalAction::Signal));
    let ev: ProposalCreated = event(&d.exec(ix, &[&a]).unwrap());
    assert_eq!(ev.content_hash, [7; 32]);
    assert_eq!(ev.uri, "https://example.org/proposals/1.md");
    assert_eq!(d.proposal(0).uri, ev.uri);
}

/// An SPL transfer of MT between two owners' associated accounts.
fn spl_transfer(d: &Active, from: &Pubkey, to: &Pubkey, amount: u64) -> Instruction {
    anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(
        &TOKEN_2022,
        &d.mt_ata(from),
        &d.keys.mt_mint,
        &d.mt_ata(to),
        from,
        &[],
        amount,
        6,
    )
    .unwrap()
}

#[test]
fn vote_records_and_empty_voter_records_return_their_rent_when_done() {
    let mut d = deposited();
    let [a, b] = [0, 1].map(|i| d.holders[i].insecure_clone());
    let index = d.propose(&a, ProposalAction::Signal).unwrap();
    d.vote(&b, index, VoteChoice::No).unwrap();
    let record = vote_pda(&proposal_pda(&d.keys.model, index), &voter_pda(&d.keys.model, &b.pubkey()));
    let rent = d.f.h.lamports(&record);
    assert!(rent > 0);
    // While the proposal takes votes the record is what stops a second vote.
    assert_error(&d.close_vote_record(&b, index), TreasuryError::VotingStillOpen);
    let end = d.proposal(index).voting_ends;
    d.warp(end - 1);
    assert_error(&d.close_vote_record(&b, index), TreasuryError::VotingStillOpen); // [12]
    d.warp(end);
    let before = d.f.h.lamports(&b.pubkey());
    let fee_payer = d.f.wallet(0);
    let ix = d.close_vote_record_ix(d.close_vote_record_accounts(&b.pubkey(), index));
    d.f.h.execute(&[ix], &[&fee_payer, &b]).expect("closed after the window");
    assert_eq!(d.f.h.lamports(&b.pubkey()), before + rent, "the rent goes back to the voter");
    assert!(!d.f.h.exists(&record));
    // [7] Closed means no vote can be cast again: the window is over.
    assert_error(&d.vote(&b, index, VoteChoice::Yes), TreasuryError::VotingEnded);
    assert_eq!(d.proposal(index).no, 10_000 * MT, "the tally stays");

    // The voter record closes only when empty and unlocked.
    assert_error(&d.close_voter(&b), TreasuryError::VoterNotEmpty);
    d.withdraw_mt(&b, 10_000 * MT).unwrap();
    let voter = voter_pda(&d.keys.model, &b.pubkey());
    let rent = d.f.h.lamports(&voter);
    let before = d.f.h.lamports(&b.pubkey());
    let ix = d.close_voter_ix(d.close_voter_accounts(&b.pubkey()));
    d.f.h.execute(&[ix], &[&fee_payer, &b]).expect("closed when empty");
    assert_eq!(d.f.h.lamports(&b.pubkey()), before + rent);
    // A new deposit opens a fresh record at the same address.
    d.deposit_mt(&b, MT).unwrap();
    assert_eq!(d.voter(&b.pubkey()).deposited, MT);
}

#[test]
fn a_record_with_rewards_owed_stays_open_until_they_are_claimed() {
    let mut d = deposited();
    let c = d.holders[2].insecure_clone();
    d.warm_up(&[&c]);
    let sponsor = d.f.wallet(100 * NATIVE);
    d.deposit_revenue(&sponsor, 10 * NATIVE).unwrap();
    d.withdraw_mt(&c, 5_000 * MT).unwrap();
    assert!(d.voter(&c.pubkey()).rewards_owed > 0);
    assert_error(&d.close_voter(&c), TreasuryError::VoterNotEmpty);
    d.claim_rewards(&c).unwrap();
    d.close_voter(&c).expect("empty and claimed");
    // (A record can only be locked while it holds MT, and MT cannot leave
    // a locked record, so an empty record is never locked.)
}
