//! mt_treasury stage 3 adversarial matrix, governance instructions:
//! deposit_mt, withdraw_mt, create_proposal, cast_vote, finalize_proposal,
//! execute_proposal, cancel_proposal. Each case asserts the named error
//! (SECURITY.md classes in brackets).

mod treasury_common;

use anchor_lang::error::ErrorCode as Anchor;
use mt_treasury::errors::TreasuryError;
use mt_treasury::state::{ProposalAction, ProposalState, SwapSide, VoteChoice, MT_UNIT};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

const MT: u64 = MT_UNIT;

/// The standard model with a and b deposited (15 000 and 10 000 MT), and a
/// second active model whose accounts serve as substitutes.
struct World {
    d: Active,
    a: Keypair,
    b: Keypair,
    c: Keypair,
    other: ModelKeys,
}

fn world() -> World {
    let mut d = Active::standard();
    let [a, b, c] = [0, 1, 2].map(|i| d.holders[i].insecure_clone());
    d.deposit_mt(&a, 15_000 * MT).unwrap();
    d.deposit_mt(&b, 10_000 * MT).unwrap();
    // A second model, active, with c holding its MT and a deposit of theirs.
    let (_creator, other, _) = d.f.launch();
    d.f.warp_to_start(&other);
    let w = d.f.wallet(60_000 * NATIVE);
    let (admin, mint, program) = (d.f.admin.insecure_clone(), d.f.native_mint, d.f.native_program);
    d.f.h.mint_to(&admin, &mint, &c.pubkey(), 10_000 * NATIVE, program);
    d.f.contribute(&w, &other, 30_000 * NATIVE).unwrap();
    d.f.contribute(&c, &other, 10_000 * NATIVE).unwrap();
    d.f.warp_to_end(&other);
    d.f.finalize(&w, &other).unwrap();
    d.f.claim_mt(&c, &other).unwrap();
    // a's and b's deposits vote on proposals created from now on.
    d.warm_votes();
    World { d, a, b, c, other }
}

/// A proposal by a, open for votes: a signal.
fn with_signal(w: &mut World) -> u64 {
    let a = w.a.insecure_clone();
    w.d.propose(&a, ProposalAction::Signal).unwrap()
}

/// A passed native transfer of 1 native to a, past its hold-up.
fn passed_transfer(w: &mut World) -> u64 {
    let a = w.a.insecure_clone();
    let action = ProposalAction::TransferNative { destination: w.d.native_ata(&a.pubkey()), amount: NATIVE };
    let index = w.d.propose(&a, action).unwrap();
    w.d.vote(&a, index, VoteChoice::Yes).unwrap();
    w.d.warp_to_voting_end(index);
    w.d.finalize_proposal(&a, index).unwrap();
    let at = w.d.proposal(index).execute_after;
    w.d.warp(at);
    index
}

/// c's deposit and proposal in the other model (so its records exist).
fn other_model_records(w: &mut World) -> (Pubkey, Pubkey) {
    let c = w.c.insecure_clone();
    let other = w.other;
    let mut accounts = w.d.deposit_mt_accounts(&c.pubkey());
    accounts.model = other.model;
    accounts.voter = voter_pda(&other.model, &c.pubkey());
    accounts.source = associated_token_address(&c.pubkey(), &other.mt_mint, &TOKEN_2022);
    accounts.deposit_vault = other.deposit;
    accounts.mt_mint = other.mt_mint;
    let ix = w.d.deposit_mt_ix(accounts, 5_000 * MT);
    w.d.exec(ix, &[&c]).unwrap();
    w.d.warm_votes();
    let mut accounts = w.d.create_proposal_accounts(&c.pubkey(), None);
    accounts.model = other.model;
    accounts.voter = voter_pda(&other.model, &c.pubkey());
    accounts.proposal = proposal_pda(&other.model, 0);
    accounts.rewards_vault = other.rewards;
    let ix = w.d.create_proposal_ix(accounts, args_for(ProposalAction::Signal));
    w.d.exec(ix, &[&c]).unwrap();
    (voter_pda(&other.model, &c.pubkey()), proposal_pda(&other.model, 0))
}

// ---------------------------------------------------------------- deposit_mt

