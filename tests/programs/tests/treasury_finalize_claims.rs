//! mt_treasury adversarial tests: finalize_raise, claim_mt, refund and
//! claim_vested. Each asserts the named error (SECURITY.md classes in brackets).

mod treasury_common;

use anchor_lang::error::ErrorCode as Anchor;
use mt_treasury::errors::TreasuryError;
use mt_treasury::state::{Stage, MT_UNIT};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

/// A model whose raise met its soft cap (a: 30 000, b: 20 000 native), not yet finalised, clock at the end.
fn due_success() -> (Fixture, Keypair, ModelKeys, Keypair, Keypair) {
    let mut f = Fixture::new();
    let (creator, keys, _) = f.launch();
    f.warp_to_start(&keys);
    let a = f.wallet(100_000 * NATIVE);
    let b = f.wallet(100_000 * NATIVE);
    f.contribute(&a, &keys, 30_000 * NATIVE).unwrap();
    f.contribute(&b, &keys, 20_000 * NATIVE).unwrap();
    f.warp_to_end(&keys);
    (f, creator, keys, a, b)
}

fn succeeded() -> (Fixture, Keypair, ModelKeys, Keypair, Keypair) {
    let (mut f, creator, keys, a, b) = due_success();
    f.finalize(&a, &keys).unwrap();
    (f, creator, keys, a, b)
}

/// A model whose raise failed (a: 1 000 native only), finalised.
fn failed() -> (Fixture, Keypair, ModelKeys, Keypair) {
    let mut f = Fixture::new();
    let (creator, keys, _) = f.launch();
    f.warp_to_start(&keys);
    let a = f.wallet(100_000 * NATIVE);
    f.contribute(&a, &keys, 1_000 * NATIVE).unwrap();
    f.warp_to_end(&keys);
    f.finalize(&a, &keys).unwrap();
    (f, creator, keys, a)
}

// ---------------------------------------------------------------- finalize_raise

#[test]
fn finalize_before_the_deadline_is_rejected_unless_sold_out() {
    let mut f = Fixture::new();
    let (_c, keys, _) = f.launch();
    let a = f.wallet(100_000 * NATIVE);
    assert_error(&f.finalize(&a, &keys), TreasuryError::RaiseNotOver);
    f.warp_to_start(&keys);
    f.contribute(&a, &keys, 30_000 * NATIVE).unwrap();
    // Soft cap not met, window open: not due.
    let end = f.model(&keys).crowdfund.end;
    f.h.warp_to(end - 1);
    assert_error(&f.finalize(&a, &keys), TreasuryError::RaiseNotOver); // [12]
    f.h.warp_to(end);
    f.finalize(&a, &keys).expect("due at exactly the end");
}

#[test]
fn finalize_twice_is_rejected() {
    let (mut f, _c, keys, a, _b) = due_success();
    f.finalize(&a, &keys).unwrap();
    assert_error(&f.finalize(&a, &keys), TreasuryError::NotFunding);
    let supply = f.h.mint_supply(&keys.mt_mint);
    assert_eq!(supply, 100_000 * MT_UNIT, "minted once");
}

#[test]
fn finalize_twice_in_one_transaction_is_rejected() {
    let (mut f, _c, keys, a, _b) = due_success();
    let ix = f.finalize_ix(f.finalize_accounts(&keys));
    let res = f.h.execute(&[ix.clone(), ix], &[&a]);
    assert_error(&res, TreasuryError::NotFunding);
    assert_eq!(f.model(&keys).stage, Stage::Funding, "the whole transaction rolled back");
}

