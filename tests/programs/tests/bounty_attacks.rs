//! Bounty adversarial matrix: each attack fails with its named error.
//! Issue 19's list (double submission, replay across bounties, reviewer who
//! deposited after creation, review after the window, claim twice, bond
//! slashing and return, pool over-spend) plus the account and window checks
//! of every bounty instruction.

mod bounty_common;
mod treasury_common;

use anchor_lang::error::ErrorCode as Anchor;
use bounty_common::*;
use mt_treasury::errors::TreasuryError;
use mt_treasury::events::SubmissionFinalized;
use mt_treasury::state::{review_commitment, BountyTerms, ProposalAction, ReviewChoice, SubmissionOutcome};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

use ReviewChoice::{Approve as A, Reject as R, Spam as S};

/// A funded pool (2 000 NATIVE) and one open bounty with default terms.
fn open_bounty() -> (World, u64, Vec<Keypair>) {
    let mut w = World::new();
    w.fund(2_000 * NATIVE);
    let id = w.create(terms());
    let r = w.reviewers.iter().map(|k| k.insecure_clone()).collect();
    (w, id, r)
}

#[test]
fn pool_over_spend_is_refused() {
    let mut w = World::new();
    // No pool yet: nothing to reserve from.
    let index = w.pass(ProposalAction::CreateBounty { terms: terms() });
    assert_error(&w.create_tx(index), Anchor::AccountNotInitialized);
    w.fund(1_000 * NATIVE);
    // 900 + 3 × 30 = 990 fits; a second one does not (10 left).
    let first = w.pass(ProposalAction::CreateBounty { terms: terms() });
    let second = w.pass(ProposalAction::CreateBounty { terms: terms() });
    w.create_tx(first).expect("first bounty");
    assert_eq!(w.pool().available, 10 * NATIVE);
    assert_error(&w.create_tx(second), TreasuryError::BountyPoolInsufficient);
    // One base unit too much, exactly at the boundary.
    let exact = BountyTerms { reward: 10 * NATIVE, review_fee: 0, ..terms() };
    let over = BountyTerms { reward: 10 * NATIVE + 1, review_fee: 0, ..terms() };
    let i_over = w.pass(ProposalAction::CreateBounty { terms: over });
    assert_error(&w.create_tx(i_over), TreasuryError::BountyPoolInsufficient);
    let i_exact = w.pass(ProposalAction::CreateBounty { terms: exact });
    w.create_tx(i_exact).expect("exactly the available funds");
    assert_eq!(w.pool().available, 0);
    w.assert_books();
    // Funding more than the treasury holds.
    let treasury = w.d.f.h.token_balance(&w.d.keys.treasury);
    let index = w.pass(ProposalAction::FundBountyPool { amount: treasury + 1 });
    assert_error(&w.fund_tx(index), TreasuryError::TreasuryInsufficient);
}

#[test]
fn bounty_proposals_execute_only_through_their_instructions_and_once() {
    let mut w = World::new();
    let fund = w.pass(ProposalAction::FundBountyPool { amount: 1_000 * NATIVE });
    assert_error(&w.d.execute_proposal(&w.reviewers[0].insecure_clone(), fund), TreasuryError::UseBountyInstruction);
    w.fund_tx(fund).expect("fund");
    assert_error(&w.fund_tx(fund), TreasuryError::ProposalAlreadyExecuted);
    let create = w.pass(ProposalAction::CreateBounty { terms: terms() });
    assert_error(&w.fund_tx(create), TreasuryError::WrongProposalAction);
    assert_error(&w.d.execute_proposal(&w.reviewers[0].insecure_clone(), create), TreasuryError::UseBountyInstruction);
    w.create_tx(create).expect("create");
    // The same passed proposal cannot create a second bounty.
    assert_error(&w.create_tx(create), TreasuryError::ProposalAlreadyExecuted);
    let signal = w.pass(ProposalAction::Signal);
    assert_error(&w.create_tx(signal), TreasuryError::WrongProposalAction);
    // Terms out of range are refused when proposed.
    let a = w.reviewers[0].insecure_clone();
    for (bad, err) in [
        (BountyTerms { submission_bond: 0, ..terms() }, TreasuryError::ZeroBond),
        (BountyTerms { max_submissions: 0, ..terms() }, TreasuryError::InvalidBountyLimits),
        (BountyTerms { threshold_bps: 10_001, ..terms() }, TreasuryError::InvalidBps),
        (BountyTerms { review_secs: MIN_PERIOD - 1, ..terms() }, TreasuryError::PeriodTooShort),
        (BountyTerms { task_hash: [0; 32], ..terms() }, TreasuryError::MissingContent),
    ] {
        assert_error(&w.d.propose_tx(&a, ProposalAction::CreateBounty { terms: bad }), err);
    }
}