#[test]
fn deposit_mt_attacks() {
    let mut w = world();
    let (a, b, c) = (w.a.insecure_clone(), w.b.insecure_clone(), w.c.insecure_clone());
    let d = &mut w.d;

    // [1] The owner must sign: b pays and signs, a's record and account are named.
    let ix = without_signer(d.deposit_mt_ix(d.deposit_mt_accounts(&a.pubkey()), MT), &a.pubkey());
    assert_error(&d.exec(ix, &[&b]), Anchor::AccountNotSigner);
    // [1] b signs for their own record but pays from a's MT account.
    let mut accounts = d.deposit_mt_accounts(&b.pubkey());
    accounts.source = d.mt_ata(&a.pubkey());
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintTokenOwner);
    // [3] b's record credited from b's signature… but a's record named.
    let mut accounts = d.deposit_mt_accounts(&b.pubkey());
    accounts.voter = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintSeeds);
    // [3] Another model's deposit vault, mint, model.
    let mut accounts = d.deposit_mt_accounts(&b.pubkey());
    accounts.deposit_vault = w.other.deposit;
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintSeeds);
    // (The deposit vault exists, so its init_if_needed mint check runs first.)
    let mut accounts = d.deposit_mt_accounts(&b.pubkey());
    accounts.mt_mint = w.other.mt_mint;
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintTokenMint);
    let mut accounts = d.deposit_mt_accounts(&c.pubkey());
    accounts.model = w.other.model;
    accounts.source = associated_token_address(&c.pubkey(), &w.other.mt_mint, &TOKEN_2022);
    accounts.mt_mint = w.other.mt_mint;
    // c's record of this model, the other model's MT: the record's seeds say otherwise.
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&c]), Anchor::ConstraintSeeds);
    // [4] The deposit vault as the source.
    let mut accounts = d.deposit_mt_accounts(&b.pubkey());
    accounts.source = d.keys.deposit;
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintDuplicateMutableAccount);
    // [6] SPL Token in place of Token-2022; a fake system program.
    let mut accounts = d.deposit_mt_accounts(&b.pubkey());
    accounts.mt_token_program = TOKEN;
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&b]), Anchor::InvalidProgramId);
    let mut accounts = d.deposit_mt_accounts(&b.pubkey());
    accounts.system_program = TOKEN;
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&b]), Anchor::InvalidProgramId);
    // [2] Another account type at the record's place: the protocol. (The
    // record's address is derived, so only a record can ever be there.)
    let mut accounts = d.deposit_mt_accounts(&b.pubkey());
    accounts.voter = protocol_pda();
    assert_error(&d.exec(d.deposit_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintSeeds);
    // [9] Nothing, and more than the account holds.
    assert_error(&d.deposit_mt(&b, 0), TreasuryError::ZeroAmount);
    let res = d.deposit_mt(&b, 1);
    assert_instruction_error(&res, InstructionError::Custom(1)); // SPL TokenError::InsufficientFunds
}

#[test]
fn deposit_mt_before_the_raise_succeeds_is_rejected() {
    let mut f = Fixture::new();
    let (_creator, keys, _) = f.launch();
    f.warp_to_start(&keys);
    let a = f.wallet(40_000 * NATIVE);
    f.contribute(&a, &keys, 30_000 * NATIVE).unwrap();
    let d = Active { f, creator: Keypair::new(), keys, holders: vec![] };
    let mut d = d;
    let ata = d.f.mt_ata(&a, &a.pubkey(), &keys);
    assert_eq!(ata, d.mt_ata(&a.pubkey()));
    assert_error(&d.deposit_mt(&a, 1), TreasuryError::ModelNotActive);
}

// ---------------------------------------------------------------- withdraw_mt

