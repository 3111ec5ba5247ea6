//! mt_treasury stages 1 and 2 end to end: launch, crowdfund, finalise, claim
//! or refund, vesting — every balance checked to the base unit.

mod treasury_common;

use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, StateWithExtensions};
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
use anchor_spl::token_2022_extensions::spl_token_metadata_interface::state::TokenMetadata;
use mt_treasury::errors::TreasuryError;
use mt_treasury::events::*;
use mt_treasury::state::{Stage, MT_DECIMALS, MT_UNIT};
use program_tests::*;
use solana_account::ReadableAccount;
use solana_signer::Signer;
use treasury_common::*;

#[test]
fn launch_charges_the_fee_and_creates_a_token_2022_mint_with_metadata() {
    let mut f = Fixture::new();
    let creator = f.creator();
    let args = default_terms(f.now());
    let creator_native = f.native_ata(&creator.pubkey());
    let before = f.h.token_balance(&creator_native);

    let keys = ModelKeys::new(0);
    let res = f.h.execute(&[f.launch_ix(f.launch_accounts(&creator.pubkey(), 0), args.clone())], &[&creator]).expect("launch_model");
    let launched: ModelLaunched = event(&res);
    assert_eq!((launched.model, launched.id, launched.creator, launched.setup_fee_paid), (keys.model, 0, creator.pubkey(), SETUP_FEE));
    assert_eq!(launched.hard_cap, args.crowdfund.hard_cap);
    assert_eq!(f.h.token_balance(&creator_native), before - SETUP_FEE);
    assert_eq!(f.h.token_balance(&fee_vault_pda()), SETUP_FEE);
    assert_eq!(f.protocol().model_count, 1);
    let model = f.model(&keys);
    assert_eq!(model.stage, Stage::Launching);
    assert_eq!(model.supply, args.supply);
    assert_eq!(model.governance, args.governance);
    assert_eq!(model.revenue.depositor_share_bps, 7_000);
    assert_eq!(model.pricing.at(0), (10, 30));
    assert_eq!(model.pricing.at(i64::MAX), (10, 30));

    let res = f.h.execute(&[f.create_token_ix(f.create_token_accounts(&creator.pubkey(), &keys), token_args())], &[&creator]).expect("create_model_token");
    let created: ModelTokenCreated = event(&res);
    assert_eq!((created.mt_mint, created.symbol.as_str(), created.decimals), (keys.mt_mint, "TLC", MT_DECIMALS));
    assert_eq!(f.model(&keys).mt_mint, keys.mt_mint);

    // The mint: Token-2022, 6 decimals, model PDA as mint authority, no freeze
    // authority, metadata on the mint itself.
    let mint = f.h.chain.account(&keys.mt_mint).unwrap();
    assert_eq!(mint.owner(), &TOKEN_2022);
    let state = StateWithExtensions::<MintState>::unpack(mint.data()).unwrap();
    assert_eq!(state.base.decimals, MT_DECIMALS);
    assert_eq!(state.base.supply, 0);
    assert_eq!(mint_authority(&f.h, &keys.mt_mint), Some(keys.model));
    assert!(state.base.freeze_authority.is_none());
    let metadata = state.get_variable_len_extension::<TokenMetadata>().unwrap();
    assert_eq!((metadata.name.as_str(), metadata.symbol.as_str(), metadata.uri.as_str()), ("Tiny Llama Commons", "TLC", "https://example.org/tlc.json"));
    assert_eq!(metadata.mint, keys.mt_mint);
    assert_eq!(Option::<Pubkey>::from(metadata.update_authority), Some(keys.model));
    // The rent for the grown mint came from the creator.
    assert!(f.h.lamports(&keys.mt_mint) >= f.h.chain.minimum_balance_for_rent_exemption(mint.data().len()));

    f.h.execute(&[f.open_vaults_ix(f.open_vaults_accounts(&creator.pubkey(), &keys))], &[&creator]).expect("open_model_vaults");
    let model = f.model(&keys);
    assert_eq!(model.stage, Stage::Funding);
    for vault in [keys.raise, keys.treasury, keys.revenue, keys.liquidity_native] {
        assert_eq!(f.h.chain.account(&vault).unwrap().owner(), &TOKEN, "native vaults use the native mint's program");
    }
    for vault in [keys.sale, keys.creator_vault, keys.liquidity, keys.rewards] {
        assert_eq!(f.h.chain.account(&vault).unwrap().owner(), &TOKEN_2022);
        assert_eq!(f.h.token_balance(&vault), 0);
    }
}

