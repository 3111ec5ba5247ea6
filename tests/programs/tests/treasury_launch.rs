//! mt_treasury adversarial tests: update_protocol and the three launch steps
//! (launch_model, create_model_token, open_model_vaults). Each asserts the
//! named error (SECURITY.md classes in brackets).

mod treasury_common;

use anchor_lang::error::ErrorCode as Anchor;
use mt_treasury::errors::TreasuryError;
use mt_treasury::events::{AdminAccepted, ProtocolUpdated};
use mt_treasury::instructions::*;
use mt_treasury::state::{Stage, MT_UNIT};
use program_tests::*;
use solana_signer::Signer;
use treasury_common::*;

// ---------------------------------------------------------------- update_protocol

#[test]
fn admin_updates_settings_and_pauses() {
    let mut f = Fixture::new();
    let admin = f.admin.insecure_clone();
    let args = UpdateProtocolArgs {
        setup_fee: Some(7),
        protocol_fee_bps: Some(10_000),
        swap_fee_bps: Some(0),
        min_period_secs: Some(3_600),
        paused: Some(true),
        ..Default::default()
    };
    let res = f.h.execute(&[f.update_protocol_ix(&admin.pubkey(), args)], &[&admin]).unwrap();
    let ev: ProtocolUpdated = event(&res);
    assert_eq!((ev.setup_fee, ev.protocol_fee_bps, ev.swap_fee_bps, ev.swap_protocol_share_bps, ev.min_period_secs, ev.paused), (7, 10_000, 0, 5_000, 3_600, true));
    let p = f.protocol();
    assert_eq!((p.setup_fee, p.protocol_fee_bps, p.swap_fee_bps, p.swap_protocol_share_bps, p.min_period_secs, p.paused), (7, 10_000, 0, 5_000, 3_600, true));
    // Untouched: native mint and fee vault never change.
    assert_eq!((p.native_mint, p.fee_vault), (f.native_mint, fee_vault_pda()));
}

#[test]
fn update_protocol_by_a_stranger_is_rejected() {
    let mut f = Fixture::new();
    let stranger = f.h.funded(1);
    let res = f.h.execute(&[f.update_protocol_ix(&stranger.pubkey(), UpdateProtocolArgs { paused: Some(true), ..Default::default() })], &[&stranger]);
    assert_error(&res, TreasuryError::NotAdmin); // [1]
}

#[test]
fn update_protocol_without_the_admin_signature_is_rejected() {
    let mut f = Fixture::new();
    let stranger = f.h.funded(1);
    let admin = f.admin.pubkey();
    let ix = without_signer(f.update_protocol_ix(&admin, UpdateProtocolArgs { paused: Some(true), ..Default::default() }), &admin);
    assert_error(&f.h.execute(&[ix], &[&stranger]), Anchor::AccountNotSigner); // [1]
}

#[test]
fn update_protocol_rejects_out_of_range_and_empty_settings() {
    let mut f = Fixture::new();
    let admin = f.admin.insecure_clone();
    let cases: [(UpdateProtocolArgs, TreasuryError); 5] = [
        (UpdateProtocolArgs { protocol_fee_bps: Some(10_001), ..Default::default() }, TreasuryError::InvalidBps),
        (UpdateProtocolArgs { swap_fee_bps: Some(u16::MAX), ..Default::default() }, TreasuryError::InvalidBps),
        (UpdateProtocolArgs { swap_protocol_share_bps: Some(10_001), ..Default::default() }, TreasuryError::InvalidBps),
        (UpdateProtocolArgs { min_period_secs: Some(0), ..Default::default() }, TreasuryError::PeriodTooShort),
        (UpdateProtocolArgs::default(), TreasuryError::NothingToUpdate),
    ];
    for (args, err) in cases {
        assert_error(&f.h.execute(&[f.update_protocol_ix(&admin.pubkey(), args)], &[&admin]), err);
    }
}