#[test]
fn withdraw_mt_attacks() {
    let mut w = world();
    let (a, b, c) = (w.a.insecure_clone(), w.b.insecure_clone(), w.c.insecure_clone());
    let (other_voter, _) = other_model_records(&mut w);
    let d = &mut w.d;

    // [1] a's MT to b: b signs, a's record named.
    let mut accounts = d.withdraw_mt_accounts(&b.pubkey());
    accounts.voter = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintSeeds);
    let ix = without_signer(d.withdraw_mt_ix(d.withdraw_mt_accounts(&a.pubkey()), MT), &a.pubkey());
    assert_error(&d.exec(ix, &[&b]), Anchor::AccountNotSigner);
    // [3] c's record in the other model, against this model.
    let mut accounts = d.withdraw_mt_accounts(&c.pubkey());
    accounts.voter = other_voter;
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&c]), Anchor::ConstraintSeeds);
    // [3] Paid out of another model's deposit vault; another model's mint.
    let mut accounts = d.withdraw_mt_accounts(&b.pubkey());
    accounts.deposit_vault = w.other.deposit;
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintSeeds);
    let mut accounts = d.withdraw_mt_accounts(&b.pubkey());
    accounts.mt_mint = w.other.mt_mint;
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&b]), TreasuryError::WrongMtMint);
    // [3] A destination of another token.
    let mut accounts = d.withdraw_mt_accounts(&b.pubkey());
    accounts.destination = d.native_ata(&b.pubkey());
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintTokenMint);
    // [4] Into the deposit vault itself.
    let mut accounts = d.withdraw_mt_accounts(&b.pubkey());
    accounts.destination = d.keys.deposit;
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&b]), Anchor::ConstraintDuplicateMutableAccount);
    // [6]
    let mut accounts = d.withdraw_mt_accounts(&b.pubkey());
    accounts.mt_token_program = TOKEN;
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&b]), Anchor::InvalidProgramId);
    // [2] The model account as a voter record; a copy of b's record owned by another program.
    let mut accounts = d.withdraw_mt_accounts(&b.pubkey());
    accounts.voter = d.keys.model;
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&b]), Anchor::AccountDiscriminatorMismatch);
    let record = voter_pda(&d.keys.model, &b.pubkey());
    let mut copy = d.f.h.chain.account(&record).unwrap();
    copy.owner = Keypair::new().pubkey();
    let lookalike = Keypair::new().pubkey();
    d.f.h.chain.set_account(lookalike, copy);
    let mut accounts = d.withdraw_mt_accounts(&b.pubkey());
    accounts.voter = lookalike;
    assert_error(&d.exec(d.withdraw_mt_ix(accounts, MT), &[&b]), Anchor::AccountOwnedByWrongProgram);
    // [9] More than deposited; zero; a replay of a full withdrawal.
    assert_error(&d.withdraw_mt(&b, 10_000 * MT + 1), TreasuryError::InsufficientDeposit);
    assert_error(&d.withdraw_mt(&b, 0), TreasuryError::ZeroAmount);
    let ix = d.withdraw_mt_ix(d.withdraw_mt_accounts(&b.pubkey()), 10_000 * MT);
    d.exec(ix.clone(), &[&b]).unwrap();
    assert_error(&d.exec(ix, &[&b]), TreasuryError::InsufficientDeposit);
    assert_eq!(d.f.h.token_balance(&d.mt_ata(&b.pubkey())), 10_000 * MT);
    // Someone without a record.
    assert_error(&d.withdraw_mt(&c, MT), Anchor::AccountNotInitialized);
}

// ---------------------------------------------------------------- create_proposal

#[test]
fn create_proposal_attacks() {
    let mut w = world();
    let (a, c) = (w.a.insecure_clone(), w.c.insecure_clone());
    let (other_voter, _) = other_model_records(&mut w);
    let d = &mut w.d;
    let signal = || args_for(ProposalAction::Signal);

    // [1] c (no deposit here) proposes on a's record.
    let mut accounts = d.create_proposal_accounts(&c.pubkey(), None);
    accounts.voter = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(d.create_proposal_ix(accounts, signal()), &[&c]), Anchor::ConstraintSeeds);
    let ix = without_signer(d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), signal()), &a.pubkey());
    assert_error(&d.exec(ix, &[&c]), Anchor::AccountNotSigner);
    // [3] c's record in the other model.
    let mut accounts = d.create_proposal_accounts(&c.pubkey(), None);
    accounts.voter = other_voter;
    assert_error(&d.exec(d.create_proposal_ix(accounts, signal()), &[&c]), Anchor::ConstraintSeeds);
    // [3] Another model's MT treasury, to shrink (or grow) the circulating supply.
    let mut accounts = d.create_proposal_accounts(&a.pubkey(), None);
    accounts.rewards_vault = w.other.rewards;
    assert_error(&d.exec(d.create_proposal_ix(accounts, signal()), &[&a]), Anchor::ConstraintSeeds);
    // [3] A proposal address off the model's counter (an old index, a future one).
    let mut accounts = d.create_proposal_accounts(&a.pubkey(), None);
    accounts.proposal = proposal_pda(&d.keys.model, 5);
    assert_error(&d.exec(d.create_proposal_ix(accounts, signal()), &[&a]), Anchor::ConstraintSeeds);
    // [7] Replaying a creation: the counter moved, the old address is taken.
    let ix = d.create_proposal_ix(d.create_proposal_accounts(&a.pubkey(), None), signal());
    d.exec(ix.clone(), &[&a]).unwrap();
    assert_error(&d.exec(ix, &[&a]), Anchor::ConstraintSeeds);
    // [2] A proposal where the voter record should be.
    let mut accounts = d.create_proposal_accounts(&a.pubkey(), None);
    accounts.voter = proposal_pda(&d.keys.model, 0);
    assert_error(&d.exec(d.create_proposal_ix(accounts, signal()), &[&a]), Anchor::AccountDiscriminatorMismatch);
    // [6]
    let mut accounts = d.create_proposal_accounts(&a.pubkey(), None);
    accounts.system_program = TOKEN;
    assert_error(&d.exec(d.create_proposal_ix(accounts, signal()), &[&a]), Anchor::InvalidProgramId);
    // [3] The protocol: another account type in its place.
    let mut accounts = d.create_proposal_accounts(&a.pubkey(), None);
    accounts.protocol = d.keys.model;
    assert_error(&d.exec(d.create_proposal_ix(accounts, signal()), &[&a]), Anchor::AccountDiscriminatorMismatch);
}

