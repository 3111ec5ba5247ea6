//! mt_treasury stage 3, secondary market: property tests.
//!
//! Random buys and sells by three traders, under random fee settings and
//! minimum-out bounds around the quote, through the runtime. After every
//! swap: k = reserve_mt × reserve_native never decreases; the reserves are
//! exactly the pool vaults' balances; the trader paid and received exactly
//! the reference quote (fee rounded up, output rounded down); the fee
//! landed in the fee vault (protocol part) and the revenue and treasury
//! vaults (model part, split by the model's rule); a bound above the quote
//! fails with SlippageExceeded and changes nothing, one at or below it is
//! honoured; native and MT are conserved. A second property checks the
//! pool arithmetic alone over the whole u64 range.

mod treasury_common;

use mt_treasury::errors::TreasuryError;
use mt_treasury::instructions::UpdateProtocolArgs;
use mt_treasury::state::{Market, SwapSide, MT_UNIT};
use program_tests::*;
use proptest::prelude::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

/// The reference quote: (amount_out, fee, protocol fee), or None when it pays nothing.
fn reference(side: SwapSide, x: u64, y: u64, amount_in: u64, fee_bps: u16, share_bps: u16) -> Option<(u64, u64, u64)> {
    let (x, y, a, f) = (x as u128, y as u128, amount_in as u128, fee_bps as u128);
    let (out, fee) = match side {
        SwapSide::Buy => {
            let fee = (a * f).div_ceil(10_000);
            (x * (a - fee) / (y + a - fee), fee)
        }
        SwapSide::Sell => {
            let gross = y * a / (x + a);
            let fee = (gross * f).div_ceil(10_000);
            (gross - fee, fee)
        }
    };
    let protocol = (fee * share_bps as u128).div_ceil(10_000);
    (out > 0).then_some((out as u64, fee as u64, protocol as u64))
}

#[derive(Debug, Clone)]
struct Trade {
    trader: usize,
    buy: bool,
    /// Per mille of the trader's balance of what they pay.
    permille: u16,
    /// min_out relative to the quote: quote + offset (clamped at 0).
    offset: i64,
}

fn trade() -> impl Strategy<Value = Trade> {
    (0..3usize, any::<bool>(), 1u16..=1_000, prop_oneof![Just(0i64), -1_000i64..0, 1i64..3]).prop_map(|(trader, buy, permille, offset)| Trade { trader, buy, permille, offset })
}

fn native_total(d: &Active, traders: &[Keypair]) -> u128 {
    let mut t: u128 = traders.iter().map(|k| d.f.h.token_balance(&d.native_ata(&k.pubkey())) as u128).sum();
    for v in [d.keys.liquidity_native, fee_vault_pda(), d.keys.revenue, d.keys.treasury] {
        t += d.f.h.token_balance(&v) as u128;
    }
    t
}

fn mt_total(d: &Active, traders: &[Keypair]) -> u128 {
    let t: u128 = traders.iter().map(|k| d.f.h.token_balance(&d.mt_ata(&k.pubkey())) as u128).sum();
    t + d.f.h.token_balance(&d.keys.liquidity) as u128
}