#[test]
fn admin_hands_over_in_two_steps_and_the_old_admin_loses_control() {
    let mut f = Fixture::new();
    let admin = f.admin.insecure_clone();
    let next = f.h.funded(1);
    let res = f.h.execute(&[f.update_protocol_ix(&admin.pubkey(), UpdateProtocolArgs { new_admin: Some(next.pubkey()), ..Default::default() })], &[&admin]).unwrap();
    let ev: ProtocolUpdated = event(&res);
    assert_eq!((ev.admin, ev.pending_admin), (admin.pubkey(), Some(next.pubkey())));
    // Nominated, not yet in charge: the admin still is.
    assert_eq!((f.protocol().admin, f.protocol().pending_admin), (admin.pubkey(), Some(next.pubkey())));
    let res = f.h.execute(&[f.update_protocol_ix(&next.pubkey(), UpdateProtocolArgs { paused: Some(true), ..Default::default() })], &[&next]);
    assert_error(&res, TreasuryError::NotAdmin);

    let res = f.h.execute(&[f.accept_admin_ix(&next.pubkey())], &[&next]).unwrap();
    let ev: AdminAccepted = event(&res);
    assert_eq!((ev.previous_admin, ev.admin), (admin.pubkey(), next.pubkey()));
    assert_eq!((f.protocol().admin, f.protocol().pending_admin), (next.pubkey(), None));
    let res = f.h.execute(&[f.update_protocol_ix(&admin.pubkey(), UpdateProtocolArgs { paused: Some(true), ..Default::default() })], &[&admin]);
    assert_error(&res, TreasuryError::NotAdmin);
    f.h.execute(&[f.update_protocol_ix(&next.pubkey(), UpdateProtocolArgs { paused: Some(true), ..Default::default() })], &[&next]).unwrap();
    // Accepting is one-shot: the nomination is spent.
    assert_error(&f.h.execute(&[f.accept_admin_ix(&next.pubkey())], &[&next]), TreasuryError::NotPendingAdmin);
}

#[test]
fn accept_admin_by_anyone_but_the_nominee_is_rejected() {
    let mut f = Fixture::new();
    let admin = f.admin.insecure_clone();
    let next = f.h.funded(1);
    let stranger = f.h.funded(1);
    // No nomination yet: nobody may accept, not even the admin.
    assert_error(&f.h.execute(&[f.accept_admin_ix(&stranger.pubkey())], &[&stranger]), TreasuryError::NotPendingAdmin); // [1]
    assert_error(&f.h.execute(&[f.accept_admin_ix(&admin.pubkey())], &[&admin]), TreasuryError::NotPendingAdmin); // [1]
    f.h.execute(&[f.update_protocol_ix(&admin.pubkey(), UpdateProtocolArgs { new_admin: Some(next.pubkey()), ..Default::default() })], &[&admin]).unwrap();
    assert_error(&f.h.execute(&[f.accept_admin_ix(&stranger.pubkey())], &[&stranger]), TreasuryError::NotPendingAdmin); // [1]
    // The nominee's key without its signature.
    let ix = without_signer(f.accept_admin_ix(&next.pubkey()), &next.pubkey());
    assert_error(&f.h.execute(&[ix], &[&stranger]), Anchor::AccountNotSigner); // [1]
    // A look-alike protocol account.
    let (_, keys, _) = f.launch();
    let mut ix = f.accept_admin_ix(&next.pubkey());
    ix.accounts[1].pubkey = keys.model;
    assert_error(&f.h.execute(&[ix], &[&next]), Anchor::AccountDiscriminatorMismatch); // [2]
    assert_eq!(f.protocol().admin, admin.pubkey());
}

#[test]
fn a_nomination_can_be_replaced_or_withdrawn() {
    let mut f = Fixture::new();
    let admin = f.admin.insecure_clone();
    let first = f.h.funded(1);
    let second = f.h.funded(1);
    for k in [&first, &second] {
        f.h.execute(&[f.update_protocol_ix(&admin.pubkey(), UpdateProtocolArgs { new_admin: Some(k.pubkey()), ..Default::default() })], &[&admin]).unwrap();
    }
    assert_error(&f.h.execute(&[f.accept_admin_ix(&first.pubkey())], &[&first]), TreasuryError::NotPendingAdmin);
    // Nominating the current admin withdraws the nomination.
    f.h.execute(&[f.update_protocol_ix(&admin.pubkey(), UpdateProtocolArgs { new_admin: Some(admin.pubkey()), ..Default::default() })], &[&admin]).unwrap();
    assert_eq!(f.protocol().pending_admin, None);
    assert_error(&f.h.execute(&[f.accept_admin_ix(&second.pubkey())], &[&second]), TreasuryError::NotPendingAdmin);
    assert_eq!(f.protocol().admin, admin.pubkey());
}

