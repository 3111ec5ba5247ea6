//! mt_treasury: the protocol is created once, by the program's upgrade
//! authority, with valid parameters and a native mint nobody can freeze.

use anchor_lang::error::ErrorCode as AnchorError;
use mt_treasury::errors::TreasuryError;
use mt_treasury::state::Protocol;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn init_protocol_ix(admin: &Pubkey, mint: &Pubkey, token_program: Pubkey, args: mt_treasury::InitProtocolArgs) -> Instruction {
    init_protocol_ix_with(admin, &program_data(&mt_treasury::ID), mint, token_program, args)
}

fn init_protocol_ix_with(
    admin: &Pubkey,
    program_data: &Pubkey,
    mint: &Pubkey,
    token_program: Pubkey,
    args: mt_treasury::InitProtocolArgs,
) -> Instruction {
    let program = mt_treasury::ID;
    Harness::ix(
        program,
        mt_treasury::accounts::InitProtocol {
            admin: *admin,
            program_data: *program_data,
            protocol: Pubkey::find_program_address(&[b"protocol"], &program).0,
            native_mint: *mint,
            fee_vault: Pubkey::find_program_address(&[b"fee_vault"], &program).0,
            token_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&program),
            program,
        },
        mt_treasury::instruction::InitProtocol { args },
    )
}

fn args() -> mt_treasury::InitProtocolArgs {
    mt_treasury::InitProtocolArgs {
        setup_fee: 1_000,
        protocol_fee_bps: 250,
        swap_fee_bps: 30,
        swap_protocol_share_bps: 5_000,
        min_period_secs: 1,
    }
}

fn setup() -> (Harness, Keypair, Pubkey) {
    let mut h = Harness::new();
    let admin = h.funded_upgrade_authority(10);
    let mint = h.create_mint(&admin, 6, TOKEN);
    (h, admin, mint)
}

#[test]
fn admin_creates_the_protocol_once() {
    let (mut h, admin, mint) = setup();
    h.execute(&[init_protocol_ix(&admin.pubkey(), &mint, TOKEN, args())], &[&admin]).expect("init_protocol");
    let protocol: Protocol = h.account(&Pubkey::find_program_address(&[b"protocol"], &mt_treasury::ID).0);
    assert_eq!(protocol.admin, admin.pubkey());
    assert_eq!(protocol.native_mint, mint);
    assert_eq!(protocol.setup_fee, 1_000);
    assert_eq!(protocol.model_count, 0);

    // A second init is refused: the account already exists (system program error 0).
    let again = h.execute(&[init_protocol_ix(&admin.pubkey(), &mint, TOKEN, args())], &[&admin]);
    assert_instruction_error(&again, InstructionError::Custom(0));
}

#[test]
fn bps_above_100_percent_is_rejected() {
    let (mut h, admin, mint) = setup();
    for field in 0..3 {
        let mut a = args();
        match field {
            0 => a.protocol_fee_bps = 10_001,
            1 => a.swap_fee_bps = 10_001,
            _ => a.swap_protocol_share_bps = u16::MAX,
        }
        let res = h.execute(&[init_protocol_ix(&admin.pubkey(), &mint, TOKEN, a)], &[&admin]);
        assert_error(&res, TreasuryError::InvalidBps);
    }
}

#[test]
fn non_positive_minimum_period_is_rejected() {
    let (mut h, admin, mint) = setup();
    let res = h.execute(&[init_protocol_ix(&admin.pubkey(), &mint, TOKEN, mt_treasury::InitProtocolArgs { min_period_secs: 0, ..args() })], &[&admin]);
    assert_error(&res, TreasuryError::PeriodTooShort);
}

#[test]
fn token_program_that_does_not_own_the_mint_is_rejected() {
    let (mut h, admin, mint) = setup();
    // The fee vault's creation through Token-2022 refuses an SPL Token mint
    // before Anchor reaches the mint::token_program constraint.
    let res = h.execute(&[init_protocol_ix(&admin.pubkey(), &mint, TOKEN_2022, args())], &[&admin]);
    assert_instruction_error(&res, InstructionError::IncorrectProgramId);
}