// ---------------------------------------------------------------- cast_vote

#[test]
fn cast_vote_attacks() {
    let mut w = world();
    let (a, b, c) = (w.a.insecure_clone(), w.b.insecure_clone(), w.c.insecure_clone());
    let (other_voter, other_proposal) = other_model_records(&mut w);
    let index = with_signal(&mut w);
    let d = &mut w.d;
    let proposal = proposal_pda(&d.keys.model, index);

    // [1] b votes with a's record.
    let mut accounts = d.cast_vote_accounts(&b.pubkey(), index);
    accounts.voter = voter_pda(&d.keys.model, &a.pubkey());
    accounts.vote_record = vote_pda(&proposal, &accounts.voter);
    assert_error(&d.exec(d.cast_vote_ix(accounts, VoteChoice::No), &[&b]), Anchor::ConstraintSeeds);
    let ix = without_signer(d.cast_vote_ix(d.cast_vote_accounts(&a.pubkey(), index), VoteChoice::No), &a.pubkey());
    assert_error(&d.exec(ix, &[&b]), Anchor::AccountNotSigner);
    // [3] c's 5 000 MT deposited in the other model vote here.
    let mut accounts = d.cast_vote_accounts(&c.pubkey(), index);
    accounts.voter = other_voter;
    accounts.vote_record = vote_pda(&proposal, &other_voter);
    assert_error(&d.exec(d.cast_vote_ix(accounts, VoteChoice::Yes), &[&c]), Anchor::ConstraintSeeds);
    // [3] The other model's proposal under this model.
    let mut accounts = d.cast_vote_accounts(&b.pubkey(), index);
    accounts.proposal = other_proposal;
    accounts.vote_record = vote_pda(&other_proposal, &accounts.voter);
    assert_error(&d.exec(d.cast_vote_ix(accounts, VoteChoice::Yes), &[&b]), Anchor::ConstraintSeeds);
    // [3] A vote record of another proposal (to vote again here after voting there).
    let second = d.propose(&a, ProposalAction::Signal).unwrap();
    d.vote(&b, index, VoteChoice::No).unwrap();
    let mut accounts = d.cast_vote_accounts(&b.pubkey(), second);
    accounts.vote_record = vote_pda(&proposal, &accounts.voter);
    assert_error(&d.exec(d.cast_vote_ix(accounts, VoteChoice::Yes), &[&b]), Anchor::ConstraintSeeds);
    // [2] A voter record where the proposal should be.
    let mut accounts = d.cast_vote_accounts(&a.pubkey(), index);
    accounts.proposal = voter_pda(&d.keys.model, &b.pubkey());
    assert_error(&d.exec(d.cast_vote_ix(accounts, VoteChoice::Yes), &[&a]), Anchor::AccountDiscriminatorMismatch);
    // [6]
    let mut accounts = d.cast_vote_accounts(&a.pubkey(), index);
    accounts.system_program = TOKEN;
    assert_error(&d.exec(d.cast_vote_ix(accounts, VoteChoice::Yes), &[&a]), Anchor::InvalidProgramId);
    // [13] No record, or a record with nothing in it, has no voice.
    let empty = d.f.wallet(0);
    assert_error(&d.vote(&empty, second, VoteChoice::Yes), Anchor::AccountNotInitialized);
    let third = d.propose(&a, ProposalAction::Signal).unwrap();
    let end = d.proposal(index).voting_ends.max(d.proposal(third).voting_ends);
    d.warp(end);
    let fourth = d.propose(&a, ProposalAction::Signal).unwrap();
    d.withdraw_mt(&b, 10_000 * MT).unwrap();
    assert_error(&d.vote(&b, fourth, VoteChoice::Yes), TreasuryError::NoVotingPower);
    assert_eq!(d.proposal(fourth).state, ProposalState::Voting);
}