/// Sold out before the deadline: finalised early, every balance exact.
#[test]
fn sold_out_raise_finalises_early_and_everyone_gets_exactly_their_share() {
    let mut f = Fixture::new();
    let (creator, keys, _) = f.launch();
    f.warp_to_start(&keys);

    let a = f.wallet(30_000 * NATIVE);
    let b = f.wallet(5 * NATIVE);
    let c = f.wallet(30_000 * NATIVE);
    let d = f.wallet(30_000 * NATIVE);
    let e = f.wallet(20_000 * NATIVE);

    f.contribute(&a, &keys, 30_000 * NATIVE).expect("a");
    // 1.000001 native buys 0.5 MT (500 000.5 base units, rounded down) and costs 1 native (rounded up).
    let res = f.contribute(&b, &keys, NATIVE + 1).expect("b");
    let ev: Contributed = event(&res);
    assert_eq!((ev.paid, ev.mt, ev.offered), (NATIVE, MT_UNIT / 2, NATIVE + 1));
    f.contribute(&c, &keys, 30_000 * NATIVE).expect("c");
    f.contribute(&d, &keys, 30_000 * NATIVE).expect("d");
    assert_eq!(f.model(&keys).crowdfund.raised, 90_001 * NATIVE);

    // e offers 20 000 but only 9 999 native remain under the hard cap: partial fill, pays 9 999.
    let res = f.contribute(&e, &keys, 20_000 * NATIVE).expect("e");
    let ev: Contributed = event(&res);
    assert_eq!((ev.paid, ev.mt), (9_999 * NATIVE, 4_999 * MT_UNIT + MT_UNIT / 2));
    assert_eq!((ev.raised, ev.sold, ev.contributors, ev.sold_out), (100_000 * NATIVE, 50_000 * MT_UNIT, 5, true));
    assert_eq!(f.h.token_balance(&f.native_ata(&e.pubkey())), 10_001 * NATIVE);
    assert_eq!(f.h.token_balance(&keys.raise), 100_000 * NATIVE);

    // Nothing is left: one more contribution is refused.
    let late = f.wallet(10 * NATIVE);
    assert_error(&f.contribute(&late, &keys, 10 * NATIVE), TreasuryError::HardCapReached);

    // Sold out, so finalisation is due before the deadline; anyone may call it.
    let anyone = f.h.funded(1);
    let res = f.finalize(&anyone, &keys).expect("finalize");
    let fin: RaiseFinalized = event(&res);
    let fee = 2_500 * NATIVE; // 2.5% of 100 000
    let liquidity = 19_500 * NATIVE; // 20% of the remaining 97 500
    let treasury = 78_000 * NATIVE;
    assert_eq!(fin.stage, Stage::Active);
    assert_eq!((fin.protocol_fee, fin.to_liquidity, fin.to_treasury), (fee, liquidity, treasury));
    assert_eq!((fin.mt_sale, fin.mt_creator, fin.mt_liquidity, fin.mt_rewards), (50_000 * MT_UNIT, 20_000 * MT_UNIT, 20_000 * MT_UNIT, 10_000 * MT_UNIT));
    assert_eq!(fin.mt_supply, 100_000 * MT_UNIT);

    assert_eq!(f.h.token_balance(&keys.raise), 0);
    assert_eq!(f.h.token_balance(&fee_vault_pda()), SETUP_FEE + fee);
    assert_eq!(f.h.token_balance(&keys.liquidity_native), liquidity);
    assert_eq!(f.h.token_balance(&keys.treasury), treasury);
    assert_eq!(f.h.token_balance(&keys.revenue), 0);
    assert_eq!(f.h.token_balance(&keys.sale), 50_000 * MT_UNIT);
    assert_eq!(f.h.token_balance(&keys.creator_vault), 20_000 * MT_UNIT);
    assert_eq!(f.h.token_balance(&keys.liquidity), 20_000 * MT_UNIT);
    assert_eq!(f.h.token_balance(&keys.rewards), 10_000 * MT_UNIT);
    assert_eq!(f.h.mint_supply(&keys.mt_mint), 100_000 * MT_UNIT);
    assert_eq!(mint_authority(&f.h, &keys.mt_mint), None, "supply is fixed");
    let model = f.model(&keys);
    assert_eq!(model.stage, Stage::Active);
    assert_eq!(model.crowdfund.liquidity_native, liquidity);
    assert_eq!(model.crowdfund.protocol_fee, fee);
    assert_eq!(model.vesting.start, f.now());

    // Every contributor claims exactly what they bought.
    let expected = [(&a, 15_000 * MT_UNIT), (&b, MT_UNIT / 2), (&c, 15_000 * MT_UNIT), (&d, 15_000 * MT_UNIT), (&e, 4_999 * MT_UNIT + MT_UNIT / 2)];
    for (who, mt) in expected {
        let res = f.claim_mt(who, &keys).expect("claim_mt");
        let ev: MtClaimed = event(&res);
        assert_eq!((ev.contributor, ev.mt), (who.pubkey(), mt));
        let ata = associated_token_address(&who.pubkey(), &keys.mt_mint, &TOKEN_2022);
        assert_eq!(f.h.token_balance(&ata), mt);
        assert!(f.contribution(&keys, &who.pubkey()).claimed);
    }
    assert_eq!(f.h.token_balance(&keys.sale), 0, "the sale vault held exactly what was sold");
    let _ = creator;
}