#[test]
fn finalize_paying_into_substituted_vaults_is_rejected() {
    let (mut f, _c, keys, a, _b) = due_success();
    let thief = f.wallet(0);
    let thief_native = f.native_ata(&thief.pubkey());
    let other = other_model(&mut f);

    let mut accounts = f.finalize_accounts(&keys);
    accounts.fee_vault = thief_native;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::ConstraintHasOne); // [3]

    let mut accounts = f.finalize_accounts(&keys);
    accounts.treasury_vault = thief_native;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::ConstraintSeeds); // [3]

    let mut accounts = f.finalize_accounts(&keys);
    accounts.liquidity_native_vault = other.liquidity_native;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::ConstraintSeeds); // [3]

    let mut accounts = f.finalize_accounts(&keys);
    accounts.creator_vault = other.creator_vault;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::ConstraintSeeds); // [3]

    let mut accounts = f.finalize_accounts(&keys);
    accounts.raise_vault = other.raise;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::ConstraintSeeds); // [3]

    let mut accounts = f.finalize_accounts(&keys);
    accounts.mt_mint = other.mt_mint;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), TreasuryError::WrongMtMint); // [3]

    let (fake, _) = look_alike_native(&mut f, &a.pubkey(), 0);
    let mut accounts = f.finalize_accounts(&keys);
    accounts.native_mint = fake;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), TreasuryError::WrongNativeMint); // [3]

    let mut accounts = f.finalize_accounts(&keys);
    accounts.treasury_vault = keys.liquidity_native;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::ConstraintDuplicateMutableAccount); // [4]

    let mut accounts = f.finalize_accounts(&keys);
    accounts.mt_token_program = TOKEN;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::InvalidProgramId); // [6]

    // Untouched by all of the above.
    assert_eq!(f.model(&keys).stage, Stage::Funding);
    f.finalize(&a, &keys).unwrap();
}

#[test]
fn finalize_with_a_forged_model_is_rejected() {
    let (mut f, _c, keys, a, _b) = due_success();
    // Our own program's account type but not the model PDA: a contribution.
    let mut accounts = f.finalize_accounts(&keys);
    accounts.model = contribution_pda(&keys.model, &a.pubkey());
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::AccountDiscriminatorMismatch); // [2]
    // A copy of the model owned by our program at a non-PDA address.
    let copy = f.h.chain.account(&keys.model).unwrap();
    let address = Pubkey::new_unique();
    f.h.chain.set_account(address, copy);
    let mut accounts = f.finalize_accounts(&keys);
    accounts.model = address;
    assert_error(&f.h.execute(&[f.finalize_ix(accounts)], &[&a]), Anchor::ConstraintSeeds); // [2][3]
}

// ---------------------------------------------------------------- claim_mt

#[test]
fn claim_mt_on_a_failed_or_unfinished_raise_is_rejected() {
    let (mut f, _c, keys, a, _b) = due_success();
    assert_error(&f.claim_mt(&a, &keys), TreasuryError::ModelNotActive);
    let (mut f, _c, keys, a) = failed();
    assert_error(&f.claim_mt(&a, &keys), TreasuryError::ModelNotActive);
}

#[test]
fn claim_mt_twice_is_rejected_even_after_closing_and_reopening_the_token_account() {
    let (mut f, _c, keys, a, _b) = succeeded();
    f.claim_mt(&a, &keys).unwrap();
    assert_error(&f.claim_mt(&a, &keys), TreasuryError::AlreadyClaimed);

    // Move the MT away, close the token account, re-open it, claim again.
    let ata = associated_token_address(&a.pubkey(), &keys.mt_mint, &TOKEN_2022);
    let b_ata = f.mt_ata(&a, &Pubkey::new_unique(), &keys);
    let decimals = mt_treasury::state::MT_DECIMALS;
    let transfer = anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(
        &TOKEN_2022, &ata, &keys.mt_mint, &b_ata, &a.pubkey(), &[], 15_000 * MT_UNIT, decimals,
    )
    .unwrap();
    let close = anchor_spl::token_2022::spl_token_2022::instruction::close_account(&TOKEN_2022, &ata, &a.pubkey(), &a.pubkey(), &[]).unwrap();
    f.h.execute(&[transfer, close], &[&a]).unwrap();
    assert!(!f.h.exists(&ata));
    assert_error(&f.claim_mt(&a, &keys), TreasuryError::AlreadyClaimed); // [7]
}

#[test]
fn claim_mt_twice_in_one_transaction_is_rejected() {
    let (mut f, _c, keys, a, _b) = succeeded();
    let dest = f.mt_ata(&a, &a.pubkey(), &keys);
    let ix = f.claim_mt_ix(f.claim_mt_accounts(&a.pubkey(), &keys, dest));
    assert_error(&f.h.execute(&[ix.clone(), ix], &[&a]), TreasuryError::AlreadyClaimed);
    assert_eq!(f.h.token_balance(&dest), 0);
}