// ---------------------------------------------------------------- finalize / execute / cancel

#[test]
fn finalize_proposal_attacks() {
    let mut w = world();
    let a = w.a.insecure_clone();
    let (_, other_proposal) = other_model_records(&mut w);
    let index = with_signal(&mut w);
    w.d.vote(&a, index, VoteChoice::Yes).unwrap();
    w.d.warp_to_voting_end(index);
    let d = &mut w.d;
    // [3] The other model's proposal under this model, and this proposal under the other model.
    let mut accounts = d.finalize_proposal_accounts(index);
    accounts.proposal = other_proposal;
    assert_error(&d.exec(d.finalize_proposal_ix(accounts), &[&a]), Anchor::ConstraintSeeds);
    let mut accounts = d.finalize_proposal_accounts(index);
    accounts.model = w.other.model;
    assert_error(&d.exec(d.finalize_proposal_ix(accounts), &[&a]), Anchor::ConstraintSeeds);
    // [2] A voter record posing as the proposal; a model posing as the model is the real check.
    let mut accounts = d.finalize_proposal_accounts(index);
    accounts.proposal = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(d.finalize_proposal_ix(accounts), &[&a]), Anchor::AccountDiscriminatorMismatch);
    let mut accounts = d.finalize_proposal_accounts(index);
    accounts.model = protocol_pda();
    assert_error(&d.exec(d.finalize_proposal_ix(accounts), &[&a]), Anchor::AccountDiscriminatorMismatch);
    // [6] The event self-CPI: a substituted event authority or program.
    let mut accounts = d.finalize_proposal_accounts(index);
    accounts.event_authority = Keypair::new().pubkey();
    assert_error(&d.exec(d.finalize_proposal_ix(accounts), &[&a]), Anchor::ConstraintAddress);
    // Another program in the `program` slot: the event's self-CPI has no
    // program to reach and the runtime fails the transaction.
    let mut accounts = d.finalize_proposal_accounts(index);
    accounts.program = TOKEN;
    assert!(d.exec(d.finalize_proposal_ix(accounts), &[&a]).is_err());
    assert_eq!(d.proposal(index).state, ProposalState::Voting);
    // [7] Replay: once.
    let ix = d.finalize_proposal_ix(d.finalize_proposal_accounts(index));
    d.exec(ix.clone(), &[&a]).unwrap();
    assert_error(&d.exec(ix, &[&a]), TreasuryError::ProposalNotVoting);
}

#[test]
fn execute_proposal_attacks() {
    let mut w = world();
    let (a, b) = (w.a.insecure_clone(), w.b.insecure_clone());
    let (_, other_proposal) = other_model_records(&mut w);
    let index = passed_transfer(&mut w);
    let d = &mut w.d;
    let thief = d.native_ata(&b.pubkey());

    // [3] The payment redirected to another account.
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.destination = Some(thief);
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), TreasuryError::WrongDestination);
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.destination = None;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), TreasuryError::DestinationRequired);
    // [3] Paid from another model's treasury / rewards vault.
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.treasury_vault = w.other.treasury;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), Anchor::ConstraintSeeds);
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.rewards_vault = w.other.rewards;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), Anchor::ConstraintSeeds);
    // [3] The other model's proposal executed against this model's treasury.
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.proposal = other_proposal;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), Anchor::ConstraintSeeds);
    // [3] Mints.
    let (fake, _) = look_alike_native(&mut d.f, &b.pubkey(), 0);
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.native_mint = fake;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), TreasuryError::WrongNativeMint);
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.mt_mint = w.other.mt_mint;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), TreasuryError::WrongMtMint);
    // [6] Token programs.
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.native_token_program = TOKEN_2022;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), Anchor::ConstraintAddress);
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.mt_token_program = TOKEN;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), Anchor::InvalidProgramId);
    // [4] The destination is also the treasury vault.
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.destination = Some(d.keys.treasury);
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), Anchor::ConstraintDuplicateMutableAccount);
    // [2] The protocol: a model in its place.
    let mut accounts = d.execute_proposal_accounts(index);
    accounts.protocol = d.keys.model;
    assert_error(&d.exec(d.execute_proposal_ix(accounts), &[&b]), Anchor::AccountDiscriminatorMismatch);
    // [7] Replay.
    let ix = d.execute_proposal_ix(d.execute_proposal_accounts(index));
    d.exec(ix.clone(), &[&b]).expect("anyone may execute");
    assert_error(&d.exec(ix, &[&b]), TreasuryError::ProposalAlreadyExecuted);
    let _ = a;
}

