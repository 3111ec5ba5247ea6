//! mt_treasury adversarial tests: contribute. The window is [start, end):
//! tested at the exact boundary seconds with the clock paused.

mod treasury_common;

use anchor_lang::error::ErrorCode as Anchor;
use mt_treasury::allowlist;
use mt_treasury::errors::TreasuryError;
use mt_treasury::events::Contributed;
use mt_treasury::instructions::ContributeArgs;
use mt_treasury::state::MT_UNIT;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

fn funded_model() -> (Fixture, ModelKeys, Keypair) {
    let mut f = Fixture::new();
    let (_creator, keys, _) = f.launch();
    let a = f.wallet(100_000 * NATIVE);
    (f, keys, a)
}

#[test]
fn contribution_window_is_start_inclusive_end_exclusive() {
    let (mut f, keys, a) = funded_model();
    let cf = f.model(&keys).crowdfund;
    f.h.warp_to(cf.start - 1);
    assert_error(&f.contribute(&a, &keys, NATIVE), TreasuryError::RaiseNotStarted); // [12]
    f.h.warp_to(cf.start);
    assert_eq!(f.now(), cf.start);
    f.contribute(&a, &keys, NATIVE).expect("at exactly start");
    f.h.warp_to(cf.end - 1);
    f.contribute(&a, &keys, NATIVE).expect("one second before end");
    f.h.warp_to(cf.end);
    assert_eq!(f.now(), cf.end);
    assert_error(&f.contribute(&a, &keys, NATIVE), TreasuryError::RaiseEnded); // [12]
    f.h.warp_to(cf.end + 1_000);
    assert_error(&f.contribute(&a, &keys, NATIVE), TreasuryError::RaiseEnded);
    assert_eq!(f.contribution(&keys, &a.pubkey()).paid, 2 * NATIVE);
}

#[test]
fn per_wallet_cap_is_enforced_on_the_total_paid() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    let cap = f.model(&keys).crowdfund.per_wallet_cap;
    // cap + 2 buys one MT base unit more than the cap allows; cap + 1 would
    // buy exactly cap/2 MT base units for exactly the cap (rounding down).
    assert_error(&f.contribute(&a, &keys, cap + 2), TreasuryError::WalletCapExceeded);
    f.contribute(&a, &keys, cap - NATIVE).unwrap();
    assert_error(&f.contribute(&a, &keys, NATIVE + 2), TreasuryError::WalletCapExceeded);
    f.contribute(&a, &keys, NATIVE).expect("exactly up to the cap");
    assert_eq!(f.contribution(&keys, &a.pubkey()).paid, cap);
    assert_error(&f.contribute(&a, &keys, 2), TreasuryError::WalletCapExceeded);
}

#[test]
fn contribute_while_paused_is_rejected_and_resumes_after() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    f.set_paused(true);
    assert_error(&f.contribute(&a, &keys, NATIVE), TreasuryError::ProtocolPaused);
    f.set_paused(false);
    f.contribute(&a, &keys, NATIVE).unwrap();
}

#[test]
fn amounts_that_buy_nothing_are_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    assert_error(&f.contribute(&a, &keys, 0), TreasuryError::ZeroAmount);
    // 1 base unit at 2 native per MT buys 0.5 MT base units: nothing.
    assert_error(&f.contribute(&a, &keys, 1), TreasuryError::ContributionTooSmall);
    let ev: Contributed = event(&f.contribute(&a, &keys, 2).unwrap());
    assert_eq!((ev.paid, ev.mt), (2, 1));
}

#[test]
fn a_partial_fill_below_the_accepted_minimum_is_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    let b = f.wallet(100_000 * NATIVE);
    let c = f.wallet(100_000 * NATIVE);
    let d = f.wallet(100_000 * NATIVE);
    for w in [&a, &b, &c] {
        f.contribute(w, &keys, 30_000 * NATIVE).unwrap();
    }
    // 10 000 native (5 000 MT) remain. Asking for at least 5 001 MT fails; 5 000 passes.
    let args = |min_mt| ContributeArgs { amount: 20_000 * NATIVE, min_mt, proof: vec![] };
    let ix = f.contribute_ix(f.contribute_accounts(&d.pubkey(), &keys), args(5_000 * MT_UNIT + 1));
    assert_error(&f.h.execute(&[ix], &[&d]), TreasuryError::FillBelowMinimum);
    let ix = f.contribute_ix(f.contribute_accounts(&d.pubkey(), &keys), args(5_000 * MT_UNIT));
    let ev: Contributed = event(&f.h.execute(&[ix], &[&d]).unwrap());
    assert_eq!((ev.paid, ev.mt, ev.sold_out), (10_000 * NATIVE, 5_000 * MT_UNIT, true));
    assert_eq!(f.h.token_balance(&f.native_ata(&d.pubkey())), 90_000 * NATIVE, "paid only for what it got");
}