#[test]
fn claiming_someone_elses_mt_is_rejected() {
    let (mut f, _c, keys, a, b) = succeeded();
    let thief = f.h.funded(1);
    let dest = f.mt_ata(&thief, &thief.pubkey(), &keys);
    // The thief signs and passes a's contribution: it is not the thief's PDA.
    let mut accounts = f.claim_mt_accounts(&thief.pubkey(), &keys, dest);
    accounts.contribution = contribution_pda(&keys.model, &a.pubkey());
    assert_error(&f.h.execute(&[f.claim_mt_ix(accounts)], &[&thief]), Anchor::ConstraintSeeds); // [3]
    // Naming a as the contributor without a's signature.
    let accounts = f.claim_mt_accounts(&a.pubkey(), &keys, dest);
    let ix = without_signer(f.claim_mt_ix(accounts), &a.pubkey());
    assert_error(&f.h.execute(&[ix], &[&thief]), Anchor::AccountNotSigner); // [1]
    let _ = b;
}

#[test]
fn claim_mt_from_substituted_accounts_is_rejected() {
    let (mut f, _c, keys, a, _b) = succeeded();
    let other = other_model(&mut f);
    let dest = f.mt_ata(&a, &a.pubkey(), &keys);

    let mut accounts = f.claim_mt_accounts(&a.pubkey(), &keys, dest);
    accounts.sale_vault = keys.rewards;
    assert_error(&f.h.execute(&[f.claim_mt_ix(accounts)], &[&a]), Anchor::ConstraintSeeds); // [3]

    let mut accounts = f.claim_mt_accounts(&a.pubkey(), &keys, dest);
    accounts.mt_mint = other.mt_mint;
    assert_error(&f.h.execute(&[f.claim_mt_ix(accounts)], &[&a]), TreasuryError::WrongMtMint); // [3]

    // The contribution belongs to another model than the one passed.
    let mut accounts = f.claim_mt_accounts(&a.pubkey(), &other, dest);
    accounts.contribution = contribution_pda(&keys.model, &a.pubkey());
    accounts.mt_mint = other.mt_mint;
    accounts.destination = f.mt_ata(&a, &a.pubkey(), &other);
    assert_error(&f.h.execute(&[f.claim_mt_ix(accounts)], &[&a]), Anchor::ConstraintSeeds); // [3]

    let mut accounts = f.claim_mt_accounts(&a.pubkey(), &keys, dest);
    accounts.destination = keys.sale;
    assert_error(&f.h.execute(&[f.claim_mt_ix(accounts)], &[&a]), Anchor::ConstraintDuplicateMutableAccount); // [4]

    let mut accounts = f.claim_mt_accounts(&a.pubkey(), &keys, dest);
    accounts.destination = f.native_ata(&a.pubkey());
    assert_error(&f.h.execute(&[f.claim_mt_ix(accounts)], &[&a]), Anchor::ConstraintTokenMint); // [3]

    f.claim_mt(&a, &keys).expect("the real accounts still work");
}

// ---------------------------------------------------------------- refund

#[test]
fn refund_on_a_successful_or_unfinished_raise_is_rejected() {
    let (mut f, _c, keys, a, _b) = due_success();
    assert_error(&f.refund(&a, &keys), TreasuryError::RaiseNotFailed);
    f.finalize(&a, &keys).unwrap();
    assert_error(&f.refund(&a, &keys), TreasuryError::RaiseNotFailed);
}

#[test]
fn refund_twice_is_rejected_even_in_one_transaction() {
    let (mut f, _c, keys, a) = failed();
    let ix = f.refund_ix(f.refund_accounts(&a.pubkey(), &keys));
    assert_error(&f.h.execute(&[ix.clone(), ix], &[&a]), TreasuryError::AlreadyRefunded);
    f.refund(&a, &keys).unwrap();
    assert_error(&f.refund(&a, &keys), TreasuryError::AlreadyRefunded);
    assert_eq!(f.h.token_balance(&f.native_ata(&a.pubkey())), 100_000 * NATIVE);
}

#[test]
fn refund_of_someone_elses_contribution_is_rejected() {
    let (mut f, _c, keys, a) = failed();
    let thief = f.wallet(0);
    let mut accounts = f.refund_accounts(&thief.pubkey(), &keys);
    accounts.contribution = contribution_pda(&keys.model, &a.pubkey());
    assert_error(&f.h.execute(&[f.refund_ix(accounts)], &[&thief]), Anchor::ConstraintSeeds); // [3]
    let mut accounts = f.refund_accounts(&a.pubkey(), &keys);
    accounts.destination = f.native_ata(&thief.pubkey());
    let ix = without_signer(f.refund_ix(accounts), &a.pubkey());
    assert_error(&f.h.execute(&[ix], &[&thief]), Anchor::AccountNotSigner); // [1]
}

