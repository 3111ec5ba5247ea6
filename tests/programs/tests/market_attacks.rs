//! mt_treasury stage 3 adversarial matrix, market instructions: open_market
//! and swap. Each case asserts the named error (SECURITY.md classes in brackets).

mod treasury_common;

use anchor_lang::error::ErrorCode as Anchor;
use mt_treasury::errors::TreasuryError;
use mt_treasury::state::{SwapSide, MT_UNIT};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

const MT: u64 = MT_UNIT;

/// The standard model with its market open, and a second active model with its market open.
fn world() -> (Active, ModelKeys, Keypair) {
    let mut d = Active::standard();
    let opener = d.holders[2].insecure_clone();
    d.open_market(&opener).unwrap();
    let (_creator, other, _) = d.f.launch();
    d.f.warp_to_start(&other);
    let w = d.f.wallet(60_000 * NATIVE);
    let w2 = d.f.wallet(60_000 * NATIVE);
    d.f.contribute(&w, &other, 30_000 * NATIVE).unwrap();
    d.f.contribute(&w2, &other, 30_000 * NATIVE).unwrap();
    d.f.warp_to_end(&other);
    d.f.finalize(&w, &other).unwrap();
    let mut accounts = d.open_market_accounts();
    accounts.model = other.model;
    let ix = d.open_market_ix(accounts);
    d.exec(ix, &[&w]).unwrap();
    let trader = d.trader(10_000 * NATIVE);
    (d, other, trader)
}

#[test]
fn open_market_attacks() {
    let mut d = Active::standard();
    let anyone = d.f.wallet(0);
    let (_c, other, _) = d.f.launch();
    // [3] Another model's vaults as the pool's reserves: open_market takes
    // no vault at all (the reserves are recorded amounts); a model still
    // funding cannot be opened.
    let mut accounts = d.open_market_accounts();
    accounts.model = other.model;
    assert_error(&d.exec(d.open_market_ix(accounts), &[&anyone]), TreasuryError::ModelNotActive);
    // [2] Another type as the model or the protocol.
    let mut accounts = d.open_market_accounts();
    accounts.model = protocol_pda();
    assert_error(&d.exec(d.open_market_ix(accounts), &[&anyone]), Anchor::AccountDiscriminatorMismatch);
    let mut accounts = d.open_market_accounts();
    accounts.protocol = d.keys.model;
    assert_error(&d.exec(d.open_market_ix(accounts), &[&anyone]), Anchor::AccountDiscriminatorMismatch);
    // Paused.
    d.f.set_paused(true);
    assert_error(&d.open_market(&anyone), TreasuryError::ProtocolPaused);
    d.f.set_paused(false);
    // [7] Replay, also inside one transaction.
    let ix = d.open_market_ix(d.open_market_accounts());
    assert_error(&d.f.h.execute(&[ix.clone(), ix.clone()], &[&anyone]), TreasuryError::MarketAlreadyOpen);
    d.exec(ix.clone(), &[&anyone]).unwrap();
    assert_error(&d.exec(ix, &[&anyone]), TreasuryError::MarketAlreadyOpen);
}

#[test]
fn swap_attacks() {
    let (mut d, other, trader) = world();
    let victim = d.holders[0].insecure_clone();
    let buy = |d: &Active, accounts| d.swap_ix(accounts, SwapSide::Buy, 10 * NATIVE, 0);
    let sell = |d: &Active, accounts| d.swap_ix(accounts, SwapSide::Sell, 10 * MT, 0);

    // [1] Paying with the victim's tokens; the trader not signing.
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.trader_native = d.native_ata(&victim.pubkey());
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), Anchor::ConstraintTokenOwner);
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.trader_mt = d.mt_ata(&victim.pubkey());
    assert_error(&d.exec(sell(&d, accounts), &[&trader]), Anchor::ConstraintTokenOwner);
    let ix = without_signer(sell(&d, d.swap_accounts(&victim.pubkey())), &victim.pubkey());
    assert_error(&d.exec(ix, &[&trader]), Anchor::AccountNotSigner);
    // [3] Another model's pool, revenue and treasury vaults; the fee vault.
    let subs: [(fn(&mut mt_treasury::accounts::Swap, &ModelKeys), Anchor); 5] = [
        (|a, o| a.liquidity_vault = o.liquidity, Anchor::ConstraintSeeds),
        (|a, o| a.liquidity_native_vault = o.liquidity_native, Anchor::ConstraintSeeds),
        (|a, o| a.revenue_vault = o.revenue, Anchor::ConstraintSeeds),
        (|a, o| a.treasury_vault = o.treasury, Anchor::ConstraintSeeds),
        (|a, o| a.fee_vault = o.treasury, Anchor::ConstraintHasOne),
    ];
    for (change, error) in subs {
        let mut accounts = d.swap_accounts(&trader.pubkey());
        change(&mut accounts, &other);
        assert_error(&d.exec(buy(&d, accounts), &[&trader]), error);
    }
    // [3] The other model with this model's MT and vaults.
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.model = other.model;
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), TreasuryError::WrongMtMint);
    let (fake, fake_ata) = look_alike_native(&mut d.f, &trader.pubkey(), 10 * NATIVE);
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.native_mint = fake;
    accounts.trader_native = fake_ata;
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), TreasuryError::WrongNativeMint);
    // [4] The same vault twice.
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.revenue_vault = d.keys.treasury;
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), Anchor::ConstraintDuplicateMutableAccount);
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.liquidity_native_vault = d.keys.revenue;
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), Anchor::ConstraintDuplicateMutableAccount);
    // [6] Token programs.
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.mt_token_program = TOKEN;
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), Anchor::InvalidProgramId);
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.native_token_program = TOKEN_2022;
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), Anchor::ConstraintTokenTokenProgram);
    // [2] Another type as the model; the protocol.
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.model = voter_pda(&d.keys.model, &trader.pubkey());
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), Anchor::AccountNotInitialized);
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.model = protocol_pda();
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), Anchor::AccountDiscriminatorMismatch);
    let mut accounts = d.swap_accounts(&trader.pubkey());
    accounts.protocol = d.keys.model;
    assert_error(&d.exec(buy(&d, accounts), &[&trader]), Anchor::AccountDiscriminatorMismatch);
    // [7] A replayed swap trades at the moved price: its own bound stops it.
    let m = d.model().market;
    let quote = m.quote(SwapSide::Buy, 100 * NATIVE, 30, 5_000).unwrap();
    let ix = d.swap_ix(d.swap_accounts(&trader.pubkey()), SwapSide::Buy, 100 * NATIVE, quote.amount_out);
    assert_error(&d.f.h.execute(&[ix.clone(), ix.clone()], &[&trader]), TreasuryError::SlippageExceeded);
    d.exec(ix.clone(), &[&trader]).unwrap();
    assert_error(&d.exec(ix, &[&trader]), TreasuryError::SlippageExceeded);
    // [9] More than the trader holds: the token program refuses.
    let res = d.swap(&trader, SwapSide::Buy, 1_000_000 * NATIVE, 0);
    assert_instruction_error(&res, InstructionError::Custom(1)); // SPL TokenError::InsufficientFunds
}