#[test]
fn cancel_proposal_attacks() {
    let mut w = world();
    let (a, b) = (w.a.insecure_clone(), w.b.insecure_clone());
    let (_, other_proposal) = other_model_records(&mut w);
    let index = with_signal(&mut w);
    let d = &mut w.d;
    // [1] Someone else; the proposer not signing.
    assert_error(&d.cancel_proposal(&b, index), TreasuryError::NotProposer);
    let ix = without_signer(d.cancel_proposal_ix(d.cancel_proposal_accounts(&a.pubkey(), index)), &a.pubkey());
    assert_error(&d.exec(ix, &[&b]), Anchor::AccountNotSigner);
    // [3] The other model's proposal (by c) through this model.
    let mut accounts = d.cancel_proposal_accounts(&w.c.pubkey(), index);
    accounts.proposal = other_proposal;
    let c = w.c.insecure_clone();
    assert_error(&d.exec(d.cancel_proposal_ix(accounts), &[&c]), Anchor::ConstraintSeeds);
    // [2]
    let mut accounts = d.cancel_proposal_accounts(&a.pubkey(), index);
    accounts.proposal = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(d.cancel_proposal_ix(accounts), &[&a]), Anchor::AccountDiscriminatorMismatch);
    // [7] Replay.
    let ix = d.cancel_proposal_ix(d.cancel_proposal_accounts(&a.pubkey(), index));
    d.exec(ix.clone(), &[&a]).unwrap();
    assert_error(&d.exec(ix, &[&a]), TreasuryError::ProposalNotVoting);
}

// ---------------------------------------------------------------- close_vote_record / close_voter

#[test]
fn close_vote_record_attacks() {
    let mut w = world();
    let (a, b) = (w.a.insecure_clone(), w.b.insecure_clone());
    let (_, other_proposal) = other_model_records(&mut w);
    let index = with_signal(&mut w);
    let d = &mut w.d;
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.vote(&b, index, VoteChoice::No).unwrap();
    d.warp_to_voting_end(index);
    let proposal = proposal_pda(&d.keys.model, index);
    // [1] b takes the rent of a's record: through a's voter record, or b's record with a's vote record.
    let mut accounts = d.close_vote_record_accounts(&b.pubkey(), index);
    accounts.voter = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(d.close_vote_record_ix(accounts), &[&b]), Anchor::ConstraintSeeds);
    let mut accounts = d.close_vote_record_accounts(&b.pubkey(), index);
    accounts.vote_record = vote_pda(&proposal, &voter_pda(&d.keys.model, &a.pubkey()));
    assert_error(&d.exec(d.close_vote_record_ix(accounts), &[&b]), Anchor::ConstraintSeeds);
    let ix = without_signer(d.close_vote_record_ix(d.close_vote_record_accounts(&a.pubkey(), index)), &a.pubkey());
    assert_error(&d.exec(ix, &[&b]), Anchor::AccountNotSigner);
    // [3] The other model's proposal (voting there still open) under this model.
    let mut accounts = d.close_vote_record_accounts(&a.pubkey(), index);
    accounts.proposal = other_proposal;
    assert_error(&d.exec(d.close_vote_record_ix(accounts), &[&a]), Anchor::ConstraintSeeds);
    // [2] A voter record where the vote record should be.
    let mut accounts = d.close_vote_record_accounts(&a.pubkey(), index);
    accounts.vote_record = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(d.close_vote_record_ix(accounts), &[&a]), Anchor::AccountDiscriminatorMismatch);
    // [7] Once.
    let ix = d.close_vote_record_ix(d.close_vote_record_accounts(&a.pubkey(), index));
    d.exec(ix.clone(), &[&a]).unwrap();
    assert_error(&d.exec(ix, &[&a]), Anchor::AccountNotInitialized);
}