fn run(fee_bps: u16, share_bps: u16, depositor: bool, trades: Vec<Trade>) -> Result<(), TestCaseError> {
    let mut d = Active::standard();
    let admin = d.f.admin.insecure_clone();
    let ix = d.f.update_protocol_ix(&admin.pubkey(), UpdateProtocolArgs { swap_fee_bps: Some(fee_bps), swap_protocol_share_bps: Some(share_bps), ..Default::default() });
    d.f.h.execute(&[ix], &[&admin]).unwrap();
    if depositor {
        let a = d.holders[0].insecure_clone();
        d.deposit_mt(&a, 5_000 * MT_UNIT).unwrap();
        d.warm_up(&[&a]);
    }
    let opener = d.holders[2].insecure_clone();
    d.open_market(&opener).unwrap();
    let mut traders = Vec::new();
    for _ in 0..3 {
        traders.push(d.trader(20_000 * NATIVE));
    }
    let bps = d.model().revenue.depositor_share_bps as u64;
    let (native0, mt0) = (native_total(&d, &traders), mt_total(&d, &traders));

    for t in trades {
        let k = &traders[t.trader];
        let m = d.model().market;
        let (x, y) = (m.reserve_mt, m.reserve_native);
        let side = if t.buy { SwapSide::Buy } else { SwapSide::Sell };
        let balance = if t.buy { d.f.h.token_balance(&d.native_ata(&k.pubkey())) } else { d.f.h.token_balance(&d.mt_ata(&k.pubkey())) };
        let amount = balance * t.permille as u64 / 1_000;
        if amount == 0 {
            continue;
        }
        let earning = d.model().revenue.total_deposited;
        let before = |d: &Active| {
            [d.native_ata(&k.pubkey()), d.mt_ata(&k.pubkey()), fee_vault_pda(), d.keys.revenue, d.keys.treasury].map(|a| d.f.h.token_balance(&a))
        };
        let b = before(&d);
        let Some((out, fee, protocol)) = reference(side, x, y, amount, fee_bps, share_bps) else {
            let res = d.swap(k, side, amount, 0);
            assert_error(&res, TreasuryError::SwapTooSmall);
            continue;
        };
        let min_out = (out as i64 + t.offset).max(0) as u64;
        let res = d.swap(k, side, amount, min_out);
        if min_out > out {
            assert_error(&res, TreasuryError::SlippageExceeded);
            prop_assert_eq!(before(&d), b, "a refused swap moves nothing");
            continue;
        }
        res.map_err(|e| TestCaseError::fail(format!("swap: {e:?}")))?;
        let a = before(&d);
        let m2 = d.model().market;
        prop_assert!(m2.k() >= m.k(), "k decreased: {} < {}", m2.k(), m.k());
        prop_assert_eq!(d.f.h.token_balance(&d.keys.liquidity), m2.reserve_mt);
        prop_assert_eq!(d.f.h.token_balance(&d.keys.liquidity_native), m2.reserve_native);
        prop_assert!(out >= min_out);
        let model_fee = fee - protocol;
        let to_depositors = if earning == 0 { 0 } else { model_fee * bps / 10_000 };
        if t.buy {
            prop_assert_eq!((b[0] - a[0], a[1] - b[1]), (amount, out), "buyer paid and received");
            prop_assert_eq!((m2.reserve_mt, m2.reserve_native), (x - out, y + amount - fee));
        } else {
            prop_assert_eq!((a[0] - b[0], b[1] - a[1]), (out, amount), "seller received and paid");
            prop_assert_eq!((m2.reserve_mt, m2.reserve_native), (x + amount, y - out - fee));
        }
        prop_assert_eq!(a[2] - b[2], protocol, "protocol fee");
        prop_assert_eq!(a[3] - b[3], to_depositors, "depositors' part");
        prop_assert_eq!(a[4] - b[4], model_fee - to_depositors, "treasury part");
        prop_assert_eq!(native_total(&d, &traders), native0);
        prop_assert_eq!(mt_total(&d, &traders), mt0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn swaps_keep_k_pay_the_quote_and_route_fees(
        fee_bps in prop_oneof![Just(0u16), Just(30u16), 1u16..=1_000, Just(10_000u16)],
        share_bps in prop_oneof![Just(0u16), Just(10_000u16), 0u16..=10_000],
        depositor in any::<bool>(),
        trades in proptest::collection::vec(trade(), 1..30),
    ) {
        run(fee_bps, share_bps, depositor, trades)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// The pool arithmetic over the whole range: k never decreases, neither
    /// reserve empties, and the quote agrees with the reference.
    #[test]
    fn quotes_never_decrease_k(
        x in 1u64..=u64::MAX, y in 1u64..=u64::MAX, amount in 1u64..=u64::MAX,
        buy in any::<bool>(), fee_bps in 0u16..=10_000, share_bps in 0u16..=10_000,
    ) {
        let m = Market { opened_at: 1, reserve_mt: x, reserve_native: y, ..Market::default() };
        let side = if buy { SwapSide::Buy } else { SwapSide::Sell };
        match m.quote(side, amount, fee_bps, share_bps) {
            Ok(q) => {
                prop_assert!(q.reserve_mt as u128 * q.reserve_native as u128 >= m.k());
                prop_assert!(q.reserve_mt > 0 && q.reserve_native > 0);
                prop_assert_eq!(Some((q.amount_out, q.fee, q.protocol_fee)), reference(side, x, y, amount, fee_bps, share_bps));
                prop_assert_eq!(q.protocol_fee + q.model_fee, q.fee);
            }
            // Only a swap paying nothing, or a reserve overflowing u64, is refused.
            Err(_) => {
                let r = reference(side, x, y, amount, fee_bps, share_bps);
                let overflows = match side {
                    SwapSide::Buy => r.is_some_and(|(_, fee, _)| y.checked_add(amount - fee).is_none()),
                    SwapSide::Sell => x.checked_add(amount).is_none(),
                };
                prop_assert!(r.is_none() || overflows, "refused a valid swap");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Issue 14 (1): whatever anyone sends to the pool vaults before (or
    /// after) the market opens, the pool starts from the recorded amounts:
    /// the MT liquidity allocation and the raise's liquidity share
    /// (`liquidity_bps` of the raise net of the protocol fee, rounded down).
    #[test]
    fn the_pool_opens_on_the_recorded_amounts_whatever_the_vaults_hold(
        contributions in prop::collection::vec(14_000u64..=30_000, 3..=3),
        donate_native in 0u64..1_000_000_000,
        donate_mt in 0u64..5_000_000_000,
    ) {
        let mut d = Active::new(&contributions.iter().map(|c| c * NATIVE).collect::<Vec<_>>());
        let model = d.model();
        let donor = d.holders[0].insecure_clone();
        let (admin, mint, program) = (d.f.admin.insecure_clone(), d.f.native_mint, d.f.native_program);
        d.f.h.mint_to(&admin, &mint, &donor.pubkey(), donate_native + 1, program);
        let ix = anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(
            &program, &d.native_ata(&donor.pubkey()), &mint, &d.keys.liquidity_native, &donor.pubkey(), &[], donate_native + 1, 6).unwrap();
        d.exec(ix, &[&donor]).unwrap();
        let mt = donate_mt.min(d.f.h.token_balance(&d.mt_ata(&donor.pubkey())));
        if mt > 0 {
            let ix = anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(
                &TOKEN_2022, &d.mt_ata(&donor.pubkey()), &d.keys.mt_mint, &d.keys.liquidity, &donor.pubkey(), &[], mt, 6).unwrap();
            d.exec(ix, &[&donor]).unwrap();
        }
        d.open_market(&donor).unwrap();
        let market = d.model().market;
        let expected = model.crowdfund.proceeds().unwrap();
        prop_assert_eq!(market.reserve_mt, model.supply.liquidity);
        prop_assert_eq!(market.reserve_native, expected.liquidity);
        prop_assert_eq!(market.reserve_native, model.crowdfund.liquidity_native);
        prop_assert!(d.f.h.token_balance(&d.keys.liquidity_native) > market.reserve_native);
    }
}
