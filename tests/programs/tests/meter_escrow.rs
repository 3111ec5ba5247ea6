//! inference_meter escrows: open (signed by the key's id), deposit (with the
//! expected-owner defence), withdraw after notice, rotate the key, close.
//! Each rule with its named error. Lanes are in meter_lanes.rs.

mod meter_common;

use anchor_lang::error::ErrorCode as AnchorError;
use inference_meter::errors::MeterError;
use inference_meter::events::BatchSettled;
use inference_meter::instructions::OpenEscrowArgs;
use meter_common::*;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn funded_escrow(f: &mut MeterFixture, amount: u64) -> (Keypair, Pubkey) {
    let owner = f.wallet(amount);
    let escrow = f.open_escrow(&owner);
    if amount > 0 {
        f.deposit(&owner, &escrow, amount).expect("deposit");
    }
    (owner, escrow)
}

// ---- open_escrow ----

#[test]
fn opening_records_the_owner_and_rules() {
    let mut f = MeterFixture::new();
    let owner = f.wallet(0);
    let key = new_key();
    let key_hash = key.pubkey().to_bytes();
    let ix = f.open_escrow_ix(&owner.pubkey(), &key.pubkey(), OpenEscrowArgs { allowed_models: Some(vec![3, 9]), spend_limit: Some(500) });
    f.h.execute(&[ix], &[&owner, &key]).expect("open");
    let e = f.escrow(&escrow_pda(&key_hash));
    assert_eq!((e.owner, e.key_hash, e.balance, e.spend_limit, e.allowed_models.clone()), (owner.pubkey(), key_hash, 0, Some(500), vec![3, 9]));
    assert!(e.lanes.is_empty(), "no node may settle until the owner allows one");
    assert_eq!(e.opened_at, f.now());
    // Rent, for the benchmark table: the escrow account's size.
    let size = f.h.chain.account(&escrow_pda(&key_hash)).unwrap().data.len();
    assert_eq!(size, 8 + <inference_meter::state::Escrow as anchor_lang::Space>::INIT_SPACE);
}

#[test]
fn an_escrow_cannot_be_opened_twice_for_one_key() {
    let mut f = MeterFixture::new();
    let owner = f.wallet(0);
    let other = f.wallet(0);
    let key = new_key();
    let args = || OpenEscrowArgs { allowed_models: None, spend_limit: None };
    f.h.execute(&[f.open_escrow_ix(&owner.pubkey(), &key.pubkey(), args())], &[&owner, &key]).expect("open");
    let again = f.h.execute(&[f.open_escrow_ix(&other.pubkey(), &key.pubkey(), args())], &[&other, &key]);
    // The system program refuses to create an account that exists.
    assert_instruction_error(&again, InstructionError::Custom(0));
    assert_eq!(f.escrow(&escrow_of(&key)).owner, owner.pubkey());
}

#[test]
fn rules_that_could_never_pay_or_do_not_fit_are_rejected() {
    let mut f = MeterFixture::new();
    let owner = f.wallet(0);
    let open = |f: &mut MeterFixture, allowed_models: Option<Vec<u64>>, spend_limit: Option<u64>| {
        let key = new_key();
        let ix = f.open_escrow_ix(&owner.pubkey(), &key.pubkey(), OpenEscrowArgs { allowed_models, spend_limit });
        f.h.execute(&[ix], &[&owner, &key])
    };
    assert_error(&open(&mut f, Some(vec![]), None), MeterError::EmptyAllowedModels);
    assert_error(&open(&mut f, Some((0..9).collect()), None), MeterError::TooManyAllowedModels);
    assert_error(&open(&mut f, None, Some(0)), MeterError::ZeroAmount);
    open(&mut f, Some((0..8).collect()), Some(1)).expect("eight models and a limit of 1 fit");
}

#[test]
fn the_owner_must_sign_the_opening() {
    let mut f = MeterFixture::new();
    let owner = f.wallet(0);
    let payer = f.h.funded(1);
    let key = new_key();
    let mut ix = f.open_escrow_ix(&owner.pubkey(), &key.pubkey(), OpenEscrowArgs { allowed_models: None, spend_limit: None });
    ix.accounts[0].is_signer = false;
    let res = f.h.execute(&[ix], &[&payer, &key]);
    assert_error(&res, AnchorError::AccountNotSigner);
}