/// Soft cap met at the deadline, hard cap not: unsold sale MT joins the rewards pool.
#[test]
fn raise_meeting_the_soft_cap_at_the_deadline_succeeds_and_unsold_mt_goes_to_rewards() {
    let mut f = Fixture::new();
    let (_creator, keys, _) = f.launch();
    f.warp_to_start(&keys);
    let a = f.wallet(30_000 * NATIVE);
    let b = f.wallet(30_000 * NATIVE);
    f.contribute(&a, &keys, 25_000 * NATIVE).unwrap();
    f.contribute(&b, &keys, 15_000 * NATIVE).unwrap();
    // Exactly the soft cap (40 000), one second before the end: not due yet.
    let end = f.model(&keys).crowdfund.end;
    f.h.warp_to(end - 1);
    assert_error(&f.finalize(&a, &keys), TreasuryError::RaiseNotOver);
    f.h.warp_to(end);
    let fin: RaiseFinalized = event(&f.finalize(&a, &keys).unwrap());
    assert_eq!(fin.stage, Stage::Active);
    assert_eq!(fin.sold, 20_000 * MT_UNIT);
    assert_eq!(fin.mt_sale, 20_000 * MT_UNIT);
    assert_eq!(fin.mt_rewards, (10_000 + 30_000) * MT_UNIT, "rewards pool + 30 000 unsold");
    assert_eq!(f.h.mint_supply(&keys.mt_mint), 100_000 * MT_UNIT);
    // 2.5% of 40 000 = 1 000; 20% of 39 000 = 7 800; 31 200 to the treasury.
    assert_eq!(f.h.token_balance(&fee_vault_pda()), SETUP_FEE + 1_000 * NATIVE);
    assert_eq!(f.h.token_balance(&keys.liquidity_native), 7_800 * NATIVE);
    assert_eq!(f.h.token_balance(&keys.treasury), 31_200 * NATIVE);
}