#[test]
fn refund_with_substituted_accounts_is_rejected() {
    let (mut f, _c, keys, a) = failed();
    let other = other_model(&mut f);

    let mut accounts = f.refund_accounts(&a.pubkey(), &keys);
    accounts.raise_vault = other.raise;
    assert_error(&f.h.execute(&[f.refund_ix(accounts)], &[&a]), Anchor::ConstraintSeeds); // [3]

    let (fake, fake_ata) = look_alike_native(&mut f, &a.pubkey(), 0);
    let mut accounts = f.refund_accounts(&a.pubkey(), &keys);
    accounts.native_mint = fake;
    accounts.destination = fake_ata;
    assert_error(&f.h.execute(&[f.refund_ix(accounts)], &[&a]), TreasuryError::WrongNativeMint); // [3]

    let mut accounts = f.refund_accounts(&a.pubkey(), &keys);
    accounts.destination = keys.raise;
    assert_error(&f.h.execute(&[f.refund_ix(accounts)], &[&a]), Anchor::ConstraintDuplicateMutableAccount); // [4]

    let mut accounts = f.refund_accounts(&a.pubkey(), &keys);
    accounts.native_token_program = TOKEN_2022;
    assert_error(&f.h.execute(&[f.refund_ix(accounts)], &[&a]), Anchor::ConstraintTokenTokenProgram); // [6]

    f.refund(&a, &keys).expect("the real accounts still work");
}

#[test]
fn refund_to_any_native_account_of_the_contributors_choice_works() {
    let (mut f, _c, keys, a) = failed();
    let friend = f.wallet(0);
    let mut accounts = f.refund_accounts(&a.pubkey(), &keys);
    accounts.destination = f.native_ata(&friend.pubkey());
    f.h.execute(&[f.refund_ix(accounts)], &[&a]).unwrap();
    assert_eq!(f.h.token_balance(&f.native_ata(&friend.pubkey())), 1_000 * NATIVE);
}

// ---------------------------------------------------------------- claim_vested

#[test]
fn claim_vested_by_a_stranger_is_rejected() {
    let (mut f, creator, keys, _a, _b) = succeeded();
    f.h.warp_to(f.now() + 10_000);
    let stranger = f.h.funded(1);
    let dest = f.mt_ata(&stranger, &stranger.pubkey(), &keys);
    let ix = f.claim_vested_ix(f.claim_vested_accounts(&stranger.pubkey(), &keys, dest));
    assert_error(&f.h.execute(&[ix], &[&stranger]), TreasuryError::NotCreator); // [1]
    let ix = without_signer(f.claim_vested_ix(f.claim_vested_accounts(&creator.pubkey(), &keys, dest)), &creator.pubkey());
    assert_error(&f.h.execute(&[ix], &[&stranger]), Anchor::AccountNotSigner); // [1]
}

#[test]
fn claim_vested_on_a_failed_or_unfinished_raise_is_rejected() {
    let (mut f, creator, keys, _a, _b) = due_success();
    let dest = f.mt_ata(&creator, &creator.pubkey(), &keys);
    let ix = f.claim_vested_ix(f.claim_vested_accounts(&creator.pubkey(), &keys, dest));
    assert_error(&f.h.execute(&[ix], &[&creator]), TreasuryError::ModelNotActive);
    let (mut f, creator, keys, _a) = failed();
    f.h.warp_to(f.now() + 10_000);
    assert_error(&f.claim_vested(&creator, &keys), TreasuryError::ModelNotActive);
}

#[test]
fn claim_vested_from_substituted_accounts_is_rejected() {
    let (mut f, creator, keys, _a, _b) = succeeded();
    f.h.warp_to(f.now() + 10_000);
    let dest = f.mt_ata(&creator, &creator.pubkey(), &keys);

    let mut accounts = f.claim_vested_accounts(&creator.pubkey(), &keys, dest);
    accounts.creator_vault = keys.liquidity;
    assert_error(&f.h.execute(&[f.claim_vested_ix(accounts)], &[&creator]), Anchor::ConstraintSeeds); // [3]

    let mut accounts = f.claim_vested_accounts(&creator.pubkey(), &keys, dest);
    accounts.destination = keys.creator_vault;
    assert_error(&f.h.execute(&[f.claim_vested_ix(accounts)], &[&creator]), Anchor::ConstraintDuplicateMutableAccount); // [4]

    // Another creator's model, with its own vault: not this creator's.
    let other = other_model(&mut f);
    let mut accounts = f.claim_vested_accounts(&creator.pubkey(), &other, dest);
    accounts.destination = dest;
    assert_error(&f.h.execute(&[f.claim_vested_ix(accounts)], &[&creator]), TreasuryError::NotCreator); // [3]

    f.claim_vested(&creator, &keys).expect("the real accounts still work");
    assert_eq!(f.h.token_balance(&dest), 20_000 * MT_UNIT);
}

