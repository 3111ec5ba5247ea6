//! mt_treasury stage 3, secondary market: open_market seeds a
//! constant-product pool with the model's locked liquidity; swap trades
//! against it with a minimum-out bound; the fee is taken on the native side
//! and split between the protocol and the model's revenue.
//! Standard model: 20 000 MT and 11 700 native (20 % of the 58 500 net
//! raise) in the pool; swap fee 30 bps, half of it the protocol's.

mod treasury_common;

use mt_treasury::errors::TreasuryError;
use mt_treasury::events::{MarketOpened, Swapped};
use mt_treasury::state::{SwapSide, MT_UNIT};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

const MT: u64 = MT_UNIT;
const FEE_BPS: u128 = 30;
const PROTOCOL_SHARE_BPS: u128 = 5_000;

/// The expected swap, computed here from the rules (u128, fee rounded up,
/// output rounded down): (out, fee, protocol fee).
fn expect(side: SwapSide, reserve_mt: u64, reserve_native: u64, amount_in: u64) -> (u64, u64, u64) {
    let (x, y, a) = (reserve_mt as u128, reserve_native as u128, amount_in as u128);
    let (out, fee) = match side {
        SwapSide::Buy => {
            let fee = (a * FEE_BPS).div_ceil(10_000);
            (x * (a - fee) / (y + a - fee), fee)
        }
        SwapSide::Sell => {
            let gross = y * a / (x + a);
            let fee = (gross * FEE_BPS).div_ceil(10_000);
            (gross - fee, fee)
        }
    };
    let protocol = (fee * PROTOCOL_SHARE_BPS).div_ceil(10_000);
    (out as u64, fee as u64, protocol as u64)
}

fn opened() -> Active {
    let mut d = Active::standard();
    let payer = d.holders[2].insecure_clone();
    d.open_market(&payer).expect("open_market");
    d
}

fn reserves(d: &Active) -> (u64, u64) {
    let m = d.model().market;
    (m.reserve_mt, m.reserve_native)
}

#[test]
fn open_market_seeds_the_pool_with_the_locked_liquidity_once() {
    let mut d = Active::standard();
    let anyone = d.f.wallet(0);
    let trader = d.trader(100 * NATIVE);
    assert_error(&d.swap(&trader, SwapSide::Buy, NATIVE, 0), TreasuryError::MarketNotOpen);
    let model = d.model();
    assert_eq!(model.crowdfund.liquidity_native, 11_700 * NATIVE);
    let ev: MarketOpened = event(&d.open_market(&anyone).expect("anyone may open it"));
    assert_eq!((ev.reserve_mt, ev.reserve_native), (20_000 * MT, 11_700 * NATIVE));
    assert_eq!(reserves(&d), (20_000 * MT, 11_700 * NATIVE));
    assert!(d.model().market.opened_at > 0);
    assert_error(&d.open_market(&anyone), TreasuryError::MarketAlreadyOpen); // [7]
}

#[test]
fn open_market_needs_an_active_model_with_liquidity() {
    let mut f = Fixture::new();
    let (_creator, keys, _) = f.launch();
    let anyone = f.wallet(0);
    let mut d = Active { f, creator: Keypair::new(), keys, holders: vec![] };
    assert_error(&d.open_market(&anyone), TreasuryError::ModelNotActive);

    // A model launched without a market: no MT liquidity allocation and no
    // share of the raise (launch refuses one without the other).
    let mut f = Fixture::new();
    let creator = f.creator();
    let mut terms = default_terms(f.now());
    terms.crowdfund.liquidity_bps = 0;
    terms.supply.contributor_rewards += terms.supply.liquidity;
    terms.supply.liquidity = 0;
    let keys = f.launch_with(&creator, terms);
    f.warp_to_start(&keys);
    let a = f.wallet(60_000 * NATIVE);
    let b = f.wallet(60_000 * NATIVE);
    f.contribute(&a, &keys, 30_000 * NATIVE).unwrap();
    f.contribute(&b, &keys, 30_000 * NATIVE).unwrap();
    f.warp_to_end(&keys);
    f.finalize(&a, &keys).unwrap();
    let mut d = Active { f, creator, keys, holders: vec![a] };
    let anyone = d.f.wallet(0);
    assert_error(&d.open_market(&anyone), TreasuryError::NoLiquidity);
}