#[test]
fn a_model_account_passed_as_the_protocol_is_rejected() {
    let mut f = Fixture::new();
    let (_, keys, _) = f.launch();
    let admin = f.admin.insecure_clone();
    let mut ix = f.update_protocol_ix(&admin.pubkey(), UpdateProtocolArgs { paused: Some(true), ..Default::default() });
    ix.accounts[1].pubkey = keys.model;
    assert_error(&f.h.execute(&[ix], &[&admin]), Anchor::AccountDiscriminatorMismatch); // [2]
}

// ---------------------------------------------------------------- launch_model

fn launch_result(f: &mut Fixture, args: LaunchModelArgs) -> TxResult {
    let creator = f.creator();
    let id = f.protocol().model_count;
    let ix = f.launch_ix(f.launch_accounts(&creator.pubkey(), id), args);
    f.h.execute(&[ix], &[&creator])
}

/// Every invalid launch parameter, each with its own named error.
#[test]
fn invalid_launch_parameters_are_rejected_by_name() {
    let mut f = Fixture::new();
    let now = f.now();
    type Edit = fn(&mut LaunchModelArgs, i64);
    let cases: Vec<(&str, Edit, TreasuryError)> = vec![
        ("zero supply", |a, _| { a.supply = mt_treasury::state::SupplySplit { hard_supply: 0, creator: 0, crowdfund: 0, liquidity: 0, contributor_rewards: 0 } }, TreasuryError::ZeroSupply),
        ("split short of the hard supply", |a, _| a.supply.creator -= 1, TreasuryError::SupplySplitMismatch),
        ("split above the hard supply", |a, _| a.supply.liquidity += 1, TreasuryError::SupplySplitMismatch),
        ("split overflowing u64", |a, _| { a.supply.creator = u64::MAX; a.supply.hard_supply = u64::MAX }, TreasuryError::SupplySplitMismatch),
        ("no sale allocation", |a, _| { a.supply.creator += a.supply.crowdfund; a.supply.crowdfund = 0 }, TreasuryError::ZeroSaleAllocation),
        ("negative cliff", |a, _| a.vesting.cliff_secs = -1, TreasuryError::InvalidVesting),
        ("cliff after the end of vesting", |a, _| a.vesting.cliff_secs = a.vesting.duration_secs + 1, TreasuryError::InvalidVesting),
        ("zero price", |a, _| a.crowdfund.price = 0, TreasuryError::ZeroPrice),
        ("zero soft cap", |a, _| a.crowdfund.soft_cap = 0, TreasuryError::ZeroSoftCap),
        ("soft cap above hard cap", |a, _| a.crowdfund.soft_cap = a.crowdfund.hard_cap + 1, TreasuryError::SoftCapAboveHardCap),
        ("liquidity bps above 100%", |a, _| a.crowdfund.liquidity_bps = 10_001, TreasuryError::InvalidBps),
        ("end before start", |a, _| a.crowdfund.end = a.crowdfund.start - 1, TreasuryError::EndBeforeStart),
        ("end equal to start", |a, _| a.crowdfund.end = a.crowdfund.start, TreasuryError::EndBeforeStart),
        ("window shorter than the minimum", |a, _| a.crowdfund.end = a.crowdfund.start + MIN_PERIOD - 1, TreasuryError::PeriodTooShort),
        ("ends too soon from now", |a, now| { a.crowdfund.start = now - 1_000; a.crowdfund.end = now + MIN_PERIOD - 1 }, TreasuryError::EndTooSoon),
        ("all-zero allowlist root", |a, _| a.crowdfund.allowlist_root = Some([0; 32]), TreasuryError::ZeroAllowlistRoot),
        ("hard cap buys nothing", |a, _| { a.crowdfund.price = 10 * NATIVE; a.crowdfund.hard_cap = 9; a.crowdfund.soft_cap = 1 }, TreasuryError::HardCapTooSmall),
        ("hard cap buys more than the sale allocation", |a, _| a.crowdfund.hard_cap += 2, TreasuryError::HardCapExceedsSale),
        ("zero per-wallet cap", |a, _| a.crowdfund.per_wallet_cap = 0, TreasuryError::WalletCapTooSmall),
        ("per-wallet cap buys nothing", |a, _| { a.crowdfund.price = 10 * NATIVE; a.crowdfund.per_wallet_cap = 9 }, TreasuryError::WalletCapTooSmall),
        ("quorum above 100%", |a, _| a.governance.quorum_bps = 10_001, TreasuryError::InvalidBps),
        ("threshold above 100%", |a, _| a.governance.threshold_bps = 10_001, TreasuryError::InvalidBps),
        ("zero quorum", |a, _| a.governance.quorum_bps = 0, TreasuryError::ZeroGovernanceBps),
        ("zero threshold", |a, _| a.governance.threshold_bps = 0, TreasuryError::ZeroGovernanceBps),
        ("voting period below the minimum", |a, _| a.governance.voting_period_secs = MIN_PERIOD - 1, TreasuryError::PeriodTooShort),
        ("hold-up below the minimum", |a, _| a.governance.hold_up_secs = 0, TreasuryError::PeriodTooShort),
        ("proposal threshold above supply", |a, _| a.governance.min_propose_mt = a.supply.hard_supply + 1, TreasuryError::ProposeThresholdAboveSupply),
        ("depositor share above 100%", |a, _| a.depositor_share_bps = 10_001, TreasuryError::InvalidBps),
        ("zero input price", |a, _| a.price.input_per_1k = 0, TreasuryError::ZeroPrice),
        ("zero output price", |a, _| a.price.output_per_1k = 0, TreasuryError::ZeroPrice),
        ("absurd output price", |a, _| a.price.output_per_1k = u64::MAX, TreasuryError::PriceTooHigh),
        // Issue 14 (1): one-sided liquidity left the pool's other side to
        // whatever someone sent to its vault.
        ("MT liquidity but no share of the raise", |a, _| a.crowdfund.liquidity_bps = 0, TreasuryError::OneSidedLiquidity),
        (
            "a share of the raise but no MT liquidity",
            |a, _| {
                a.supply.contributor_rewards += a.supply.liquidity;
                a.supply.liquidity = 0;
            },
            TreasuryError::OneSidedLiquidity,
        ),
        (
            "a share of the raise that rounds to nothing at the soft cap",
            |a, _| {
                a.crowdfund.liquidity_bps = 1;
                a.crowdfund.soft_cap = 2;
            },
            TreasuryError::LiquidityShareTooSmall,
        ),
        // Issue 14 (6): a sold-out raise that still fails. At 2 native base
        // units per MT base unit the raise sells out at hard cap − 1.
        ("soft cap equal to a hard cap the price cannot hit", |a, _| a.crowdfund.soft_cap = a.crowdfund.hard_cap, TreasuryError::SoftCapUnreachable),
        (
            "soft cap above the smallest sold-out raise at a coarse price",
            |a, _| {
                a.crowdfund.price = 7_500_000;
                a.crowdfund.hard_cap = 75_000 * NATIVE;
                a.crowdfund.soft_cap = 75_000 * NATIVE - 6; // sells out from 75 000 − 7
            },
            TreasuryError::SoftCapUnreachable,
        ),
    ];
    for (name, edit, err) in cases {
        let mut args = default_terms(now);
        edit(&mut args, now);
        let res = launch_result(&mut f, args);
        assert!(res.is_err(), "{name}: accepted");
        assert_error(&res, err);
    }
    assert_eq!(f.protocol().model_count, 0, "nothing launched");
}