#[test]
fn nobody_can_open_an_escrow_at_someone_elses_key_id() {
    // The attack: the key id is public once the victim's opening (or
    // rotation) transaction is seen; an attacker opens an escrow there first
    // so that the victim's transaction fails. Without the key's signature
    // the attacker's opening is refused.
    let mut f = MeterFixture::new();
    let attacker = f.wallet(0);
    let victims_key = new_key();
    let mut ix = f.open_escrow_ix(&attacker.pubkey(), &victims_key.pubkey(), OpenEscrowArgs { allowed_models: None, spend_limit: None });
    let key_meta = ix.accounts.iter_mut().find(|m| m.pubkey == victims_key.pubkey()).unwrap();
    key_meta.is_signer = false;
    let res = f.h.execute(&[ix], &[&attacker]);
    assert_error(&res, AnchorError::AccountNotSigner);
    assert!(!f.h.exists(&escrow_of(&victims_key)));
    // The victim opens it as usual.
    let victim = f.wallet(0);
    let ix = f.open_escrow_ix(&victim.pubkey(), &victims_key.pubkey(), OpenEscrowArgs { allowed_models: None, spend_limit: None });
    f.h.execute(&[ix], &[&victim, &victims_key]).expect("victim opens");
    assert_eq!(f.escrow(&escrow_of(&victims_key)).owner, victim.pubkey());
}

// ---- deposit_escrow ----

#[test]
fn a_deposit_naming_another_owner_is_refused() {
    // Depositing to an escrow someone else owns (a mistyped or substituted
    // address) is refused when the depositor names the owner they expect.
    let mut f = MeterFixture::new();
    let victim = f.wallet(10 * NATIVE);
    let stranger = f.wallet(0);
    let escrow = f.open_escrow(&stranger);
    let ix = f.deposit_ix(f.deposit_accounts(&victim.pubkey(), &escrow), NATIVE, victim.pubkey());
    let res = f.h.execute(&[ix], &[&victim]);
    assert_error(&res, MeterError::EscrowOwnerMismatch);
    assert_eq!(f.balance(&f.ata(&victim.pubkey())), 10 * NATIVE);
    assert_eq!(f.escrow(&escrow).balance, 0);
}

#[test]
fn anyone_may_fund_an_escrow_whose_owner_they_name() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, 0);
    let sponsor = f.wallet(5 * NATIVE);
    let ix = f.deposit_ix(f.deposit_accounts(&sponsor.pubkey(), &escrow), 2 * NATIVE, owner.pubkey());
    f.h.execute(&[ix], &[&sponsor]).expect("sponsor deposits");
    assert_eq!(f.escrow(&escrow).balance, 2 * NATIVE);
    assert_eq!(f.balance(&escrow_vault()), 2 * NATIVE);
    assert_eq!(f.balance(&f.ata(&sponsor.pubkey())), 3 * NATIVE);
}