#[test]
fn failed_raise_refunds_every_contributor_exactly_and_mints_nothing() {
    let mut f = Fixture::new();
    let (_creator, keys, _) = f.launch();
    f.warp_to_start(&keys);
    let a = f.wallet(30_000 * NATIVE);
    let b = f.wallet(30_000 * NATIVE);
    f.contribute(&a, &keys, 10_000 * NATIVE).unwrap();
    f.contribute(&b, &keys, 3 * NATIVE + 3).unwrap(); // pays 3 000 003 - 1 for rounding
    f.contribute(&a, &keys, 5_000 * NATIVE).unwrap();
    let paid_a = 15_000 * NATIVE;
    let paid_b = f.contribution(&keys, &b.pubkey()).paid;
    assert_eq!(paid_b, 3 * NATIVE + 2, "1.5000015 MT rounded down costs 3.000003 native rounded up");
    assert_eq!(f.h.token_balance(&keys.raise), paid_a + paid_b);

    f.warp_to_end(&keys);
    let fin: RaiseFinalized = event(&f.finalize(&a, &keys).unwrap());
    assert_eq!(fin.stage, Stage::Failed);
    assert_eq!((fin.protocol_fee, fin.to_treasury, fin.mt_supply), (0, 0, 0));
    assert_eq!(f.model(&keys).stage, Stage::Failed);
    assert_eq!(f.h.mint_supply(&keys.mt_mint), 0);
    assert_eq!(mint_authority(&f.h, &keys.mt_mint), None, "no MT can ever be minted");
    assert_eq!(f.h.token_balance(&fee_vault_pda()), SETUP_FEE, "no fee on a failed raise");

    let ev: Refunded = event(&f.refund(&a, &keys).unwrap());
    assert_eq!(ev.amount, paid_a);
    let ev: Refunded = event(&f.refund(&b, &keys).unwrap());
    assert_eq!(ev.amount, paid_b);
    assert_eq!(f.h.token_balance(&f.native_ata(&a.pubkey())), 30_000 * NATIVE);
    assert_eq!(f.h.token_balance(&f.native_ata(&b.pubkey())), 30_000 * NATIVE);
    assert_eq!(f.h.token_balance(&keys.raise), 0);
    assert!(f.contribution(&keys, &a.pubkey()).refunded);
}

#[test]
fn creator_claims_only_what_has_vested() {
    let mut f = Fixture::new();
    let (creator, keys, _) = f.launch();
    f.warp_to_start(&keys);
    let a = f.wallet(30_000 * NATIVE);
    let b = f.wallet(30_000 * NATIVE);
    f.contribute(&a, &keys, 30_000 * NATIVE).unwrap();
    f.contribute(&b, &keys, 30_000 * NATIVE).unwrap();
    f.warp_to_end(&keys);
    f.finalize(&a, &keys).unwrap();
    let start = f.model(&keys).vesting.start;
    let dest = f.mt_ata(&creator, &creator.pubkey(), &keys);

    // Nothing before the cliff (start + 100), not even one second before it.
    assert_error(&f.claim_vested(&creator, &keys), TreasuryError::NothingVested);
    f.h.warp_to(start + 99);
    assert_error(&f.claim_vested(&creator, &keys), TreasuryError::NothingVested);
    // At the cliff: 100/1000 of 20 000 MT.
    f.h.warp_to(start + 100);
    let ev: VestedClaimed = event(&f.claim_vested(&creator, &keys).unwrap());
    assert_eq!((ev.amount, ev.claimed_total, ev.allocation), (2_000 * MT_UNIT, 2_000 * MT_UNIT, 20_000 * MT_UNIT));
    // Twice in the same second: nothing new.
    assert_error(&f.claim_vested(&creator, &keys), TreasuryError::NothingVested);
    // Linear: at 333 s, 20 000 × 333 / 1 000 = 6 660 MT vested in total.
    f.h.warp_to(start + 333);
    let ev: VestedClaimed = event(&f.claim_vested(&creator, &keys).unwrap());
    assert_eq!(ev.amount, 4_660 * MT_UNIT);
    // After the end of vesting: the rest, exactly.
    f.h.warp_to(start + 5_000);
    let ev: VestedClaimed = event(&f.claim_vested(&creator, &keys).unwrap());
    assert_eq!(ev.amount, 13_340 * MT_UNIT);
    assert_eq!(f.h.token_balance(&dest), 20_000 * MT_UNIT);
    assert_eq!(f.h.token_balance(&keys.creator_vault), 0);
    assert_error(&f.claim_vested(&creator, &keys), TreasuryError::NothingVested);
}