#[test]
fn boundary_launch_parameters_are_accepted() {
    let mut f = Fixture::new();
    let now = f.now();
    let mut args = default_terms(now);
    // Window exactly the minimum, started in the past but still open for exactly the minimum.
    args.crowdfund.start = now - 10;
    args.crowdfund.end = now + MIN_PERIOD;
    // At 2 native base units per MT base unit the raise can sell out one
    // unit under the hard cap: that is the highest reachable soft cap.
    args.crowdfund.soft_cap = args.crowdfund.hard_cap - 1;
    args.crowdfund.liquidity_bps = 10_000;
    args.vesting = VestingTerms { cliff_secs: 0, duration_secs: 0 };
    args.governance.min_propose_mt = args.supply.hard_supply;
    args.price.output_per_1k = MAX_QUERY_PRICE_PER_1K;
    args.crowdfund.allowlist_root = Some([7; 32]);
    launch_result(&mut f, args).expect("boundary values are valid");
}

#[test]
fn launch_while_paused_is_rejected() {
    let mut f = Fixture::new();
    f.set_paused(true);
    let args = default_terms(f.now());
    assert_error(&launch_result(&mut f, args), TreasuryError::ProtocolPaused);
    f.set_paused(false);
    let args = default_terms(f.now());
    launch_result(&mut f, args).expect("launch after resuming");
}