#[test]
fn deposits_from_a_wrong_source_or_into_a_wrong_vault_are_rejected() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, NATIVE);
    let other = f.wallet(NATIVE);
    // Someone else's token account as the source.
    let mut accounts = f.deposit_accounts(&owner.pubkey(), &escrow);
    accounts.source = f.ata(&other.pubkey());
    let res = f.h.execute(&[f.deposit_ix(accounts, 1, owner.pubkey())], &[&owner]);
    assert_error(&res, AnchorError::ConstraintTokenOwner);
    // A vault that is not the meter's.
    let mut accounts = f.deposit_accounts(&other.pubkey(), &escrow);
    accounts.escrow_vault = f.ata(&owner.pubkey());
    let res = f.h.execute(&[f.deposit_ix(accounts, 1, owner.pubkey())], &[&other]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    // A token account of another mint.
    let admin = f.admin.insecure_clone();
    let fake_mint = f.h.create_mint(&admin, 6, TOKEN);
    let fake = f.h.mint_to(&admin, &fake_mint, &other.pubkey(), NATIVE, TOKEN);
    let mut accounts = f.deposit_accounts(&other.pubkey(), &escrow);
    accounts.source = fake;
    let res = f.h.execute(&[f.deposit_ix(accounts, 1, owner.pubkey())], &[&other]);
    assert_error(&res, AnchorError::ConstraintTokenMint);
    // The other mint named as the native mint.
    let mut accounts = f.deposit_accounts(&other.pubkey(), &escrow);
    accounts.native_mint = fake_mint;
    let res = f.h.execute(&[f.deposit_ix(accounts, 1, owner.pubkey())], &[&other]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    // Zero.
    let res = f.deposit(&owner, &escrow, 0);
    assert_error(&res, MeterError::ZeroAmount);
    assert_eq!(f.escrow(&escrow).balance, NATIVE);
}

#[test]
fn a_vault_passed_twice_is_refused() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, NATIVE);
    // Deposit from the escrow vault into itself.
    let mut accounts = f.deposit_accounts(&owner.pubkey(), &escrow);
    accounts.source = escrow_vault();
    let res = f.h.execute(&[f.deposit_ix(accounts, 1, owner.pubkey())], &[&owner]);
    assert_error(&res, AnchorError::ConstraintDuplicateMutableAccount);
    // Withdraw from the escrow vault into itself.
    f.h.execute(&[f.request_withdrawal_ix(&owner.pubkey(), &escrow, 1)], &[&owner]).expect("request");
    f.h.warp_to(f.now() + NOTICE);
    let mut accounts = f.withdraw_accounts(&owner.pubkey(), &escrow);
    accounts.destination = escrow_vault();
    let res = f.h.execute(&[f.withdraw_ix(accounts)], &[&owner]);
    assert_error(&res, AnchorError::ConstraintDuplicateMutableAccount);
    assert_eq!((f.escrow(&escrow).balance, f.balance(&escrow_vault())), (NATIVE, NATIVE));
}

#[test]
fn an_escrow_owned_by_another_program_is_not_an_escrow() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, 0);
    let lookalike = Keypair::new().pubkey();
    let mut copy = f.h.chain.account(&escrow).unwrap();
    copy.owner = Keypair::new().pubkey();
    f.h.chain.set_account(lookalike, copy);
    let other = f.wallet(NATIVE);
    let res = f.h.execute(&[f.deposit_ix(f.deposit_accounts(&other.pubkey(), &lookalike), 1, owner.pubkey())], &[&other]);
    assert_error(&res, AnchorError::AccountOwnedByWrongProgram);
}

#[test]
fn a_deposit_that_would_overflow_the_balance_is_rejected() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, 10);
    // Force the recorded balance near the top (a state only a bug could reach).
    let mut account = f.h.chain.account(&escrow).unwrap();
    let mut e = f.escrow(&escrow);
    e.balance = u64::MAX - 5;
    let mut data = Vec::new();
    anchor_lang::AccountSerialize::try_serialize(&e, &mut data).unwrap();
    account.data[..data.len()].copy_from_slice(&data);
    f.h.chain.set_account(escrow, account);
    let admin = f.admin.insecure_clone();
    let mint = f.mint;
    f.h.mint_to(&admin, &mint, &owner.pubkey(), 100, TOKEN);
    assert_error(&f.deposit(&owner, &escrow, 6), MeterError::MathOverflow);
    f.deposit(&owner, &escrow, 5).expect("up to u64::MAX");
}

// ---- withdrawals ----