#[test]
fn one_submission_per_wallet_and_one_claim_per_work() {
    let (mut w, id, _) = open_bounty();
    let (x, y) = (w.contributor(), w.contributor());
    w.submit(&x, id, [11; 32]).expect("submit");
    // Double submission: the same wallet, other work.
    assert_error(&w.submit(&x, id, [12; 32]), TreasuryError::AlreadySubmitted);
    // The same work from another wallet.
    assert_error(&w.submit(&y, id, [11; 32]), TreasuryError::WorkAlreadyClaimed);
    // Replay across bounties: the same work to a second bounty, by its author or anyone.
    let second = w.create(BountyTerms { reward: 100 * NATIVE, ..terms() });
    assert_error(&w.submit(&x, second, [11; 32]), TreasuryError::WorkAlreadyClaimed);
    assert_error(&w.submit(&y, second, [11; 32]), TreasuryError::WorkAlreadyClaimed);
    w.submit(&x, second, [21; 32]).expect("new work to the new bounty");
    // Only one bond was taken per accepted submission.
    assert_eq!(w.native(&x.pubkey()), 80 * NATIVE);
    assert_eq!(w.native(&y.pubkey()), 100 * NATIVE);
    w.assert_books();
}

#[test]
fn submission_window_limits_and_reputation() {
    let mut w = World::new();
    w.fund(2_000 * NATIVE);
    // Each creation takes a vote and a hold-up: the gated bounty stays open longer.
    let gated = w.create(BountyTerms { min_reputation: 1, reward: 100 * NATIVE, submit_secs: 20_000, ..terms() });
    let id = w.create(BountyTerms { max_submissions: 1, ..terms() });
    let (x, y) = (w.contributor(), w.contributor());
    assert_error(&w.submit(&x, gated, [30; 32]), TreasuryError::ReputationTooLow);
    w.submit(&x, id, [11; 32]).unwrap();
    assert_error(&w.submit(&y, id, [12; 32]), TreasuryError::BountyFull);
    let end = w.bounty(gated).submit_ends;
    w.d.warp(end);
    assert_error(&w.submit(&y, gated, [13; 32]), TreasuryError::SubmissionsClosed);
}

#[test]
fn reviewer_weight_is_the_snapshot_at_creation() {
    let mut w = World::new();
    w.fund(2_000 * NATIVE);
    // r4 takes its MT out before the bounty exists and puts it back after.
    let r4 = w.reviewers[4].insecure_clone();
    w.d.withdraw_mt(&r4, 3_500 * MT).expect("withdraw");
    let id = w.create(BountyTerms { submit_secs: 10_000, ..terms() });
    let x = w.contributor();
    w.submit(&x, id, [11; 32]).unwrap();
    assert_error(&w.commit(&r4, id, &x.pubkey(), A), TreasuryError::NoVotingPower);
    w.d.deposit_mt(&r4, 3_500 * MT).expect("deposit");
    assert_error(&w.commit(&r4, id, &x.pubkey(), A), TreasuryError::NoEligibleWeight);
    // Even once warmed up, MT deposited after the bounty's creation never counts on it.
    w.d.warm_votes();
    assert!(w.d.now() < w.bounty(id).commit_ends);
    assert_error(&w.commit(&r4, id, &x.pubkey(), A), TreasuryError::NoEligibleWeight);
    // A wallet with no voter record at all.
    let stranger = w.contributor();
    assert_error(&w.commit(&stranger, id, &x.pubkey(), A), Anchor::AccountNotInitialized);
    // The contributor cannot review itself, nor anyone twice.
    let r0 = w.reviewers[0].insecure_clone();
    w.commit(&r0, id, &x.pubkey(), A).unwrap();
    assert_error(&w.commit(&r0, id, &x.pubkey(), R), TreasuryError::AlreadyReviewed);
    // Reviewed MT stays locked until the reveal window ends.
    assert_error(&w.d.withdraw_mt(&r0, MT), TreasuryError::DepositLocked);
    let end = w.bounty(id).reveal_ends;
    w.d.warp(end);
    w.d.withdraw_mt(&r0, MT).expect("unlocked after the reveal window");
}