#[test]
fn buying_takes_the_fee_off_the_native_paid() {
    let mut d = opened();
    let trader = d.trader(1_000 * NATIVE);
    let (x, y) = reserves(&d);
    let (out, fee, protocol) = expect(SwapSide::Buy, x, y, 100 * NATIVE);
    assert_eq!((fee, protocol), (300_000, 150_000));
    let fee_vault = d.f.h.token_balance(&fee_vault_pda());
    let treasury = d.f.h.token_balance(&d.keys.treasury);
    let ev: Swapped = event(&d.swap(&trader, SwapSide::Buy, 100 * NATIVE, out).expect("min_out = the quote"));
    assert_eq!((ev.amount_out, ev.fee, ev.protocol_fee), (out, fee, protocol));
    assert_eq!(d.f.h.token_balance(&d.mt_ata(&trader.pubkey())), out);
    assert_eq!(d.f.h.token_balance(&d.native_ata(&trader.pubkey())), 900 * NATIVE);
    assert_eq!(d.f.h.token_balance(&fee_vault_pda()), fee_vault + protocol);
    // Nobody deposited MT: the model's part of the fee is treasury revenue.
    assert_eq!((ev.to_depositors, ev.to_treasury), (0, fee - protocol));
    assert_eq!(d.f.h.token_balance(&d.keys.treasury), treasury + fee - protocol);
    assert_eq!(reserves(&d), (x - out, y + 100 * NATIVE - fee));
    assert_eq!(d.f.h.token_balance(&d.keys.liquidity), x - out);
    assert_eq!(d.f.h.token_balance(&d.keys.liquidity_native), y + 100 * NATIVE - fee);
    let r = d.model().revenue;
    assert_eq!(r.total_revenue, fee - protocol);
}

#[test]
fn selling_takes_the_fee_off_the_native_received() {
    let mut d = opened();
    let seller = d.holders[0].insecure_clone();
    let (x, y) = reserves(&d);
    let (out, fee, protocol) = expect(SwapSide::Sell, x, y, 1_000 * MT);
    let native = d.f.h.token_balance(&d.native_ata(&seller.pubkey()));
    let ev: Swapped = event(&d.swap(&seller, SwapSide::Sell, 1_000 * MT, out).unwrap());
    assert_eq!((ev.amount_out, ev.fee, ev.protocol_fee), (out, fee, protocol));
    assert_eq!(d.f.h.token_balance(&d.native_ata(&seller.pubkey())), native + out);
    assert_eq!(reserves(&d), (x + 1_000 * MT, y - out - fee));
    assert_eq!(d.f.h.token_balance(&d.keys.liquidity_native), y - out - fee);
}

#[test]
fn swap_fees_are_revenue_shared_with_depositors() {
    let mut d = opened();
    let a = d.holders[0].insecure_clone();
    d.deposit_mt(&a, 10_000 * MT).unwrap();
    d.warm_up(&[&a]);
    let trader = d.trader(10_000 * NATIVE);
    let ev: Swapped = event(&d.swap(&trader, SwapSide::Buy, 10_000 * NATIVE, 1).unwrap());
    let model_fee = ev.fee - ev.protocol_fee;
    assert_eq!(ev.to_depositors, model_fee * 7_000 / 10_000, "the model's rule, as for any revenue");
    assert_eq!(ev.to_treasury, model_fee - ev.to_depositors);
    assert_eq!(d.f.h.token_balance(&d.keys.revenue), ev.to_depositors);
    let before = d.f.h.token_balance(&d.native_ata(&a.pubkey()));
    d.claim_rewards(&a).unwrap();
    let got = d.f.h.token_balance(&d.native_ata(&a.pubkey())) - before;
    assert!(got <= ev.to_depositors && ev.to_depositors - got <= 1, "a is the only earner: {got} of {}", ev.to_depositors);
}

#[test]
fn the_minimum_out_bound_holds_exactly() {
    let mut d = opened();
    let trader = d.trader(1_000 * NATIVE);
    let (x, y) = reserves(&d);
    let (out, ..) = expect(SwapSide::Buy, x, y, 10 * NATIVE);
    assert_error(&d.swap(&trader, SwapSide::Buy, 10 * NATIVE, out + 1), TreasuryError::SlippageExceeded);
    assert_eq!(reserves(&d), (x, y), "nothing moved");
    d.swap(&trader, SwapSide::Buy, 10 * NATIVE, out).unwrap();
    let (x, y) = reserves(&d);
    let (out, ..) = expect(SwapSide::Sell, x, y, 5 * MT);
    assert_error(&d.swap(&trader, SwapSide::Sell, 5 * MT, out + 1), TreasuryError::SlippageExceeded);
    d.swap(&trader, SwapSide::Sell, 5 * MT, out).unwrap();
}