#[test]
fn a_program_that_is_not_a_token_program_is_rejected() {
    let (mut h, admin, mint) = setup();
    let res = h.execute(&[init_protocol_ix(&admin.pubkey(), &mint, anchor_lang::system_program::ID, args())], &[&admin]);
    assert_error(&res, AnchorError::InvalidProgramId);
}

/// A plain SPL Token mint whose freeze authority is `freezer`.
fn mint_with_freeze_authority(h: &mut Harness, authority: &Keypair, freezer: &Pubkey) -> Pubkey {
    let mint = Keypair::new();
    let rent = h.chain.minimum_balance_for_rent_exemption(82);
    let ixs = [
        solana_system_interface::instruction::create_account(&authority.pubkey(), &mint.pubkey(), rent, 82, &TOKEN),
        anchor_spl::token_2022::spl_token_2022::instruction::initialize_mint2(&TOKEN, &mint.pubkey(), &authority.pubkey(), Some(freezer), 6)
            .unwrap(),
    ];
    h.execute(&ixs, &[authority, &mint]).expect("create mint");
    mint.pubkey()
}

#[test]
fn init_protocol_by_anyone_but_the_upgrade_authority_is_rejected() {
    // The audit's attack: the first caller became admin and chose the native
    // mint. Now a stranger with their own mint is refused, and the upgrade
    // authority can still create the protocol afterwards.
    let (mut h, authority, mint) = setup();
    let stranger = h.funded(10);
    let their_mint = h.create_mint(&stranger, 6, TOKEN);
    let res = h.execute(&[init_protocol_ix(&stranger.pubkey(), &their_mint, TOKEN, args())], &[&stranger]);
    assert_error(&res, TreasuryError::NotUpgradeAuthority);
    h.execute(&[init_protocol_ix(&authority.pubkey(), &mint, TOKEN, args())], &[&authority]).expect("init by the upgrade authority");
    let protocol: Protocol = h.account(&Pubkey::find_program_address(&[b"protocol"], &mt_treasury::ID).0);
    assert_eq!(protocol.admin, authority.pubkey());
}

#[test]
fn init_protocol_with_a_substituted_program_data_is_rejected() {
    // Another program's ProgramData (here the meter's, same authority on the
    // local chain) or any other account is not the mt_treasury's.
    let (mut h, authority, mint) = setup();
    let meter_data = program_data(&inference_meter::ID);
    let res = h.execute(&[init_protocol_ix_with(&authority.pubkey(), &meter_data, &mint, TOKEN, args())], &[&authority]);
    assert_error(&res, AnchorError::ConstraintSeeds);
    let res = h.execute(&[init_protocol_ix_with(&authority.pubkey(), &authority.pubkey(), &mint, TOKEN, args())], &[&authority]);
    assert!(res.is_err(), "a wallet is not a ProgramData account");
}

#[test]
fn the_local_chain_records_the_development_upgrade_authority_in_program_data() {
    let h = Harness::new();
    let data = h.chain.account(&program_data(&mt_treasury::ID)).expect("ProgramData exists");
    assert_eq!(data.owner, anchor_lang::solana_program::bpf_loader_upgradeable::ID);
    let state: anchor_lang::prelude::ProgramData =
        anchor_lang::AccountDeserialize::try_deserialize(&mut data.data.as_slice()).expect("ProgramData state");
    assert_eq!(state.upgrade_authority_address, Some(upgrade_authority().pubkey()));
}

#[test]
fn a_native_mint_with_a_freeze_authority_is_rejected() {
    // Its issuer could freeze the fee vault and every model's vaults.
    let (mut h, authority, _) = setup();
    let issuer = h.funded(1);
    let frozen = mint_with_freeze_authority(&mut h, &authority, &issuer.pubkey());
    let res = h.execute(&[init_protocol_ix(&authority.pubkey(), &frozen, TOKEN, args())], &[&authority]);
    assert_error(&res, TreasuryError::NativeMintHasFreezeAuthority);
}