#[test]
fn a_token_2022_native_mint_works_the_same() {
    let mut f = Fixture::with_native_program(TOKEN_2022);
    let (_creator, keys, _) = f.launch();
    assert_eq!(f.h.chain.account(&keys.raise).unwrap().owner(), &TOKEN_2022);
    f.warp_to_start(&keys);
    let a = f.wallet(60_000 * NATIVE);
    let b = f.wallet(60_000 * NATIVE);
    f.contribute(&a, &keys, 30_000 * NATIVE).unwrap();
    f.contribute(&b, &keys, 20_000 * NATIVE).unwrap();
    f.warp_to_end(&keys);
    f.finalize(&a, &keys).unwrap();
    assert_eq!(f.model(&keys).stage, Stage::Active);
    f.claim_mt(&a, &keys).unwrap();
    assert_eq!(f.h.token_balance(&associated_token_address(&a.pubkey(), &keys.mt_mint, &TOKEN_2022)), 15_000 * MT_UNIT);
    assert_eq!(f.h.token_balance(&fee_vault_pda()), SETUP_FEE + 1_250 * NATIVE);
}

#[test]
fn models_are_numbered_and_independent() {
    let mut f = Fixture::new();
    let (_c1, first, _) = f.launch();
    let (_c2, second, _) = f.launch();
    assert_eq!((first.id, second.id), (0, 1));
    assert_eq!(f.protocol().model_count, 2);
    assert_ne!(first.mt_mint, second.mt_mint);
    assert_eq!(f.h.token_balance(&fee_vault_pda()), 2 * SETUP_FEE);
}

#[test]
fn paused_protocol_still_lets_raises_finalise_and_pay_out() {
    let mut f = Fixture::new();
    let (creator, ok, _) = f.launch();
    let (_other, bad, _) = f.launch();
    f.warp_to_start(&ok);
    let a = f.wallet(60_000 * NATIVE);
    f.contribute(&a, &ok, 30_000 * NATIVE).unwrap();
    let b = f.wallet(60_000 * NATIVE);
    f.contribute(&b, &ok, 30_000 * NATIVE).unwrap();
    f.contribute(&a, &bad, 1_000 * NATIVE).unwrap();
    f.set_paused(true);
    f.warp_to_end(&ok);
    f.finalize(&a, &ok).expect("finalise while paused");
    f.finalize(&a, &bad).expect("finalise while paused");
    f.claim_mt(&a, &ok).expect("claim while paused");
    f.refund(&a, &bad).expect("refund while paused");
    f.h.warp_to(f.now() + 10_000);
    f.claim_vested(&creator, &ok).expect("vesting claim while paused");
}