#[test]
fn contribute_after_finalisation_is_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    f.contribute(&a, &keys, 10 * NATIVE).unwrap();
    f.warp_to_end(&keys);
    f.finalize(&a, &keys).unwrap();
    // The window has closed anyway; the stage check names the reason first.
    assert_error(&f.contribute(&a, &keys, NATIVE), TreasuryError::NotFunding);
}

#[test]
fn contribute_with_a_look_alike_native_mint_is_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    let (fake, fake_ata) = look_alike_native(&mut f, &a.pubkey(), 1_000 * NATIVE);
    let mut accounts = f.contribute_accounts(&a.pubkey(), &keys);
    accounts.native_mint = fake;
    accounts.source = fake_ata;
    let ix = f.contribute_ix(accounts, ContributeArgs { amount: 100 * NATIVE, min_mt: 0, proof: vec![] });
    assert_error(&f.h.execute(&[ix], &[&a]), TreasuryError::WrongNativeMint); // [3]
    // Paying with the look-alike token into the real vault: the source's mint is checked.
    let mut accounts = f.contribute_accounts(&a.pubkey(), &keys);
    accounts.source = fake_ata;
    let ix = f.contribute_ix(accounts, ContributeArgs { amount: 100 * NATIVE, min_mt: 0, proof: vec![] });
    assert_error(&f.h.execute(&[ix], &[&a]), Anchor::ConstraintTokenMint); // [3]
}

#[test]
fn contribute_into_another_models_raise_vault_is_rejected() {
    let (mut f, keys, a) = funded_model();
    let other = other_model(&mut f);
    f.warp_to_start(&keys);
    let mut accounts = f.contribute_accounts(&a.pubkey(), &keys);
    accounts.raise_vault = other.raise;
    let ix = f.contribute_ix(accounts, ContributeArgs { amount: NATIVE, min_mt: 0, proof: vec![] });
    assert_error(&f.h.execute(&[ix], &[&a]), Anchor::ConstraintSeeds); // [3]
}

#[test]
fn contribute_recorded_on_someone_elses_contribution_is_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    let b = f.wallet(100 * NATIVE);
    f.contribute(&b, &keys, NATIVE).unwrap();
    let mut accounts = f.contribute_accounts(&a.pubkey(), &keys);
    accounts.contribution = contribution_pda(&keys.model, &b.pubkey());
    let ix = f.contribute_ix(accounts, ContributeArgs { amount: NATIVE, min_mt: 0, proof: vec![] });
    assert_error(&f.h.execute(&[ix], &[&a]), Anchor::ConstraintSeeds); // [3]
}

#[test]
fn contribute_paying_from_the_raise_vault_itself_is_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    f.contribute(&a, &keys, 10 * NATIVE).unwrap();
    let mut accounts = f.contribute_accounts(&a.pubkey(), &keys);
    accounts.source = keys.raise;
    let ix = f.contribute_ix(accounts, ContributeArgs { amount: NATIVE, min_mt: 0, proof: vec![] });
    assert_error(&f.h.execute(&[ix], &[&a]), Anchor::ConstraintDuplicateMutableAccount); // [4]
}

#[test]
fn contribute_paying_from_someone_elses_account_fails() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    let victim = f.wallet(100 * NATIVE);
    let mut accounts = f.contribute_accounts(&a.pubkey(), &keys);
    accounts.source = f.native_ata(&victim.pubkey());
    let ix = f.contribute_ix(accounts, ContributeArgs { amount: NATIVE, min_mt: 0, proof: vec![] });
    assert_instruction_error(&f.h.execute(&[ix], &[&a]), InstructionError::Custom(4)); // SPL Token OwnerMismatch
    assert_eq!(f.h.token_balance(&f.native_ata(&victim.pubkey())), 100 * NATIVE);
}

