//! mt_treasury stage 3 adversarial matrix, revenue instructions:
//! deposit_revenue, claim_rewards, checkpoint_voter. Each case asserts the
//! named error (SECURITY.md classes in brackets).

mod treasury_common;

use anchor_lang::error::ErrorCode as Anchor;
use mt_treasury::errors::TreasuryError;
use mt_treasury::state::MT_UNIT;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

const MT: u64 = MT_UNIT;

/// a and b deposited and earning, 1 000 native of revenue shared, and a
/// second active model with a record of c's.
struct World {
    d: Active,
    a: Keypair,
    b: Keypair,
    c: Keypair,
    sponsor: Keypair,
    other: ModelKeys,
    other_voter: Pubkey,
}

fn world() -> World {
    let mut d = Active::standard();
    let [a, b, c] = [0, 1, 2].map(|i| d.holders[i].insecure_clone());
    d.deposit_mt(&a, 15_000 * MT).unwrap();
    d.deposit_mt(&b, 10_000 * MT).unwrap();
    d.warm_up(&[&a, &b]);
    let sponsor = d.f.wallet(1_000_000 * NATIVE);
    d.deposit_revenue(&sponsor, 1_000 * NATIVE).unwrap();

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
    let mut accounts = d.deposit_mt_accounts(&c.pubkey());
    accounts.model = other.model;
    accounts.voter = voter_pda(&other.model, &c.pubkey());
    accounts.source = associated_token_address(&c.pubkey(), &other.mt_mint, &TOKEN_2022);
    accounts.deposit_vault = other.deposit;
    accounts.mt_mint = other.mt_mint;
    let ix = d.deposit_mt_ix(accounts, 5_000 * MT);
    d.exec(ix, &[&c]).unwrap();
    let other_voter = voter_pda(&other.model, &c.pubkey());
    World { d, a, b, c, sponsor, other, other_voter }
}

// ---------------------------------------------------------------- claim_rewards

#[test]
fn claim_rewards_attacks() {
    let mut w = world();
    let (a, b, c) = (w.a.insecure_clone(), w.b.insecure_clone(), w.c.insecure_clone());
    let d = &mut w.d;

    // [1] b takes a's rewards: to b's account through a's record.
    let mut accounts = d.claim_rewards_accounts(&b.pubkey());
    accounts.voter = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&b]), Anchor::ConstraintSeeds);
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.destination = d.native_ata(&b.pubkey());
    let ix = without_signer(d.claim_rewards_ix(accounts), &a.pubkey());
    assert_error(&d.exec(ix, &[&b]), Anchor::AccountNotSigner);
    // [3] c's record of the other model against this model's vault.
    let mut accounts = d.claim_rewards_accounts(&c.pubkey());
    accounts.voter = w.other_voter;
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&c]), Anchor::ConstraintSeeds);
    // [3] Paid from another model's revenue vault.
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.revenue_vault = w.other.revenue;
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&a]), Anchor::ConstraintSeeds);
    // [3] Paid from the treasury (a vault of the right mint and authority).
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.revenue_vault = d.keys.treasury;
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&a]), Anchor::ConstraintSeeds);
    // [3] A destination of another token; a look-alike native mint.
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.destination = d.mt_ata(&a.pubkey());
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&a]), Anchor::ConstraintTokenMint);
    let (fake, fake_ata) = look_alike_native(&mut d.f, &a.pubkey(), 0);
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.native_mint = fake;
    accounts.destination = fake_ata;
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&a]), TreasuryError::WrongNativeMint);
    // [4] Into the revenue vault itself.
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.destination = d.keys.revenue;
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&a]), Anchor::ConstraintDuplicateMutableAccount);
    // [6] Another token program.
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.native_token_program = TOKEN_2022;
    // (The destination's token-program check fires before the program's address check.)
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&a]), Anchor::ConstraintTokenTokenProgram);
    // [2] A look-alike record owned by another program; another type as the protocol.
    let record = voter_pda(&d.keys.model, &a.pubkey());
    let mut copy = d.f.h.chain.account(&record).unwrap();
    copy.owner = Keypair::new().pubkey();
    let lookalike = Keypair::new().pubkey();
    d.f.h.chain.set_account(lookalike, copy);
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.voter = lookalike;
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&a]), Anchor::AccountOwnedByWrongProgram);
    let mut accounts = d.claim_rewards_accounts(&a.pubkey());
    accounts.protocol = d.keys.model;
    assert_error(&d.exec(d.claim_rewards_ix(accounts), &[&a]), Anchor::AccountDiscriminatorMismatch);
    // [7] Replay: once per accrual, also inside one transaction.
    let ix = d.claim_rewards_ix(d.claim_rewards_accounts(&a.pubkey()));
    assert_error(&d.f.h.execute(&[ix.clone(), ix.clone()], &[&a]), TreasuryError::NothingToClaim);
    d.exec(ix.clone(), &[&a]).unwrap();
    assert_error(&d.exec(ix, &[&a]), TreasuryError::NothingToClaim);
    assert_eq!(d.voter(&a.pubkey()).rewards_claimed, 420 * NATIVE);
    // Someone with no record.
    let nobody = d.f.wallet(0);
    assert_error(&d.claim_rewards(&nobody), Anchor::AccountNotInitialized);
}

