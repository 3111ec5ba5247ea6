//! mt_treasury: the protocol is created once, by its admin, with valid parameters.

use anchor_lang::error::ErrorCode as AnchorError;
use mt_treasury::errors::TreasuryError;
use mt_treasury::state::Protocol;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn init_protocol_ix(admin: &Pubkey, mint: &Pubkey, token_program: Pubkey, args: mt_treasury::InitProtocolArgs) -> Instruction {
    let program = mt_treasury::ID;
    Harness::ix(
        program,
        mt_treasury::accounts::InitProtocol {
            admin: *admin,
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
    let admin = h.funded(10);
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