#[test]
fn launch_with_a_look_alike_native_mint_is_rejected() {
    let mut f = Fixture::new();
    let creator = f.creator();
    let (fake, fake_ata) = look_alike_native(&mut f, &creator.pubkey(), SETUP_FEE);
    let mut accounts = f.launch_accounts(&creator.pubkey(), 0);
    accounts.native_mint = fake;
    accounts.fee_source = fake_ata;
    let res = f.h.execute(&[f.launch_ix(accounts, default_terms(f.now()))], &[&creator]);
    assert_error(&res, TreasuryError::WrongNativeMint); // [3]
}

#[test]
fn launch_paying_the_fee_into_another_account_is_rejected() {
    let mut f = Fixture::new();
    let creator = f.creator();
    let mut accounts = f.launch_accounts(&creator.pubkey(), 0);
    accounts.fee_vault = f.native_ata(&creator.pubkey()); // the fee would go back to the creator
    let res = f.h.execute(&[f.launch_ix(accounts, default_terms(f.now()))], &[&creator]);
    assert_error(&res, Anchor::ConstraintDuplicateMutableAccount); // [4]: also the source
    let mut accounts = f.launch_accounts(&creator.pubkey(), 0);
    let other = f.wallet(1);
    accounts.fee_vault = f.native_ata(&other.pubkey());
    let res = f.h.execute(&[f.launch_ix(accounts, default_terms(f.now()))], &[&creator]);
    assert_error(&res, Anchor::ConstraintHasOne); // [3]
}

#[test]
fn launch_paying_the_fee_from_someone_elses_account_fails() {
    let mut f = Fixture::new();
    let creator = f.h.funded(10);
    let victim = f.wallet(SETUP_FEE);
    let mut accounts = f.launch_accounts(&creator.pubkey(), 0);
    accounts.fee_source = f.native_ata(&victim.pubkey());
    let res = f.h.execute(&[f.launch_ix(accounts, default_terms(f.now()))], &[&creator]);
    assert_instruction_error(&res, InstructionError::Custom(4)); // SPL Token OwnerMismatch
    assert_eq!(f.h.token_balance(&f.native_ata(&victim.pubkey())), SETUP_FEE);
}

#[test]
fn launch_at_a_model_address_other_than_the_next_id_is_rejected() {
    let mut f = Fixture::new();
    let creator = f.creator();
    let mut accounts = f.launch_accounts(&creator.pubkey(), 0);
    accounts.model = model_pda(5);
    let res = f.h.execute(&[f.launch_ix(accounts, default_terms(f.now()))], &[&creator]);
    assert_error(&res, Anchor::ConstraintSeeds); // [3]
}

#[test]
fn launch_without_the_creator_signature_is_rejected() {
    let mut f = Fixture::new();
    let creator = f.creator();
    let payer = f.h.funded(1);
    let ix = without_signer(f.launch_ix(f.launch_accounts(&creator.pubkey(), 0), default_terms(f.now())), &creator.pubkey());
    assert_error(&f.h.execute(&[ix], &[&payer]), Anchor::AccountNotSigner); // [1]
}

#[test]
fn launch_with_a_substituted_token_program_is_rejected() {
    let mut f = Fixture::new();
    let creator = f.creator();
    let mut accounts = f.launch_accounts(&creator.pubkey(), 0);
    accounts.native_token_program = TOKEN_2022;
    let res = f.h.execute(&[f.launch_ix(accounts, default_terms(f.now()))], &[&creator]);
    // The fee source is an SPL Token account, not one of the program passed.
    assert_error(&res, Anchor::ConstraintTokenTokenProgram); // [6]
    let mut accounts = f.launch_accounts(&creator.pubkey(), 0);
    accounts.native_token_program = anchor_lang::system_program::ID;
    let res = f.h.execute(&[f.launch_ix(accounts, default_terms(f.now()))], &[&creator]);
    assert_error(&res, Anchor::InvalidProgramId); // [6]
}

