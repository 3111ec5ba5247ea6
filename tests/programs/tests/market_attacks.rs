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

// ------------------------------------------- issue 14 (1): recorded reserves

/// A token transfer of `amount` of `mint` between two accounts.
fn transfer(program: Pubkey, from: &Pubkey, mint: &Pubkey, to: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(&program, from, mint, to, owner, &[], amount, 6).unwrap()
}

#[test]
fn one_sided_liquidity_is_refused_at_launch() {
    // The audit's attack needed a pool with one side empty: (a) an MT
    // allocation with no share of the raise, or (b) a share of the raise
    // with no MT. Neither can be launched any more.
    let mut f = Fixture::new();
    let creator = f.creator();
    let mut a = default_terms(f.now());
    a.crowdfund.liquidity_bps = 0;
    let ix = f.launch_ix(f.launch_accounts(&creator.pubkey(), 0), a);
    assert_error(&f.h.execute(&[ix], &[&creator]), TreasuryError::OneSidedLiquidity);
    let mut b = default_terms(f.now());
    b.supply.contributor_rewards += b.supply.liquidity;
    b.supply.liquidity = 0;
    let ix = f.launch_ix(f.launch_accounts(&creator.pubkey(), 0), b);
    assert_error(&f.h.execute(&[ix], &[&creator]), TreasuryError::OneSidedLiquidity);
    assert_eq!(f.protocol().model_count, 0);
}

#[test]
fn tokens_sent_to_the_pool_vaults_before_opening_are_not_reserves() {
    // The attack: top up a pool vault before open_market so the pool is
    // priced from the balance. The reserves are the recorded allocation and
    // raise share whatever the vaults hold; a 0.001-native buy then takes
    // what those reserves price, not 99.9 % of the MT.
    let mut d = Active::standard();
    let attacker = d.holders[2].insecure_clone();
    let model = d.model();
    let (mint, program) = (d.f.native_mint, d.f.native_program);
    let ix = transfer(program, &d.native_ata(&attacker.pubkey()), &mint, &d.keys.liquidity_native, &attacker.pubkey(), 1);
    d.exec(ix, &[&attacker]).unwrap();
    let ix = transfer(TOKEN_2022, &d.mt_ata(&attacker.pubkey()), &d.keys.mt_mint, &d.keys.liquidity, &attacker.pubkey(), 4_000 * MT);
    d.exec(ix, &[&attacker]).unwrap();
    d.open_market(&attacker).unwrap();
    let market = d.model().market;
    assert_eq!((market.reserve_mt, market.reserve_native), (model.supply.liquidity, model.crowdfund.liquidity_native));
    assert_ne!(market.reserve_native, d.f.h.token_balance(&d.keys.liquidity_native), "the donation is not a reserve");

    let p = d.f.protocol();
    let q = market.quote(SwapSide::Buy, 1_000, p.swap_fee_bps, p.swap_protocol_share_bps).unwrap();
    let mt_before = d.f.h.token_balance(&d.mt_ata(&attacker.pubkey()));
    d.swap(&attacker, SwapSide::Buy, 1_000, q.amount_out).unwrap();
    let bought = d.f.h.token_balance(&d.mt_ata(&attacker.pubkey())) - mt_before;
    assert_eq!(bought, q.amount_out);
    assert!(bought < market.reserve_mt / 1_000_000, "a 0.001-native buy takes a sliver of the pool, got {bought}");
}

#[test]
fn tokens_sent_to_the_pool_vaults_after_opening_never_move_the_price() {
    let (mut d, _other, trader) = world();
    let before = d.model().market;
    let donor = d.holders[0].insecure_clone();
    let (mint, program) = (d.f.native_mint, d.f.native_program);
    let ix = transfer(program, &d.native_ata(&donor.pubkey()), &mint, &d.keys.liquidity_native, &donor.pubkey(), 100 * NATIVE);
    d.exec(ix, &[&donor]).unwrap();
    let p = d.f.protocol();
    let q = before.quote(SwapSide::Sell, 100 * MT, p.swap_fee_bps, p.swap_protocol_share_bps).unwrap();
    let ix = transfer(TOKEN_2022, &d.mt_ata(&donor.pubkey()), &d.keys.mt_mint, &d.mt_ata(&trader.pubkey()), &donor.pubkey(), 100 * MT);
    d.exec(ix, &[&donor]).unwrap();
    d.swap(&trader, SwapSide::Sell, 100 * MT, q.amount_out).unwrap();
    let after = d.model().market;
    assert_eq!((after.reserve_mt, after.reserve_native), (q.reserve_mt, q.reserve_native));
}