// ---------------------------------------------------------------- checkpoint_voter

#[test]
fn checkpoint_voter_attacks() {
    let mut w = world();
    let (a, sponsor) = (w.a.insecure_clone(), w.sponsor.insecure_clone());
    let d = &mut w.d;
    // [3] The other model's record checkpointed against this model's accumulator, and the reverse.
    let mut accounts = d.checkpoint_accounts(&w.c.pubkey());
    accounts.voter = w.other_voter;
    assert_error(&d.exec(d.checkpoint_ix(accounts), &[&sponsor]), Anchor::ConstraintSeeds);
    let mut accounts = d.checkpoint_accounts(&a.pubkey());
    accounts.model = w.other.model;
    assert_error(&d.exec(d.checkpoint_ix(accounts), &[&sponsor]), Anchor::ConstraintSeeds);
    // [2] Another type as the record or the model; a look-alike record.
    let mut accounts = d.checkpoint_accounts(&a.pubkey());
    accounts.voter = d.keys.model;
    assert_error(&d.exec(d.checkpoint_ix(accounts), &[&sponsor]), Anchor::AccountDiscriminatorMismatch);
    let mut accounts = d.checkpoint_accounts(&a.pubkey());
    accounts.model = protocol_pda();
    assert_error(&d.exec(d.checkpoint_ix(accounts), &[&sponsor]), Anchor::AccountDiscriminatorMismatch);
    let record = voter_pda(&d.keys.model, &a.pubkey());
    let mut copy = d.f.h.chain.account(&record).unwrap();
    copy.owner = Keypair::new().pubkey();
    let lookalike = Keypair::new().pubkey();
    d.f.h.chain.set_account(lookalike, copy);
    let mut accounts = d.checkpoint_accounts(&a.pubkey());
    accounts.voter = lookalike;
    assert_error(&d.exec(d.checkpoint_ix(accounts), &[&sponsor]), Anchor::AccountOwnedByWrongProgram);
    // [7] Replays change nothing: the owed amount is settled once.
    let ix = d.checkpoint_ix(d.checkpoint_accounts(&a.pubkey()));
    d.f.h.execute(&[ix.clone(), ix.clone()], &[&sponsor]).unwrap();
    let owed = d.voter(&a.pubkey()).rewards_owed;
    assert_eq!(owed, 420 * NATIVE);
    d.exec(ix, &[&sponsor]).unwrap();
    assert_eq!(d.voter(&a.pubkey()).rewards_owed, owed);
}

// ---------------------------------------------------------------- deposit_revenue

#[test]
fn deposit_revenue_attacks() {
    let mut w = world();
    let (a, sponsor) = (w.a.insecure_clone(), w.sponsor.insecure_clone());
    let d = &mut w.d;
    let ix = |d: &Active, accounts| d.deposit_revenue_ix(accounts, NATIVE);

    // [1] Paying from someone else's account (SPL Token refuses: OwnerMismatch).
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.source = d.native_ata(&a.pubkey());
    assert_instruction_error(&d.exec(ix(d, accounts), &[&sponsor]), InstructionError::Custom(4));
    let i = without_signer(ix(d, d.deposit_revenue_accounts(&sponsor.pubkey())), &sponsor.pubkey());
    assert_error(&d.exec(i, &[&a]), Anchor::AccountNotSigner);
    // [3] Another model's vaults; this model's vaults swapped.
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.revenue_vault = w.other.revenue;
    assert_error(&d.exec(ix(d, accounts), &[&sponsor]), Anchor::ConstraintSeeds);
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.treasury_vault = w.other.treasury;
    assert_error(&d.exec(ix(d, accounts), &[&sponsor]), Anchor::ConstraintSeeds);
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.revenue_vault = d.keys.treasury;
    accounts.treasury_vault = d.keys.revenue;
    assert_error(&d.exec(ix(d, accounts), &[&sponsor]), Anchor::ConstraintSeeds);
    // [4] The treasury as both.
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.revenue_vault = d.keys.treasury;
    assert_error(&d.exec(ix(d, accounts), &[&sponsor]), Anchor::ConstraintDuplicateMutableAccount);
    // [3] A look-alike native token.
    let (fake, fake_ata) = look_alike_native(&mut d.f, &sponsor.pubkey(), 10 * NATIVE);
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.native_mint = fake;
    accounts.source = fake_ata;
    assert_error(&d.exec(ix(d, accounts), &[&sponsor]), Anchor::ConstraintHasOne);
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.source = fake_ata;
    assert_error(&d.exec(ix(d, accounts), &[&sponsor]), Anchor::ConstraintTokenMint);
    // [6]
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.token_program = TOKEN_2022;
    assert_error(&d.exec(ix(d, accounts), &[&sponsor]), Anchor::ConstraintTokenTokenProgram);
    // [2] Another type as the model.
    let mut accounts = d.deposit_revenue_accounts(&sponsor.pubkey());
    accounts.model = voter_pda(&d.keys.model, &a.pubkey());
    assert_error(&d.exec(ix(d, accounts), &[&sponsor]), Anchor::AccountDiscriminatorMismatch);
    // [9]
    assert_error(&d.deposit_revenue(&sponsor, 0), TreasuryError::ZeroAmount);
}
