//! mt_treasury: the protocol fee vault has an exit. Only the admin takes
//! fees out, to any native-token account but the vault itself, never more
//! than it holds (issue 14 (4); SECURITY.md classes in brackets).

mod treasury_common;

use anchor_lang::error::ErrorCode as Anchor;
use mt_treasury::errors::TreasuryError;
use mt_treasury::events::ProtocolFeesWithdrawn;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

fn withdraw_accounts(f: &Fixture, admin: &Pubkey, destination: Pubkey) -> mt_treasury::accounts::WithdrawProtocolFees {
    mt_treasury::accounts::WithdrawProtocolFees {
        admin: *admin,
        protocol: protocol_pda(),
        fee_vault: fee_vault_pda(),
        destination,
        native_mint: f.native_mint,
        native_token_program: f.native_program,
        event_authority: event_authority(&PROGRAM),
        program: PROGRAM,
    }
}

fn withdraw_ix(accounts: mt_treasury::accounts::WithdrawProtocolFees, amount: u64) -> Instruction {
    Harness::ix(PROGRAM, accounts, mt_treasury::instruction::WithdrawProtocolFees { amount })
}

/// A protocol whose fee vault holds two models' set-up fees; the admin's
/// treasury wallet has a native account.
fn with_fees() -> (Fixture, Keypair) {
    let mut f = Fixture::new();
    f.launch();
    f.launch();
    let payee = f.wallet(0);
    (f, payee)
}

#[test]
fn the_admin_withdraws_protocol_fees_to_any_native_account() {
    let (mut f, payee) = with_fees();
    let destination = f.native_ata(&payee.pubkey());
    let held = f.h.token_balance(&fee_vault_pda());
    assert_eq!(held, 2 * SETUP_FEE);
    let admin = f.admin.insecure_clone();
    let ev: ProtocolFeesWithdrawn =
        event(&f.h.execute(&[withdraw_ix(withdraw_accounts(&f, &admin.pubkey(), destination), SETUP_FEE)], &[&admin]).unwrap());
    assert_eq!((ev.amount, ev.remaining, ev.destination), (SETUP_FEE, SETUP_FEE, destination));
    // [11] Conservation: what left the vault arrived, nothing else moved.
    assert_eq!(f.h.token_balance(&fee_vault_pda()), SETUP_FEE);
    assert_eq!(f.h.token_balance(&destination), SETUP_FEE);
    // Everything that is left, exactly.
    f.h.execute(&[withdraw_ix(withdraw_accounts(&f, &admin.pubkey(), destination), SETUP_FEE)], &[&admin]).unwrap();
    assert_eq!(f.h.token_balance(&fee_vault_pda()), 0);
    assert_eq!(f.h.token_balance(&destination), 2 * SETUP_FEE);
}

#[test]
fn withdraw_protocol_fees_attacks() {
    let (mut f, payee) = with_fees();
    let admin = f.admin.insecure_clone();
    let destination = f.native_ata(&payee.pubkey());
    let thief = f.wallet(0);
    let thief_ata = f.native_ata(&thief.pubkey());

    // [1] Anyone but the admin, signing for themselves.
    let ix = withdraw_ix(withdraw_accounts(&f, &thief.pubkey(), thief_ata), SETUP_FEE);
    assert_error(&f.h.execute(&[ix], &[&thief]), TreasuryError::NotAdmin);
    // [1] The admin named but not signing.
    let ix = without_signer(withdraw_ix(withdraw_accounts(&f, &admin.pubkey(), thief_ata), SETUP_FEE), &admin.pubkey());
    assert_error(&f.h.execute(&[ix], &[&thief]), Anchor::AccountNotSigner);
    // [9] More than the vault holds; nothing.
    let ix = withdraw_ix(withdraw_accounts(&f, &admin.pubkey(), destination), 2 * SETUP_FEE + 1);
    assert_error(&f.h.execute(&[ix], &[&admin]), TreasuryError::InsufficientProtocolFees);
    let ix = withdraw_ix(withdraw_accounts(&f, &admin.pubkey(), destination), 0);
    assert_error(&f.h.execute(&[ix], &[&admin]), TreasuryError::ZeroAmount);
    // [4] The fee vault as its own destination.
    let ix = withdraw_ix(withdraw_accounts(&f, &admin.pubkey(), fee_vault_pda()), SETUP_FEE);
    assert_error(&f.h.execute(&[ix], &[&admin]), Anchor::ConstraintDuplicateMutableAccount);
    // [3] Another native account posing as the fee vault.
    let mut accounts = withdraw_accounts(&f, &admin.pubkey(), destination);
    accounts.fee_vault = thief_ata;
    assert_error(&f.h.execute(&[withdraw_ix(accounts, 1)], &[&admin]), Anchor::ConstraintHasOne);
    // [3] A destination of another mint; a look-alike native mint.
    let (fake_mint, fake_ata) = look_alike_native(&mut f, &payee.pubkey(), 0);
    let ix = withdraw_ix(withdraw_accounts(&f, &admin.pubkey(), fake_ata), 1);
    assert_error(&f.h.execute(&[ix], &[&admin]), Anchor::ConstraintTokenMint);
    let mut accounts = withdraw_accounts(&f, &admin.pubkey(), fake_ata);
    accounts.native_mint = fake_mint;
    assert_error(&f.h.execute(&[withdraw_ix(accounts, 1)], &[&admin]), TreasuryError::WrongNativeMint);
    // [6] Token programs.
    let mut accounts = withdraw_accounts(&f, &admin.pubkey(), destination);
    accounts.native_token_program = TOKEN_2022;
    assert!(f.h.execute(&[withdraw_ix(accounts, 1)], &[&admin]).is_err());
    let mut accounts = withdraw_accounts(&f, &admin.pubkey(), destination);
    accounts.native_token_program = anchor_lang::system_program::ID;
    assert!(f.h.execute(&[withdraw_ix(accounts, 1)], &[&admin]).is_err());
    // [2] Another account type as the protocol.
    let mut accounts = withdraw_accounts(&f, &admin.pubkey(), destination);
    accounts.protocol = model_pda(0);
    assert!(f.h.execute(&[withdraw_ix(accounts, 1)], &[&admin]).is_err());

    assert_eq!(f.h.token_balance(&fee_vault_pda()), 2 * SETUP_FEE, "nothing left the vault");

    // A nominated but not yet accepted admin cannot withdraw; once accepted
    // it can, and the old admin no longer can.
    let next = f.h.funded(1);
    let ix = f.update_protocol_ix(&admin.pubkey(), mt_treasury::instructions::UpdateProtocolArgs { new_admin: Some(next.pubkey()), ..Default::default() });
    f.h.execute(&[ix], &[&admin]).unwrap();
    let ix = withdraw_ix(withdraw_accounts(&f, &next.pubkey(), destination), 1);
    assert_error(&f.h.execute(&[ix], &[&next]), TreasuryError::NotAdmin);
    f.h.execute(&[f.accept_admin_ix(&next.pubkey())], &[&next]).unwrap();
    let ix = withdraw_ix(withdraw_accounts(&f, &admin.pubkey(), destination), 1);
    assert_error(&f.h.execute(&[ix], &[&admin]), TreasuryError::NotAdmin);
    f.h.execute(&[withdraw_ix(withdraw_accounts(&f, &next.pubkey(), destination), 1)], &[&next]).unwrap();
}