#[test]
fn withdrawal_needs_a_request_and_the_full_notice_period() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, NATIVE);
    let withdraw = |f: &mut MeterFixture| {
        let ix = f.withdraw_ix(f.withdraw_accounts(&owner.pubkey(), &escrow));
        f.h.execute(&[ix], &[&owner])
    };
    assert_error(&withdraw(&mut f), MeterError::NoWithdrawalRequested);
    let request = |f: &mut MeterFixture, amount: u64| {
        let ix = f.request_withdrawal_ix(&owner.pubkey(), &escrow, amount);
        f.h.execute(&[ix], &[&owner])
    };
    assert_error(&request(&mut f, 0), MeterError::ZeroAmount);
    request(&mut f, NATIVE / 4).expect("request");
    let t = f.now();
    f.h.warp_to(t + NOTICE - 1);
    assert_error(&withdraw(&mut f), MeterError::WithdrawalNoticeNotElapsed);
    // A new request restarts the notice period.
    request(&mut f, NATIVE / 2).expect("re-request");
    let t2 = f.now();
    f.h.warp_to(t + NOTICE);
    assert_error(&withdraw(&mut f), MeterError::WithdrawalNoticeNotElapsed);
    f.h.warp_to(t2 + NOTICE);
    withdraw(&mut f).expect("withdraw");
    assert_eq!(f.escrow(&escrow).balance, NATIVE / 2);
    assert_eq!(f.balance(&f.ata(&owner.pubkey())), NATIVE / 2);
    assert_eq!(f.balance(&escrow_vault()), NATIVE / 2);
    // Once paid, the request is gone.
    assert_error(&withdraw(&mut f), MeterError::NoWithdrawalRequested);
}

#[test]
fn a_withdrawal_takes_only_money_no_lane_holds() {
    let mut f = MeterFixture::new();
    let node = f.register_node();
    let (owner, escrow) = funded_escrow(&mut f, 1_000);
    f.allow(&owner, &escrow, &node.node, 600).expect("allow");
    let ix = f.request_withdrawal_ix(&owner.pubkey(), &escrow, u64::MAX);
    f.h.execute(&[ix], &[&owner]).expect("request everything");
    f.h.warp_to(f.now() + NOTICE);
    f.h.execute(&[f.withdraw_ix(f.withdraw_accounts(&owner.pubkey(), &escrow))], &[&owner]).expect("withdraw");
    assert_eq!(f.balance(&f.ata(&owner.pubkey())), 400, "the lane's 600 stay for the node");
    assert_eq!((f.escrow(&escrow).balance, f.lane(&escrow, &node.node).balance), (0, 600));
    assert_eq!(f.balance(&escrow_vault()), 600);
}