#[test]
fn a_sandwich_front_run_is_stopped_by_the_victims_slippage_bound() {
    let mut d = opened();
    let victim = d.trader(2_000 * NATIVE);
    let attacker = d.trader(50_000 * NATIVE);
    let (x, y) = reserves(&d);
    // The victim quotes a 1 000-native buy and accepts 1 % less.
    let (quoted, ..) = expect(SwapSide::Buy, x, y, 1_000 * NATIVE);
    let min_out = quoted * 99 / 100;
    let victim_ix = d.swap_ix(d.swap_accounts(&victim.pubkey()), SwapSide::Buy, 1_000 * NATIVE, min_out);

    // The attacker's buy lands first and pushes the price up.
    d.swap(&attacker, SwapSide::Buy, 5_000 * NATIVE, 0).unwrap();
    let (x1, y1) = reserves(&d);
    let (would_get, ..) = expect(SwapSide::Buy, x1, y1, 1_000 * NATIVE);
    assert!(would_get < min_out, "the front-run moved the price by more than 1 %");
    assert_error(&d.exec(victim_ix, &[&victim]), TreasuryError::SlippageExceeded);
    assert_eq!(d.f.h.token_balance(&d.native_ata(&victim.pubkey())), 2_000 * NATIVE, "the victim paid nothing");
    // The attacker's back-run now only unwinds their own trade, at a loss of the fees.
    let bought = d.f.h.token_balance(&d.mt_ata(&attacker.pubkey()));
    d.swap(&attacker, SwapSide::Sell, bought, 0).unwrap();
    assert!(d.f.h.token_balance(&d.native_ata(&attacker.pubkey())) < 50_000 * NATIVE);

    // Without a bound the same sandwich takes value from the victim.
    let mut d = opened();
    let victim = d.trader(2_000 * NATIVE);
    let attacker = d.trader(50_000 * NATIVE);
    let (x, y) = reserves(&d);
    let (fair, ..) = expect(SwapSide::Buy, x, y, 1_000 * NATIVE);
    d.swap(&attacker, SwapSide::Buy, 5_000 * NATIVE, 0).unwrap();
    d.swap(&victim, SwapSide::Buy, 1_000 * NATIVE, 0).unwrap();
    let bought = d.f.h.token_balance(&d.mt_ata(&attacker.pubkey()));
    d.swap(&attacker, SwapSide::Sell, bought, 0).unwrap();
    assert!(d.f.h.token_balance(&d.mt_ata(&victim.pubkey())) < min_out.min(fair));
    assert!(d.f.h.token_balance(&d.native_ata(&attacker.pubkey())) > 50_000 * NATIVE, "the attacker profits");
}

#[test]
fn tokens_sent_to_the_pool_vaults_do_not_move_the_price() {
    let mut d = opened();
    let donor = d.holders[1].insecure_clone();
    let (x, y) = reserves(&d);
    let ix = anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(
        &TOKEN_2022, &d.mt_ata(&donor.pubkey()), &d.keys.mt_mint, &d.keys.liquidity, &donor.pubkey(), &[], 5_000 * MT, 6,
    )
    .unwrap();
    d.f.h.execute(&[ix], &[&donor]).unwrap();
    let trader = d.trader(100 * NATIVE);
    let (out, ..) = expect(SwapSide::Buy, x, y, 10 * NATIVE);
    let ev: Swapped = event(&d.swap(&trader, SwapSide::Buy, 10 * NATIVE, 0).unwrap());
    assert_eq!(ev.amount_out, out);
}

#[test]
fn dust_and_paused_swaps_are_refused() {
    let mut d = opened();
    let trader = d.trader(100 * NATIVE);
    assert_error(&d.swap(&trader, SwapSide::Buy, 0, 0), TreasuryError::ZeroAmount);
    assert_error(&d.swap(&trader, SwapSide::Buy, 1, 0), TreasuryError::SwapTooSmall);
    let seller = d.holders[0].insecure_clone();
    assert_error(&d.swap(&seller, SwapSide::Sell, 1, 0), TreasuryError::SwapTooSmall);
    d.f.set_paused(true);
    assert_error(&d.swap(&trader, SwapSide::Buy, NATIVE, 0), TreasuryError::ProtocolPaused);
    d.f.set_paused(false);
    d.swap(&trader, SwapSide::Buy, NATIVE, 0).unwrap();
}