/// Stage 3's entry point works on what stages 1–2 build: the revenue and
/// treasury vaults opened at launch, the model active after its raise.
#[test]
fn revenue_can_be_deposited_once_the_model_is_active() {
    let mut f = Fixture::new();
    let (_creator, keys, _) = f.launch();
    let sponsor = f.wallet(1_000 * NATIVE);
    let deposit = |f: &Fixture, amount: u64| {
        Harness::ix(
            PROGRAM,
            mt_treasury::accounts::DepositRevenue {
                payer: sponsor.pubkey(),
                protocol: protocol_pda(),
                model: keys.model,
                source: f.native_ata(&sponsor.pubkey()),
                revenue_vault: keys.revenue,
                treasury_vault: keys.treasury,
                native_mint: f.native_mint,
                token_program: f.native_program,
                event_authority: event_authority(&PROGRAM),
                program: PROGRAM,
            },
            mt_treasury::instruction::DepositRevenue { amount },
        )
    };
    let ix = deposit(&f, 10 * NATIVE);
    assert_error(&f.h.execute(&[ix], &[&sponsor]), TreasuryError::ModelNotActive);

    f.warp_to_start(&keys);
    let a = f.wallet(60_000 * NATIVE);
    f.contribute(&a, &keys, 30_000 * NATIVE).unwrap();
    let b = f.wallet(60_000 * NATIVE);
    f.contribute(&b, &keys, 30_000 * NATIVE).unwrap();
    f.warp_to_end(&keys);
    f.finalize(&a, &keys).unwrap();
    let treasury_before = f.h.token_balance(&keys.treasury);
    let ix = deposit(&f, 10 * NATIVE);
    let ev: RevenueDeposited = event(&f.h.execute(&[ix], &[&sponsor]).unwrap());
    // Nothing deposited by voters yet: all of it goes to the treasury.
    assert_eq!((ev.to_depositors, ev.to_treasury), (0, 10 * NATIVE));
    assert_eq!(f.h.token_balance(&keys.treasury), treasury_before + 10 * NATIVE);
}

/// The protocol fee on a raise is the one in force at launch: the admin
/// cannot change the terms contributors bought under.
#[test]
fn protocol_fee_is_fixed_at_launch() {
    let mut f = Fixture::new();
    let (_creator, keys, _) = f.launch();
    assert_eq!(f.model(&keys).crowdfund.protocol_fee_bps, PROTOCOL_FEE_BPS);
    let admin = f.admin.insecure_clone();
    let ix = f.update_protocol_ix(&admin.pubkey(), mt_treasury::instructions::UpdateProtocolArgs { protocol_fee_bps: Some(9_000), ..Default::default() });
    f.h.execute(&[ix], &[&admin]).unwrap();
    f.warp_to_start(&keys);
    let a = f.wallet(60_000 * NATIVE);
    let b = f.wallet(60_000 * NATIVE);
    f.contribute(&a, &keys, 30_000 * NATIVE).unwrap();
    f.contribute(&b, &keys, 10_000 * NATIVE).unwrap();
    f.warp_to_end(&keys);
    let fin: RaiseFinalized = event(&f.finalize(&a, &keys).unwrap());
    assert_eq!(fin.protocol_fee, 1_000 * NATIVE, "2.5% of 40 000, not 90%");
    // A model launched after the change carries the new fee.
    let (_c, later, _) = f.launch();
    assert_eq!(f.model(&later).crowdfund.protocol_fee_bps, 9_000);
    // At 100 % the market's share of any raise would be nothing: refused.
    let ix = f.update_protocol_ix(&admin.pubkey(), mt_treasury::instructions::UpdateProtocolArgs { protocol_fee_bps: Some(10_000), ..Default::default() });
    f.h.execute(&[ix], &[&admin]).unwrap();
    let creator = f.creator();
    let args = default_terms(f.now());
    let ix = f.launch_ix(f.launch_accounts(&creator.pubkey(), 2), args);
    assert_error(&f.h.execute(&[ix], &[&creator]), mt_treasury::errors::TreasuryError::LiquidityShareTooSmall);
}