// ---------------------------------------------------------------- create_model_token

fn launched_step1(f: &mut Fixture) -> (solana_keypair::Keypair, ModelKeys) {
    let creator = f.creator();
    let id = f.protocol().model_count;
    f.h.execute(&[f.launch_ix(f.launch_accounts(&creator.pubkey(), id), default_terms(f.now()))], &[&creator]).unwrap();
    (creator, ModelKeys::new(id))
}

#[test]
fn create_model_token_by_a_stranger_is_rejected() {
    let mut f = Fixture::new();
    let (_creator, keys) = launched_step1(&mut f);
    let stranger = f.h.funded(1);
    let ix = f.create_token_ix(f.create_token_accounts(&stranger.pubkey(), &keys), token_args());
    assert_error(&f.h.execute(&[ix], &[&stranger]), TreasuryError::NotCreator); // [1]
}

#[test]
fn invalid_token_metadata_is_rejected_by_name() {
    let mut f = Fixture::new();
    let (creator, keys) = launched_step1(&mut f);
    let cases = [
        (CreateModelTokenArgs { name: "".into(), ..token_args() }, TreasuryError::InvalidName),
        (CreateModelTokenArgs { name: "n".repeat(33), ..token_args() }, TreasuryError::InvalidName),
        (CreateModelTokenArgs { symbol: "".into(), ..token_args() }, TreasuryError::InvalidSymbol),
        (CreateModelTokenArgs { symbol: "S".repeat(11), ..token_args() }, TreasuryError::InvalidSymbol),
        (CreateModelTokenArgs { uri: "u".repeat(201), ..token_args() }, TreasuryError::UriTooLong),
    ];
    for (args, err) in cases {
        let ix = f.create_token_ix(f.create_token_accounts(&creator.pubkey(), &keys), args);
        assert_error(&f.h.execute(&[ix], &[&creator]), err);
    }
    // The longest allowed values fit.
    let args = CreateModelTokenArgs { name: "n".repeat(32), symbol: "S".repeat(10), uri: "u".repeat(200) };
    f.h.execute(&[f.create_token_ix(f.create_token_accounts(&creator.pubkey(), &keys), args)], &[&creator]).expect("max lengths");
}

#[test]
fn create_model_token_twice_is_rejected() {
    let mut f = Fixture::new();
    let (creator, keys) = launched_step1(&mut f);
    f.h.execute(&[f.create_token_ix(f.create_token_accounts(&creator.pubkey(), &keys), token_args())], &[&creator]).unwrap();
    let again = f.create_token_ix(f.create_token_accounts(&creator.pubkey(), &keys), token_args());
    // [7] init refuses an existing account: the system program's "already in use".
    assert_instruction_error(&f.h.execute(&[again], &[&creator]), InstructionError::Custom(0));
}

#[test]
fn create_model_token_at_another_address_or_program_is_rejected() {
    let mut f = Fixture::new();
    let (creator, keys) = launched_step1(&mut f);
    let mut accounts = f.create_token_accounts(&creator.pubkey(), &keys);
    accounts.mt_mint = mt_mint_pda(&model_pda(9));
    assert_error(&f.h.execute(&[f.create_token_ix(accounts, token_args())], &[&creator]), Anchor::ConstraintSeeds); // [3]
    let mut accounts = f.create_token_accounts(&creator.pubkey(), &keys);
    accounts.mt_token_program = TOKEN;
    assert_error(&f.h.execute(&[f.create_token_ix(accounts, token_args())], &[&creator]), Anchor::InvalidProgramId); // [6]
}

#[test]
fn create_model_token_while_paused_is_rejected() {
    let mut f = Fixture::new();
    let (creator, keys) = launched_step1(&mut f);
    f.set_paused(true);
    let ix = f.create_token_ix(f.create_token_accounts(&creator.pubkey(), &keys), token_args());
    assert_error(&f.h.execute(&[ix], &[&creator]), TreasuryError::ProtocolPaused);
}

// ---------------------------------------------------------------- open_model_vaults

fn launched_step2(f: &mut Fixture) -> (solana_keypair::Keypair, ModelKeys) {
    let (creator, keys) = launched_step1(f);
    f.h.execute(&[f.create_token_ix(f.create_token_accounts(&creator.pubkey(), &keys), token_args())], &[&creator]).unwrap();
    (creator, keys)
}