#[test]
fn self_review_is_refused() {
    let (mut w, id, r) = open_bounty();
    // A depositor submitting work cannot review it.
    w.submit(&r[0], id, [11; 32]).unwrap();
    assert_error(&w.commit(&r[0], id, &r[0].pubkey(), A), TreasuryError::SelfReview);
}

#[test]
fn reviews_outside_their_windows_and_copied_commitments_fail() {
    let (mut w, id, r) = open_bounty();
    let x = w.contributor();
    w.submit(&x, id, [11; 32]).unwrap();
    w.commit(&r[0], id, &x.pubkey(), A).unwrap();
    // Copying: r1 commits r0's exact commitment, then reveals what r0 revealed.
    let submission = submission_pda(&bounty_pda(&w.model(), id), &x.pubkey());
    let copied = review_commitment(A, &SALT, &submission, &r[0].pubkey());
    w.commit_with(&r[1], id, &x.pubkey(), copied).unwrap();
    // Reveal before the commit window ends.
    assert_error(&w.reveal(&r[0], id, &x.pubkey(), A), TreasuryError::RevealNotOpen);
    w.warp_to_reveal(id);
    // Review after the commit window.
    assert_error(&w.commit(&r[2], id, &x.pubkey(), A), TreasuryError::CommitWindowClosed);
    assert_error(&w.reveal(&r[1], id, &x.pubkey(), A), TreasuryError::CommitmentMismatch);
    assert_error(&w.reveal(&r[0], id, &x.pubkey(), R), TreasuryError::CommitmentMismatch);
    assert_error(&w.reveal_with(&r[0], id, &x.pubkey(), A, [8; 32]), TreasuryError::CommitmentMismatch);
    // r1 reveals another's review: the review account is r0's, the signer is not.
    let mut accounts = w.reveal_accounts(&r[1].pubkey(), id, &x.pubkey());
    accounts.review = review_pda(&submission, &r[0].pubkey());
    let ix = Harness::ix(PROGRAM, accounts, mt_treasury::instruction::RevealReview { choice: A, salt: SALT });
    assert_error(&w.d.exec(ix, &[&r[1]]), Anchor::ConstraintSeeds);
    w.reveal(&r[0], id, &x.pubkey(), A).unwrap();
    assert_error(&w.reveal(&r[0], id, &x.pubkey(), A), TreasuryError::AlreadyRevealed);
    // Finalising before the reveal window ends; revealing after it.
    assert_error(&w.finalize(id, &x.pubkey()), TreasuryError::ReviewsNotOver);
    w.warp_to_end(id);
    assert_error(&w.reveal(&r[1], id, &x.pubkey(), A), TreasuryError::RevealWindowClosed);
    // The copier never revealed: its bond is lost to the fee pool; one reveal < 3 reviewers.
    let f: SubmissionFinalized = event(&w.finalize(id, &x.pubkey()).unwrap());
    assert_eq!(f.outcome, SubmissionOutcome::Unreviewed);
    assert_eq!(f.fee_pool, 30 * NATIVE + 4 * NATIVE);
    assert_error(&w.claim_review(&r[1], id, &x.pubkey()), TreasuryError::NothingToClaim);
    w.assert_books();
}

#[test]
fn claims_are_one_shot_and_ordered() {
    let (mut w, id, r) = open_bounty();
    let (x, y) = (w.contributor(), w.contributor());
    w.submit(&x, id, [11; 32]).unwrap();
    w.submit(&y, id, [12; 32]).unwrap();
    for k in &r[..3] {
        w.commit(k, id, &x.pubkey(), A).unwrap();
    }
    assert_error(&w.claim_submission(&x, id), TreasuryError::SubmissionNotFinalized);
    w.warp_to_reveal(id);
    for k in &r[..3] {
        w.reveal(k, id, &x.pubkey(), A).unwrap();
    }
    w.warp_to_end(id);
    assert_error(&w.claim_review(&r[0], id, &x.pubkey()), TreasuryError::SubmissionNotFinalized);
    w.finalize(id, &x.pubkey()).unwrap();
    assert_error(&w.finalize(id, &x.pubkey()), TreasuryError::SubmissionAlreadyFinalized);
    // The award waits for every submission to be finalised and the bounty settled.
    assert_error(&w.claim_submission(&x, id), TreasuryError::BountyNotSettled);
    assert_error(&w.settle(id), TreasuryError::SubmissionsNotFinalized);
    w.finalize(id, &y.pubkey()).unwrap();
    w.settle(id).unwrap();
    assert_error(&w.settle(id), TreasuryError::BountyAlreadySettled);
    w.claim_submission(&x, id).unwrap();
    assert_eq!(w.native(&x.pubkey()), 100 * NATIVE + 900 * NATIVE, "whole reward (one accepted) + bond back");
    assert_error(&w.claim_submission(&x, id), TreasuryError::AlreadyClaimed);
    // y was unreviewed: bond back, once.
    w.claim_submission(&y, id).unwrap();
    assert_eq!(w.native(&y.pubkey()), 100 * NATIVE);
    assert_error(&w.claim_submission(&y, id), TreasuryError::AlreadyClaimed);
    w.claim_review(&r[0], id, &x.pubkey()).unwrap();
    assert_error(&w.claim_review(&r[0], id, &x.pubkey()), TreasuryError::AlreadyClaimed);
    // Someone else's submission or review through one's own signature.
    let mut accounts = w.claim_submission_accounts(&r[1].pubkey(), id);
    accounts.submission = submission_pda(&bounty_pda(&w.model(), id), &y.pubkey());
    let ix = Harness::ix(PROGRAM, accounts, mt_treasury::instruction::ClaimSubmission {});
    assert_error(&w.d.exec(ix, &[&r[1]]), Anchor::ConstraintSeeds);
    w.assert_books();
}