#[test]
fn close_voter_attacks() {
    let mut w = world();
    let (a, b) = (w.a.insecure_clone(), w.b.insecure_clone());
    let d = &mut w.d;
    d.withdraw_mt(&b, 10_000 * MT).unwrap();
    // [1] a closes b's empty record to collect its rent.
    let mut accounts = d.close_voter_accounts(&a.pubkey());
    accounts.voter = voter_pda(&d.keys.model, &b.pubkey());
    assert_error(&d.exec(d.close_voter_ix(accounts), &[&a]), Anchor::ConstraintSeeds);
    let ix = without_signer(d.close_voter_ix(d.close_voter_accounts(&b.pubkey())), &b.pubkey());
    assert_error(&d.exec(ix, &[&a]), Anchor::AccountNotSigner);
    // [3] Against another model.
    let mut accounts = d.close_voter_accounts(&b.pubkey());
    accounts.model = w.other.model;
    assert_error(&d.exec(d.close_voter_ix(accounts), &[&b]), Anchor::ConstraintSeeds);
    // [2] Another type in its place.
    let mut accounts = d.close_voter_accounts(&b.pubkey());
    accounts.voter = d.keys.model;
    assert_error(&d.exec(d.close_voter_ix(accounts), &[&b]), Anchor::AccountDiscriminatorMismatch);
    // A record holding MT.
    assert_error(&d.close_voter(&a), TreasuryError::VoterNotEmpty);
    // [7] Once; closing and re-depositing in one transaction opens a fresh record.
    let ix = d.close_voter_ix(d.close_voter_accounts(&b.pubkey()));
    let redeposit = d.deposit_mt_ix(d.deposit_mt_accounts(&b.pubkey()), MT);
    d.f.h.execute(&[ix.clone(), redeposit], &[&b]).unwrap();
    let v = d.voter(&b.pubkey());
    assert_eq!((v.deposited, v.warming, v.rewards_owed, v.locked_until), (MT, MT, 0, 0));
    assert_error(&d.exec(ix, &[&b]), TreasuryError::VoterNotEmpty);
}

// ----------------------------------------- issue 14 (2, 3): snapshot voting

/// The audit's rented-vote attack: c proposes paying the whole treasury to
/// itself; a (10 000 MT) votes no. One second before voting ends c buys MT
/// from the model's own pool, deposits it and votes yes, planning to
/// withdraw after the window and sell back. The bought MT adds nothing: only
/// MT deposited and warmed up before the proposal was created votes on it.
#[test]
fn votes_rented_from_the_pool_at_the_last_second_carry_no_weight() {
    let mut d = Active::standard();
    let [a, c] = [0, 2].map(|i| d.holders[i].insecure_clone());
    d.deposit_mt(&a, 10_000 * MT).unwrap();
    d.deposit_mt(&c, 1_000 * MT).unwrap();
    d.warm_votes();
    d.open_market(&c).unwrap();
    let drain = d.f.h.token_balance(&d.keys.treasury);
    let action = ProposalAction::TransferNative { destination: d.native_ata(&c.pubkey()), amount: drain };
    let index = d.propose(&c, action).unwrap();
    d.vote(&a, index, VoteChoice::No).unwrap();

    let end = d.proposal(index).voting_ends;
    d.warp(end - 1);
    let (admin, mint, program) = (d.f.admin.insecure_clone(), d.f.native_mint, d.f.native_program);
    d.f.h.mint_to(&admin, &mint, &c.pubkey(), 20_000 * NATIVE, program);
    let mt_before = d.f.h.token_balance(&d.mt_ata(&c.pubkey()));
    d.swap(&c, SwapSide::Buy, 20_000 * NATIVE, 1).unwrap();
    let bought = d.f.h.token_balance(&d.mt_ata(&c.pubkey())) - mt_before;
    assert!(bought + 1_000 * MT > 10_000 * MT, "enough bought to outvote a: {bought}");
    d.deposit_mt(&c, bought).unwrap();
    d.vote(&c, index, VoteChoice::Yes).unwrap();
    assert_eq!(d.vote_record(index, &c.pubkey()).weight, 1_000 * MT, "only the MT deposited before the proposal");
    // A fresh wallet with bought MT has no weight at all.
    let renter = d.trader(5_000 * NATIVE);
    d.swap(&renter, SwapSide::Buy, 5_000 * NATIVE, 1).unwrap();
    let rented = d.f.h.token_balance(&d.mt_ata(&renter.pubkey()));
    d.deposit_mt(&renter, rented).unwrap();
    assert_error(&d.vote(&renter, index, VoteChoice::Yes), TreasuryError::NoEligibleWeight);

    d.warp(end);
    d.finalize_proposal(&a, index).unwrap();
    assert_eq!(d.proposal(index).state, ProposalState::Failed);
    d.warp(d.now() + 100_000);
    assert_error(&d.execute_proposal(&a, index), TreasuryError::ProposalNotPassed);
    assert!(d.f.h.token_balance(&d.keys.treasury) >= drain, "the treasury is intact (and earned the swap fees)");
}