#[test]
fn only_the_owner_withdraws_and_only_to_their_own_account() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, NATIVE);
    let thief = f.wallet(0);
    let res = f.h.execute(&[f.request_withdrawal_ix(&thief.pubkey(), &escrow, 1)], &[&thief]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    f.h.execute(&[f.request_withdrawal_ix(&owner.pubkey(), &escrow, NATIVE)], &[&owner]).expect("request");
    f.h.warp_to(f.now() + NOTICE);
    let res = f.h.execute(&[f.withdraw_ix(f.withdraw_accounts(&thief.pubkey(), &escrow))], &[&thief]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    let mut accounts = f.withdraw_accounts(&owner.pubkey(), &escrow);
    accounts.destination = f.ata(&thief.pubkey());
    let res = f.h.execute(&[f.withdraw_ix(accounts)], &[&owner]);
    assert_error(&res, AnchorError::ConstraintTokenOwner);
    let mut accounts = f.withdraw_accounts(&owner.pubkey(), &escrow);
    accounts.escrow_vault = stake_vault();
    let res = f.h.execute(&[f.withdraw_ix(accounts)], &[&owner]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    assert_eq!(f.balance(&escrow_vault()), NATIVE);
}

// ---- rotate_key ----

#[test]
fn rotating_moves_balance_rules_and_history_and_keepers_follow_the_new_key() {
    let mut f = MeterFixture::new();
    let model = f.fixture_model(flat_price(1_000, 0), 0, 0);
    let node = f.register_node();
    let owner = f.wallet(NATIVE);
    let escrow = f.open_escrow_with(&owner, Some(vec![model.id]), Some(NATIVE));
    f.deposit(&owner, &escrow, NATIVE).expect("deposit");
    f.allow(&owner, &escrow, &node.node, NATIVE / 2).expect("allow");
    f.settle(&node, 1, &[Run::one(escrow, model.model, 1, 100, 0, f.now())]).expect("settle");
    f.h.execute(&[f.request_withdrawal_ix(&owner.pubkey(), &escrow, 10)], &[&owner]).expect("request");
    let old = f.escrow(&escrow);

    let fresh = new_key();
    let new_hash = fresh.pubkey().to_bytes();
    let ix = f.rotate_ix(f.rotate_accounts(&owner.pubkey(), &escrow, &fresh.pubkey()));
    f.h.execute(&[ix], &[&owner, &fresh]).expect("rotate");
    let new_escrow = escrow_pda(&new_hash);
    let moved = f.escrow(&new_escrow);
    assert_eq!((moved.owner, moved.key_hash, moved.balance, moved.spent), (owner.pubkey(), new_hash, old.balance, 100));
    assert_eq!(moved.lanes, old.lanes, "the lanes move with the money");
    assert_eq!((moved.spend_limit, moved.allowed_models.clone()), (old.spend_limit, old.allowed_models.clone()));
    assert_eq!((moved.withdrawal_amount, moved.withdrawal_requested_at), (10, old.withdrawal_requested_at));
    let retired = f.escrow(&escrow);
    assert_eq!((retired.balance, retired.rotated_to, retired.rotated_at), (0, Some(new_escrow), f.now()));
    assert!(retired.lanes.is_empty());
    assert_eq!(f.balance(&escrow_vault()), NATIVE - 100, "no tokens move");

    // Runs served under the old key settle against the new escrow.
    let lane_before = f.lane(&new_escrow, &node.node).balance;
    let meta = f.settle(&node, 2, &[Run::one(new_escrow, model.model, 1, 100, 0, f.now())]).expect("settle new");
    let ev: BatchSettled = event(&meta);
    assert_eq!((ev.charged, ev.shortfall), (100, 0));
    assert_eq!(f.lane(&new_escrow, &node.node).balance, lane_before - 100);
    // The old one has no lane left: the keeper must follow rotated_to.
    let res = f.settle(&node, 3, &[Run::one(escrow, model.model, 1, 100, 0, f.now())]);
    assert_error(&res, MeterError::NoLaneForNode);

    // The retired escrow takes no deposits, withdrawals or second rotation.
    assert_error(&f.deposit(&owner, &escrow, 1), MeterError::EscrowRotated);
    assert_error(&f.h.execute(&[f.request_withdrawal_ix(&owner.pubkey(), &escrow, 1)], &[&owner]), MeterError::EscrowRotated);
    let again = new_key();
    let res = f.h.execute(&[f.rotate_ix(f.rotate_accounts(&owner.pubkey(), &escrow, &again.pubkey()))], &[&owner, &again]);
    assert_error(&res, MeterError::EscrowRotated);
    assert_error(&f.allow(&owner, &escrow, &node.node, 0), MeterError::EscrowRotated);
}

#[test]
fn only_the_owner_rotates_and_never_onto_an_existing_escrow() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, NATIVE);
    let thief = f.wallet(0);
    let h = new_key();
    let res = f.h.execute(&[f.rotate_ix(f.rotate_accounts(&thief.pubkey(), &escrow, &h.pubkey()))], &[&thief, &h]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    // The new escrow must be the PDA of the new key.
    let mut accounts = f.rotate_accounts(&owner.pubkey(), &escrow, &h.pubkey());
    accounts.new_escrow = escrow_pda(&new_key().pubkey().to_bytes());
    let res = f.h.execute(&[f.rotate_ix(accounts)], &[&owner, &h]);
    assert_error(&res, AnchorError::ConstraintSeeds);
    assert_eq!(f.escrow(&escrow).balance, NATIVE);
}

#[test]
fn a_rotation_cannot_be_blocked_by_squatting_the_new_key_id() {
    // The attack: the rotation names its new key id; an attacker who sees it
    // opens an escrow there first, so the owner's rotation fails. Without
    // the new key's signature the squat is refused, and the rotation goes
    // through.
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, NATIVE);
    let attacker = f.wallet(0);
    let new = new_key();
    let mut squat = f.open_escrow_ix(&attacker.pubkey(), &new.pubkey(), OpenEscrowArgs { allowed_models: None, spend_limit: None });
    squat.accounts.iter_mut().find(|m| m.pubkey == new.pubkey()).unwrap().is_signer = false;
    assert_error(&f.h.execute(&[squat], &[&attacker]), AnchorError::AccountNotSigner);
    // Nor can the rotation be made to a key id the owner does not hold.
    let mut rotate = f.rotate_ix(f.rotate_accounts(&owner.pubkey(), &escrow, &new.pubkey()));
    rotate.accounts.iter_mut().find(|m| m.pubkey == new.pubkey()).unwrap().is_signer = false;
    assert_error(&f.h.execute(&[rotate], &[&owner]), AnchorError::AccountNotSigner);
    let ix = f.rotate_ix(f.rotate_accounts(&owner.pubkey(), &escrow, &new.pubkey()));
    f.h.execute(&[ix], &[&owner, &new]).expect("rotate");
    assert_eq!(f.escrow(&escrow_of(&new)).balance, NATIVE);
}