// ---------------------------------------------------------------- close_contribution

#[test]
fn a_claimed_or_refunded_contribution_returns_its_rent_and_stays_one_shot() {
    // Claimed: the record's rent goes back; claiming again cannot find it.
    let (mut f, _c, keys, a, _b) = succeeded();
    let record = contribution_pda(&keys.model, &a.pubkey());
    f.claim_mt(&a, &keys).unwrap();
    let (rent, before) = (f.h.lamports(&record), f.h.lamports(&a.pubkey()));
    let res = f.h.execute(&[f.close_contribution_ix(&a.pubkey(), &keys)], &[&a]).unwrap();
    let ev: mt_treasury::events::ContributionClosed = event(&res);
    assert_eq!((ev.contributor, ev.paid, ev.mt), (a.pubkey(), 30_000 * NATIVE, 15_000 * MT_UNIT));
    assert!(!f.h.exists(&record));
    assert_eq!(f.h.lamports(&a.pubkey()), before + rent - 5_000);
    assert_error(&f.claim_mt(&a, &keys), Anchor::AccountNotInitialized); // [7]
    // The raise is over: contribute cannot re-create the record with fresh flags.
    assert_error(&f.contribute(&a, &keys, NATIVE), TreasuryError::NotFunding); // [7]

    // Refunded: the same.
    let (mut f, _c, keys, a) = failed();
    let record = contribution_pda(&keys.model, &a.pubkey());
    f.refund(&a, &keys).unwrap();
    f.h.execute(&[f.close_contribution_ix(&a.pubkey(), &keys)], &[&a]).unwrap();
    assert!(!f.h.exists(&record));
    assert_error(&f.refund(&a, &keys), Anchor::AccountNotInitialized); // [7]
    assert_eq!(f.h.token_balance(&f.native_ata(&a.pubkey())), 100_000 * NATIVE);
}

#[test]
fn a_contribution_still_needed_cannot_be_closed() {
    // Funding, unclaimed after success, unrefunded after failure.
    let (mut f, _c, keys, a, _b) = due_success();
    assert_error(&f.h.execute(&[f.close_contribution_ix(&a.pubkey(), &keys)], &[&a]), TreasuryError::ContributionStillOpen);
    f.finalize(&a, &keys).unwrap();
    assert_error(&f.h.execute(&[f.close_contribution_ix(&a.pubkey(), &keys)], &[&a]), TreasuryError::ContributionStillOpen);
    let (mut f, _c, keys, a) = failed();
    assert_error(&f.h.execute(&[f.close_contribution_ix(&a.pubkey(), &keys)], &[&a]), TreasuryError::ContributionStillOpen);
}

#[test]
fn closing_someone_elses_contribution_is_rejected() {
    let (mut f, _c, keys, a, _b) = succeeded();
    f.claim_mt(&a, &keys).unwrap();
    let thief = f.h.funded(1);
    // The thief's own PDA does not exist; a's is not the thief's.
    let mut ix = f.close_contribution_ix(&thief.pubkey(), &keys);
    ix.accounts[2].pubkey = contribution_pda(&keys.model, &a.pubkey());
    assert_error(&f.h.execute(&[ix], &[&thief]), Anchor::ConstraintSeeds); // [3]
    // Naming a as the contributor (rent to a) without a's signature.
    let ix = without_signer(f.close_contribution_ix(&a.pubkey(), &keys), &a.pubkey());
    assert_error(&f.h.execute(&[ix], &[&thief]), Anchor::AccountNotSigner); // [1]
    // A record of another model.
    let (_, other, _) = f.launch();
    let mut ix = f.close_contribution_ix(&a.pubkey(), &keys);
    ix.accounts[1].pubkey = other.model;
    assert_error(&f.h.execute(&[ix], &[&a]), Anchor::ConstraintSeeds); // [2]
    assert!(f.h.exists(&contribution_pda(&keys.model, &a.pubkey())));
}