/// MT withdrawn after a proposal was created no longer votes on it, and a
/// third party's checkpoint (which starts warmed MT earning) never lowers
/// a record's weight.
#[test]
fn withdrawals_lower_the_snapshot_weight_and_checkpoints_do_not() {
    let mut d = Active::standard();
    let [a, b, c] = [0, 1, 2].map(|i| d.holders[i].insecure_clone());
    d.deposit_mt(&a, 10_000 * MT).unwrap();
    d.deposit_mt(&b, 10_000 * MT).unwrap();
    d.deposit_mt(&c, 5_000 * MT).unwrap();
    d.warm_votes();
    // a tops up 5 000 MT just before the proposal; they warm up during the
    // vote, and b checkpoints a then (a's revenue warm-up ends).
    d.deposit_mt(&a, 5_000 * MT).unwrap();
    d.warp(d.now() + 10);
    let index = d.propose(&b, ProposalAction::Signal).unwrap();
    let warm_at = d.voter(&a.pubkey()).warm_at;
    assert!(warm_at < d.proposal(index).voting_ends);
    d.warp(warm_at);
    d.checkpoint(&b, &a.pubkey()).unwrap();
    assert_eq!(d.voter(&a.pubkey()).warming, 0, "a's top-up earns now");
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    assert_eq!(d.vote_record(index, &a.pubkey()).weight, 10_000 * MT, "the older MT still votes; the top-up came too late");
    // c withdraws 2 000 of its 5 000 MT before voting: 3 000 vote.
    d.withdraw_mt(&c, 2_000 * MT).unwrap();
    d.vote(&c, index, VoteChoice::No).unwrap();
    assert_eq!(d.vote_record(index, &c.pubkey()).weight, 3_000 * MT);
}

/// The audit's quorum attack: right after the raise, the first claimant
/// deposits and proposes a treasury drain while others have not claimed.
/// Sold-but-unclaimed MT (and the creator's vested MT) count in the quorum
/// base, so 4 500 of 49 500 circulating MT (9.1 %) miss the 10 % quorum.
#[test]
fn an_early_claimant_cannot_pass_a_proposal_on_a_quorum_base_that_leaves_out_unclaimed_mt() {
    let mut f = Fixture::new();
    let (creator, keys, _) = f.launch();
    f.warp_to_start(&keys);
    let mut holders = Vec::new();
    for amount in [30_000 * NATIVE, 20_000 * NATIVE, 9_000 * NATIVE] {
        let w = f.wallet(amount + 1_000 * NATIVE);
        f.contribute(&w, &keys, amount).unwrap();
        holders.push(w);
    }
    f.warp_to_end(&keys);
    let payer = holders[0].insecure_clone();
    f.finalize(&payer, &keys).unwrap();
    let c = holders[2].insecure_clone();
    f.claim_mt(&c, &keys).unwrap();
    let mut d = Active { f, creator, keys, holders };
    d.deposit_mt(&c, 4_500 * MT).unwrap();
    d.warm_votes();
    let drain = d.f.h.token_balance(&d.keys.treasury);
    let index = d.propose(&c, ProposalAction::TransferNative { destination: d.native_ata(&c.pubkey()), amount: drain }).unwrap();
    let p = d.proposal(index);
    // 100 000 − pool 20 000 − MT treasury (10 000 + 20 500 unsold); the
    // 25 000 unclaimed sale MT and the creator's 20 000 vested MT count.
    assert_eq!(p.circulating_supply, 49_500 * MT);
    assert_eq!(d.f.h.token_balance(&d.keys.sale), 25_000 * MT, "a and b have not claimed");
    d.vote(&c, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    let ev: mt_treasury::events::ProposalFinalized = event(&d.finalize_proposal(&c, index).unwrap());
    assert!(!ev.quorum_met);
    d.warp(d.now() + 100_000);
    assert_error(&d.execute_proposal(&c, index), TreasuryError::ProposalNotPassed);
    assert_eq!(d.f.h.token_balance(&d.keys.treasury), drain);
}