// ---- close_escrow ----

#[test]
fn closing_needs_an_empty_escrow_and_returns_the_rent() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, NATIVE);
    let close = |f: &mut MeterFixture, who: &Keypair| {
        let ix = f.close_escrow_ix(&who.pubkey(), &escrow);
        f.h.execute(&[ix], &[who])
    };
    assert_error(&close(&mut f, &owner), MeterError::EscrowNotEmpty);
    f.h.execute(&[f.request_withdrawal_ix(&owner.pubkey(), &escrow, u64::MAX)], &[&owner]).expect("request");
    f.h.warp_to(f.now() + NOTICE);
    f.h.execute(&[f.withdraw_ix(f.withdraw_accounts(&owner.pubkey(), &escrow))], &[&owner]).expect("withdraw");
    let thief = f.wallet(0);
    assert_error(&close(&mut f, &thief), AnchorError::ConstraintHasOne);
    let rent = f.h.lamports(&escrow);
    let before = f.h.lamports(&owner.pubkey());
    close(&mut f, &owner).expect("close");
    assert!(!f.h.exists(&escrow));
    assert_eq!(f.h.lamports(&owner.pubkey()), before + rent - 5_000, "rent back, minus the fee");
}

#[test]
fn a_rotated_escrow_stays_for_one_notice_period() {
    let mut f = MeterFixture::new();
    let (owner, escrow) = funded_escrow(&mut f, NATIVE);
    let h = new_key();
    f.h.execute(&[f.rotate_ix(f.rotate_accounts(&owner.pubkey(), &escrow, &h.pubkey()))], &[&owner, &h]).expect("rotate");
    let t = f.now();
    f.h.warp_to(t + NOTICE - 1);
    let res = f.h.execute(&[f.close_escrow_ix(&owner.pubkey(), &escrow)], &[&owner]);
    assert_error(&res, MeterError::RotationNoticeNotElapsed);
    f.h.warp_to(t + NOTICE);
    f.h.execute(&[f.close_escrow_ix(&owner.pubkey(), &escrow)], &[&owner]).expect("close");
    // The new escrow is untouched.
    assert_eq!(f.escrow(&escrow_of(&h)).balance, NATIVE);
}

#[test]
fn a_closed_escrow_cannot_be_settled_against() {
    let mut f = MeterFixture::new();
    let model = f.fixture_model(flat_price(1, 1), 0, 0);
    let node = f.register_node();
    let (owner, escrow) = funded_escrow(&mut f, 0);
    f.allow(&owner, &escrow, &node.node, 0).expect("allow");
    assert_error(&f.h.execute(&[f.close_escrow_ix(&owner.pubkey(), &escrow)], &[&owner]), MeterError::LanesStillOpen);
    f.h.execute(&[f.request_revoke_ix(&owner.pubkey(), &escrow, node.node)], &[&owner]).expect("request revoke");
    f.h.warp_to(f.now() + NOTICE);
    f.h.execute(&[f.revoke_ix(&owner.pubkey(), &escrow, node.node)], &[&owner]).expect("revoke");
    f.h.execute(&[f.close_escrow_ix(&owner.pubkey(), &escrow)], &[&owner]).expect("close");
    let res = f.settle(&node, 1, &[Run::one(escrow, model.model, 1, 1, 1, f.now())]);
    // The keeper must rebuild the batch without it (DESIGN.md, keepers/settler).
    assert_error(&res, AnchorError::AccountNotInitialized);
}