#[test]
fn bonds_are_slashed_only_on_a_clear_outcome_and_returned_otherwise() {
    let (mut w, id, r) = open_bounty();
    let (x, y) = (w.contributor(), w.contributor());
    w.submit(&x, id, [11; 32]).unwrap();
    w.submit(&y, id, [12; 32]).unwrap();
    // x: 17 500 of 30 000 approve (58 % < 60 %): rejected, but the rejecters
    // have only 42 %, so the outcome is not clear and nobody is slashed.
    // y: rejected in good faith, clearly (approve 3 500 of 30 000; spam 5 000 < 60 %).
    let plan: [(&Keypair, [ReviewChoice; 5]); 2] = [(&x, [A, A, R, R, R]), (&y, [R, R, S, R, A])];
    for (c, choices) in &plan {
        for (i, ch) in choices.iter().enumerate() {
            w.commit(&r[i], id, &c.pubkey(), *ch).unwrap();
        }
    }
    w.warp_to_reveal(id);
    for (c, choices) in &plan {
        for (i, ch) in choices.iter().enumerate() {
            w.reveal(&r[i], id, &c.pubkey(), *ch).unwrap();
        }
    }
    w.warp_to_end(id);
    let fx: SubmissionFinalized = event(&w.finalize(id, &x.pubkey()).unwrap());
    assert_eq!((fx.outcome, fx.clear), (SubmissionOutcome::Rejected, false), "17 500 of 30 000 approve; 42 % rejecting is not clear");
    let fy: SubmissionFinalized = event(&w.finalize(id, &y.pubkey()).unwrap());
    assert_eq!((fy.outcome, fy.clear), (SubmissionOutcome::Rejected, true), "spam 5 000 < 60 %: rejected, not spam");
    w.settle(id).unwrap();
    // Contributors: rejected in good faith → bond back, no award.
    for c in [&x, &y] {
        w.claim_submission(c, id).unwrap();
        assert_eq!(w.native(&c.pubkey()), 100 * NATIVE);
    }
    // x: losers (approvers r0, r1) keep their whole bond on an unclear outcome.
    for i in [0, 1] {
        let before = w.native(&r[i].pubkey());
        w.claim_review(&r[i], id, &x.pubkey()).unwrap();
        assert_eq!(w.native(&r[i].pubkey()) - before, 4 * NATIVE);
    }
    // y: the lone approver (r4) loses half its bond on a clear outcome.
    let before = w.native(&r[4].pubkey());
    w.claim_review(&r[4], id, &y.pubkey()).unwrap();
    assert_eq!(w.native(&r[4].pubkey()) - before, 2 * NATIVE);
    assert_eq!(w.reputation(&r[4].pubkey()).reviews_slashed, 1);
    // Winners of y share 30 fee + 2 slash by weight (26 500).
    let before = w.native(&r[0].pubkey());
    w.claim_review(&r[0], id, &y.pubkey()).unwrap();
    assert_eq!(w.native(&r[0].pubkey()) - before, 4 * NATIVE + 32 * NATIVE * 10_000 / 26_500);
    // The whole reward went back to the pool: nothing was accepted.
    let p = w.pool();
    assert_eq!(p.reserved, 0);
    assert_eq!(p.available, 2_000 * NATIVE - 990 * NATIVE + 900 * NATIVE + 30 * NATIVE);
    w.assert_books();
}