#[test]
fn contribute_without_the_contributors_signature_is_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    let payer = f.h.funded(1);
    let ix = f.contribute_ix(f.contribute_accounts(&a.pubkey(), &keys), ContributeArgs { amount: NATIVE, min_mt: 0, proof: vec![] });
    assert_error(&f.h.execute(&[without_signer(ix, &a.pubkey())], &[&payer]), Anchor::AccountNotSigner); // [1]
}

#[test]
fn a_contribution_account_passed_as_the_model_is_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    f.contribute(&a, &keys, NATIVE).unwrap();
    let mut accounts = f.contribute_accounts(&a.pubkey(), &keys);
    accounts.model = contribution_pda(&keys.model, &a.pubkey());
    let ix = f.contribute_ix(accounts, ContributeArgs { amount: NATIVE, min_mt: 0, proof: vec![] });
    assert_error(&f.h.execute(&[ix], &[&a]), Anchor::AccountDiscriminatorMismatch); // [2]
}

#[test]
fn a_model_forged_by_another_program_is_rejected() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    // Byte-for-byte copy of the real model, owned by the system program at another address.
    let mut forged = f.h.chain.account(&keys.model).unwrap();
    forged.owner = anchor_lang::system_program::ID;
    let address = Pubkey::new_unique();
    f.h.chain.set_account(address, forged);
    let mut accounts = f.contribute_accounts(&a.pubkey(), &keys);
    accounts.model = address;
    let ix = f.contribute_ix(accounts, ContributeArgs { amount: NATIVE, min_mt: 0, proof: vec![] });
    assert_error(&f.h.execute(&[ix], &[&a]), Anchor::AccountOwnedByWrongProgram); // [2]
}

// ---------------------------------------------------------------- allowlist

fn allowlisted_model(f: &mut Fixture, wallets: &[Pubkey]) -> ModelKeys {
    let creator = f.creator();
    let mut args = default_terms(f.now());
    args.crowdfund.allowlist_root = Some(allowlist::root(wallets));
    f.launch_with(&creator, args)
}

fn contribute_with_proof(f: &mut Fixture, who: &Keypair, keys: &ModelKeys, proof: Vec<[u8; 32]>) -> TxResult {
    let ix = f.contribute_ix(f.contribute_accounts(&who.pubkey(), keys), ContributeArgs { amount: NATIVE, min_mt: 0, proof });
    f.h.execute(&[ix], &[who])
}

#[test]
fn allowlisted_wallets_contribute_with_their_proof_and_others_cannot() {
    let mut f = Fixture::new();
    let members: Vec<Keypair> = (0..5).map(|_| f.wallet(10 * NATIVE)).collect();
    let keys_list: Vec<Pubkey> = members.iter().map(|k| k.pubkey()).collect();
    let keys = allowlisted_model(&mut f, &keys_list);
    f.warp_to_start(&keys);
    for (i, m) in members.iter().enumerate() {
        contribute_with_proof(&mut f, m, &keys, allowlist::proof(&keys_list, i)).expect("member");
    }
    let outsider = f.wallet(10 * NATIVE);
    // No proof, a member's proof, a made-up proof: all refused.
    assert_error(&contribute_with_proof(&mut f, &outsider, &keys, vec![]), TreasuryError::NotOnAllowlist);
    assert_error(&contribute_with_proof(&mut f, &outsider, &keys, allowlist::proof(&keys_list, 0)), TreasuryError::NotOnAllowlist);
    assert_error(&contribute_with_proof(&mut f, &outsider, &keys, vec![[9; 32]; 3]), TreasuryError::NotOnAllowlist);
    // A member with another member's proof is refused too.
    assert_error(&contribute_with_proof(&mut f, &members[0], &keys, allowlist::proof(&keys_list, 1)), TreasuryError::NotOnAllowlist);
    // Proofs deeper than a million-wallet tree are refused before hashing.
    assert_error(&contribute_with_proof(&mut f, &outsider, &keys, vec![[0; 32]; 21]), TreasuryError::ProofTooLong);
}

#[test]
fn an_open_crowdfund_ignores_proofs() {
    let (mut f, keys, a) = funded_model();
    f.warp_to_start(&keys);
    contribute_with_proof(&mut f, &a, &keys, vec![[1; 32]]).expect("no allowlist");
}