#[test]
fn open_model_vaults_before_the_token_exists_is_rejected() {
    let mut f = Fixture::new();
    let (creator, keys) = launched_step1(&mut f);
    // Some Token-2022 mint in place of the (not yet created) MT mint.
    let admin = f.admin.insecure_clone();
    let some_mint = f.h.create_mint(&admin, 6, TOKEN_2022);
    let mut accounts = f.open_vaults_accounts(&creator.pubkey(), &keys);
    accounts.mt_mint = some_mint;
    assert_error(&f.h.execute(&[f.open_vaults_ix(accounts)], &[&creator]), TreasuryError::WrongMtMint);
}

#[test]
fn open_model_vaults_by_a_stranger_is_rejected() {
    let mut f = Fixture::new();
    let (_creator, keys) = launched_step2(&mut f);
    let stranger = f.h.funded(1);
    let ix = f.open_vaults_ix(f.open_vaults_accounts(&stranger.pubkey(), &keys));
    assert_error(&f.h.execute(&[ix], &[&stranger]), TreasuryError::NotCreator); // [1]
}

#[test]
fn open_model_vaults_with_substituted_mints_or_vaults_is_rejected() {
    let mut f = Fixture::new();
    let (creator, keys) = launched_step2(&mut f);
    let admin = f.admin.insecure_clone();
    let some_mint = f.h.create_mint(&admin, 6, TOKEN_2022);

    let mut accounts = f.open_vaults_accounts(&creator.pubkey(), &keys);
    accounts.mt_mint = some_mint;
    assert_error(&f.h.execute(&[f.open_vaults_ix(accounts)], &[&creator]), TreasuryError::WrongMtMint); // [3]

    let (fake_native, _) = look_alike_native(&mut f, &creator.pubkey(), 0);
    let mut accounts = f.open_vaults_accounts(&creator.pubkey(), &keys);
    accounts.native_mint = fake_native;
    assert_error(&f.h.execute(&[f.open_vaults_ix(accounts)], &[&creator]), TreasuryError::WrongNativeMint); // [3]

    let mut accounts = f.open_vaults_accounts(&creator.pubkey(), &keys);
    accounts.treasury_vault = vault_pda(mt_treasury::state::seeds::TREASURY_VAULT, &model_pda(42));
    assert_error(&f.h.execute(&[f.open_vaults_ix(accounts)], &[&creator]), Anchor::ConstraintSeeds); // [3]

    let mut accounts = f.open_vaults_accounts(&creator.pubkey(), &keys);
    accounts.sale_vault = keys.rewards;
    // One address for two vaults: not the sale vault's derivation.
    assert_error(&f.h.execute(&[f.open_vaults_ix(accounts)], &[&creator]), Anchor::ConstraintSeeds); // [3][4]
}

#[test]
fn open_model_vaults_twice_is_rejected() {
    let mut f = Fixture::new();
    let (creator, keys) = launched_step2(&mut f);
    f.h.execute(&[f.open_vaults_ix(f.open_vaults_accounts(&creator.pubkey(), &keys))], &[&creator]).unwrap();
    assert_eq!(f.model(&keys).stage, Stage::Funding);
    let res = f.h.execute(&[f.open_vaults_ix(f.open_vaults_accounts(&creator.pubkey(), &keys))], &[&creator]);
    assert_instruction_error(&res, InstructionError::Custom(0)); // [7] already in use
}

#[test]
fn open_model_vaults_while_paused_is_rejected() {
    let mut f = Fixture::new();
    let (creator, keys) = launched_step2(&mut f);
    f.set_paused(true);
    let res = f.h.execute(&[f.open_vaults_ix(f.open_vaults_accounts(&creator.pubkey(), &keys))], &[&creator]);
    assert_error(&res, TreasuryError::ProtocolPaused);
}

#[test]
fn a_model_still_launching_takes_no_contributions() {
    let mut f = Fixture::new();
    let (_creator, keys) = launched_step2(&mut f);
    let now = f.now();
    f.h.warp_to(now + 200);
    let a = f.wallet(10 * NATIVE);
    // Its raise vault does not exist yet.
    assert_error(&f.contribute(&a, &keys, NATIVE), Anchor::AccountNotInitialized);
    let _ = MT_UNIT;
}
