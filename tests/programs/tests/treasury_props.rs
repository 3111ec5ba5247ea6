//! Property tests of mt_treasury's money math (pure functions in `math.rs`
//! and the state methods the instructions call), then a randomized
//! multi-contributor crowdfund through the real runtime with conservation
//! checked to the base unit.

mod treasury_common;

use mt_treasury::allowlist;
use mt_treasury::instructions::validate_terms;
use mt_treasury::math::{bps_ceil, bps_floor, mul_div_ceil, mul_div_floor};
use mt_treasury::state::{Crowdfund, Stage, SupplySplit, Vesting, MT_UNIT};
use program_tests::*;
use proptest::prelude::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

fn crowdfund(price: u64, soft_cap: u64, hard_cap: u64, per_wallet_cap: u64, liquidity_bps: u16) -> Crowdfund {
    Crowdfund {
        price,
        soft_cap,
        hard_cap,
        start: 0,
        end: 1,
        per_wallet_cap,
        liquidity_bps,
        protocol_fee_bps: 0,
        allowlist_root: [0; 32],
        raised: 0,
        sold: 0,
        contributors: 0,
        finalized_at: 0,
        protocol_fee: 0,
        liquidity_native: 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// mul_div never overflows internally; it errs exactly when the true
    /// result does not fit a u64, and otherwise brackets the exact quotient.
    #[test]
    fn mul_div_is_exact_or_errs(v in any::<u64>(), n in any::<u64>(), d in 1..=u64::MAX) {
        let exact = (v as u128) * (n as u128);
        let floor = exact / d as u128;
        let ceil = exact.div_ceil(d as u128);
        prop_assert_eq!(mul_div_floor(v, n, d).ok(), u64::try_from(floor).ok());
        prop_assert_eq!(mul_div_ceil(v, n, d).ok(), u64::try_from(ceil).ok());
        prop_assert!(mul_div_floor(v, n, 0).is_err());
    }

    /// Buying: MT rounds down, cost rounds up, so the buyer never gets MT
    /// cheaper than the price and never pays more than they offered.
    #[test]
    fn price_rounding_favours_the_protocol(price in 1..=u64::MAX / 2, native in any::<u64>()) {
        let cf = crowdfund(price, 1, u64::MAX, u64::MAX, 0);
        if let Ok(mt) = cf.mt_for(native) {
            let cost = cf.cost_of(mt).expect("cost of what an amount buys fits");
            prop_assert!(cost <= native, "pays more than offered");
            // cost / mt >= price / UNIT  <=>  cost * UNIT >= mt * price
            prop_assert!((cost as u128) * (MT_UNIT as u128) >= (mt as u128) * (price as u128));
            // And never more than one base unit above the exact price.
            prop_assert!((cost as u128) * (MT_UNIT as u128) < (mt as u128) * (price as u128) + MT_UNIT as u128);
        }
    }

    /// One fill in any state: within the offer, the hard cap, the sale
    /// allocation and the wallet cap; the contributor pays exactly the
    /// rounded-up cost of what they get.
    #[test]
    fn a_fill_never_oversells(
        price in 1u64..=10_000_000_000,
        hard_cap in 1u64..=1_000_000_000_000_000,
        raised_frac in 0u64..=1_000,
        sale_extra in 0u64..=1_000_000_000,
        wallet_cap in 1u64..=u64::MAX,
        wallet_paid in 0u64..=1_000_000_000_000,
        offered in 0u64..=u64::MAX,
    ) {
        let mut cf = crowdfund(price, 1, hard_cap, wallet_cap, 0);
        let sale = cf.mt_for(hard_cap).unwrap().saturating_add(sale_extra);
        cf.raised = mul_div_floor(hard_cap, raised_frac, 1_000).unwrap();
        cf.sold = cf.mt_for(cf.raised).unwrap().min(sale);
        match cf.fill(sale, wallet_paid, offered) {
            Ok(fill) => {
                prop_assert!(fill.mt > 0);
                prop_assert!(fill.cost <= offered);
                prop_assert!(cf.raised + fill.cost <= hard_cap, "past the hard cap");
                prop_assert!(cf.sold + fill.mt <= sale, "past the sale allocation");
                prop_assert!(wallet_paid + fill.cost <= wallet_cap, "past the wallet cap");
                prop_assert_eq!(fill.cost, cf.cost_of(fill.mt).unwrap());
            }
            Err(_) => {}
        }
    }

    /// A whole raise of random contributions: totals add up, nothing
    /// oversold, and finalisation's allocations sum exactly to the hard
    /// supply (or refunds return exactly what was paid).
    #[test]
    fn a_raise_hands_out_at_most_the_hard_supply_and_refunds_everything(
        price in 1u64..=5_000_000,
        sale_mt in 1u64..=1_000_000_000_000,
        others in (0u64..=1_000_000_000_000, 0u64..=1_000_000_000_000, 0u64..=1_000_000_000_000),
        cap_frac in 1u64..=1_000,
        soft_frac in 1u64..=1_000,
        wallet_cap in 1u64..=u64::MAX / 4,
        offers in prop::collection::vec((0usize..8, 1u64..=2_000_000_000_000), 1..60),
        fee_bps in 0u16..=10_000,
        liquidity_bps in 0u16..=10_000,
    ) {
        let max_cap = mul_div_floor(sale_mt, price, MT_UNIT).unwrap();
        prop_assume!(max_cap > 0);
        let hard_cap = mul_div_floor(max_cap, cap_frac, 1_000).unwrap().max(1);
        let soft_cap = mul_div_ceil(hard_cap, soft_frac, 1_000).unwrap().max(1);
        let mut cf = crowdfund(price, soft_cap, hard_cap, wallet_cap, liquidity_bps);
        prop_assume!(cf.mt_for(hard_cap).unwrap() > 0);
        let supply = SupplySplit {
            hard_supply: sale_mt + others.0 + others.1 + others.2,
            creator: others.0,
            crowdfund: sale_mt,
            liquidity: others.1,
            contributor_rewards: others.2,
        };
        let mut paid = [0u64; 8];
        let mut bought = [0u64; 8];
        for (who, offer) in offers {
            if let Ok(fill) = cf.fill(supply.crowdfund, paid[who], offer) {
                paid[who] += fill.cost;
                bought[who] += fill.mt;
                cf.raised += fill.cost;
                cf.sold += fill.mt;
            }
            prop_assert!(cf.raised <= cf.hard_cap && cf.sold <= supply.crowdfund);
            prop_assert!(paid[who] <= wallet_cap);
        }
        prop_assert_eq!(paid.iter().sum::<u64>(), cf.raised);
        prop_assert_eq!(bought.iter().sum::<u64>(), cf.sold);
        if cf.succeeded() {
            let a = supply.allocation(cf.sold).unwrap();
            prop_assert_eq!(a.total(), Some(supply.hard_supply));
            prop_assert_eq!(a.sale, bought.iter().sum::<u64>(), "claims empty the sale vault exactly");
            cf.protocol_fee_bps = fee_bps;
            let p = cf.proceeds().unwrap();
            prop_assert_eq!(p.protocol_fee + p.liquidity + p.treasury, cf.raised);
            prop_assert!(p.protocol_fee as u128 * 10_000 >= cf.raised as u128 * fee_bps as u128, "fee rounds up");
        } else {
            // Refunds return each contribution; their sum is the raise vault.
            let refunds: u64 = paid.iter().sum();
            prop_assert_eq!(refunds, cf.raised);
        }
    }

    #[test]
    fn fees_round_up_and_shares_round_down(value in any::<u64>(), bps in 0u16..=10_000) {
        let exact = value as u128 * bps as u128;
        prop_assert!(bps_ceil(value, bps).unwrap() as u128 * 10_000 >= exact);
        prop_assert!(bps_floor(value, bps).unwrap() as u128 * 10_000 <= exact);
        prop_assert!(bps_ceil(value, bps).unwrap() - bps_floor(value, bps).unwrap() <= 1);
    }

    /// Vesting: nothing before the cliff, everything after the duration,
    /// never decreasing, never above the allocation, rounded down; claims at
    /// any sequence of times add up to exactly what has vested.
    #[test]
    fn vesting_is_monotone_capped_and_rounds_down(
        total in any::<u64>(),
        start in 0i64..=4_000_000_000,
        cliff in 0i64..=100_000_000,
        extra in 0i64..=100_000_000,
        mut times in prop::collection::vec(0i64..=300_000_000, 1..20),
    ) {
        let duration = cliff + extra;
        let mut v = Vesting { start, cliff_secs: cliff, duration_secs: duration, claimed: 0 };
        times.sort();
        let mut last = 0;
        for dt in times {
            let now = start + dt;
            let vested = v.vested(total, now).unwrap();
            prop_assert!(vested >= last && vested <= total);
            if dt < cliff { prop_assert_eq!(vested, 0); }
            if dt >= duration { prop_assert_eq!(vested, total); }
            if dt >= cliff && dt < duration {
                prop_assert!(vested as u128 * duration as u128 <= total as u128 * dt as u128);
            }
            let claim = v.claimable(total, now).unwrap();
            v.claimed += claim;
            prop_assert_eq!(v.claimed, vested);
            last = vested;
        }
        prop_assert_eq!(v.claimable(total, start + duration).unwrap() + v.claimed, total);
    }

    /// Whatever validate_terms accepts can never sell past the sale allocation.
    #[test]
    fn accepted_terms_cannot_oversell(
        price in 0u64..=u64::MAX,
        hard_cap in 0u64..=u64::MAX,
        crowdfund_mt in 0u64..=u64::MAX / 4,
        soft in 0u64..=u64::MAX,
    ) {
        let mut args = default_terms(0);
        args.supply = SupplySplit { hard_supply: crowdfund_mt + 3, creator: 1, crowdfund: crowdfund_mt, liquidity: 1, contributor_rewards: 1 };
        args.crowdfund.price = price;
        args.crowdfund.hard_cap = hard_cap;
        args.crowdfund.soft_cap = soft;
        args.crowdfund.per_wallet_cap = hard_cap;
        args.governance.min_propose_mt = 0;
        if validate_terms(&args, MIN_PERIOD, 0, 0).is_ok() {
            let cf = crowdfund(price, soft, hard_cap, hard_cap, 0);
            prop_assert!(cf.mt_for(hard_cap).unwrap() <= crowdfund_mt);
            prop_assert!(soft <= hard_cap && soft > 0 && price > 0);
        }
    }

    /// Whatever validate_terms accepts, a raise that sells out (whatever
    /// the contributions were) has met its soft cap, and a raise that just
    /// meets its soft cap puts native tokens on the market's side whenever
    /// there is an MT liquidity allocation (and none when there is not).
    #[test]
    fn accepted_terms_sell_out_only_at_or_above_the_soft_cap(
        price in 1u64..=50_000_000,
        hard_cap in 1u64..=1_000_000_000,
        soft_share in 1u64..=10_000,
        offers in prop::collection::vec(1u64..=2_000_000_000, 1..60),
        liquidity in 0u64..=1,
        liquidity_bps in 0u16..=10_000,
        fee_bps in 0u16..=10_000,
    ) {
        let soft = (hard_cap as u128 * soft_share as u128 / 10_000).max(1) as u64;
        let crowdfund_mt = u64::MAX / 8;
        let mut args = default_terms(0);
        args.supply = SupplySplit { hard_supply: crowdfund_mt + 2 + liquidity, creator: 1, crowdfund: crowdfund_mt, liquidity, contributor_rewards: 1 };
        args.crowdfund.price = price;
        args.crowdfund.hard_cap = hard_cap;
        args.crowdfund.soft_cap = soft;
        args.crowdfund.per_wallet_cap = hard_cap;
        args.crowdfund.liquidity_bps = liquidity_bps;
        args.governance.min_propose_mt = 0;
        if validate_terms(&args, MIN_PERIOD, fee_bps, 0).is_err() {
            return Ok(());
        }
        prop_assert_eq!(liquidity > 0, liquidity_bps > 0);
        let mut cf = crowdfund(price, soft, hard_cap, hard_cap, liquidity_bps);
        cf.protocol_fee_bps = fee_bps;
        for offered in offers.iter().cycle().take(10_000) {
            if cf.sold_out(crowdfund_mt).unwrap() {
                break;
            }
            if let Ok(fill) = cf.fill(crowdfund_mt, 0, *offered) {
                cf.raised += fill.cost;
                cf.sold += fill.mt;
            }
        }
        if cf.sold_out(crowdfund_mt).unwrap() {
            prop_assert!(cf.raised >= soft, "sold out at {} below the soft cap {}", cf.raised, soft);
        }
        let at_soft = Crowdfund { raised: soft, ..cf }.proceeds().unwrap();
        prop_assert_eq!(at_soft.liquidity > 0, liquidity > 0);
    }

    #[test]
    fn allowlist_members_prove_and_outsiders_do_not(seeds in prop::collection::vec(any::<[u8; 32]>(), 1..40), probe in any::<[u8; 32]>()) {
        let wallets: Vec<Pubkey> = seeds.iter().map(|s| Pubkey::new_from_array(*s)).collect();
        let root = allowlist::root(&wallets);
        for i in 0..wallets.len() {
            let proof = allowlist::proof(&wallets, i);
            prop_assert!(proof.len() <= allowlist::MAX_PROOF_LEN);
            prop_assert!(allowlist::verify(&root, &wallets[i], &proof));
        }
        let outsider = Pubkey::new_from_array(probe);
        if !wallets.contains(&outsider) {
            prop_assert!(!allowlist::verify(&root, &outsider, &allowlist::proof(&wallets, 0)));
        }
    }
}

// ---------------------------------------------------------------- through the runtime

/// Sum of the native token over every account that can hold it in this scenario.
fn native_total(f: &Fixture, keys: &ModelKeys, wallets: &[Keypair]) -> u64 {
    let vaults = [keys.raise, keys.treasury, keys.revenue, keys.liquidity_native, fee_vault_pda()];
    vaults.iter().map(|v| f.h.token_balance(v)).sum::<u64>()
        + wallets.iter().map(|w| f.h.token_balance(&f.native_ata(&w.pubkey()))).sum::<u64>()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random contributors and amounts through real transactions: value is
    /// conserved by every instruction, MT supply is the hard supply or zero,
    /// claims pay out exactly what was sold and refunds exactly what was paid.
    #[test]
    fn randomized_crowdfund_conserves_value(
        offers in prop::collection::vec((0usize..6, 1u64..=40_000 * NATIVE), 1..14),
        wait_for_deadline in any::<bool>(),
    ) {
        let mut f = Fixture::new();
        let (creator, keys, _) = f.launch();
        let wallets: Vec<Keypair> = (0..6).map(|_| f.wallet(80_000 * NATIVE)).collect();
        f.warp_to_start(&keys);
        let total = native_total(&f, &keys, &wallets);
        let mut expected_paid = [0u64; 6];
        for (who, amount) in offers {
            let before = f.h.token_balance(&f.native_ata(&wallets[who].pubkey()));
            if f.contribute(&wallets[who], &keys, amount).is_ok() {
                let after = f.h.token_balance(&f.native_ata(&wallets[who].pubkey()));
                prop_assert!(before - after <= amount);
                expected_paid[who] += before - after;
            }
            prop_assert_eq!(native_total(&f, &keys, &wallets), total, "contribute conserves value");
        }
        let model = f.model(&keys);
        prop_assert!(model.crowdfund.raised <= model.crowdfund.hard_cap);
        prop_assert_eq!(model.crowdfund.raised, expected_paid.iter().sum::<u64>());
        prop_assert_eq!(f.h.token_balance(&keys.raise), model.crowdfund.raised);

        if wait_for_deadline || !model.crowdfund.sold_out(model.supply.crowdfund).unwrap() {
            f.warp_to_end(&keys);
        }
        let anyone = f.h.funded(1);
        f.finalize(&anyone, &keys).unwrap();
        prop_assert_eq!(native_total(&f, &keys, &wallets), total, "finalize conserves value");
        prop_assert_eq!(mint_authority(&f.h, &keys.mt_mint), None);
        let model = f.model(&keys);
        match model.stage {
            Stage::Active => {
                prop_assert_eq!(f.h.mint_supply(&keys.mt_mint), model.supply.hard_supply);
                let mut claimed = 0;
                for (i, w) in wallets.iter().enumerate() {
                    if expected_paid[i] == 0 { continue; }
                    f.claim_mt(w, &keys).unwrap();
                    claimed += f.h.token_balance(&associated_token_address(&w.pubkey(), &keys.mt_mint, &TOKEN_2022));
                }
                prop_assert_eq!(claimed, model.crowdfund.sold);
                prop_assert_eq!(f.h.token_balance(&keys.sale), 0);
                f.h.warp_to(f.now() + 2_000);
                f.claim_vested(&creator, &keys).unwrap();
                let mt_total: u64 = [keys.sale, keys.creator_vault, keys.liquidity, keys.rewards]
                    .iter().map(|v| f.h.token_balance(v)).sum::<u64>()
                    + claimed
                    + f.h.token_balance(&associated_token_address(&creator.pubkey(), &keys.mt_mint, &TOKEN_2022));
                prop_assert_eq!(mt_total, model.supply.hard_supply);
            }
            Stage::Failed => {
                prop_assert_eq!(f.h.mint_supply(&keys.mt_mint), 0);
                for (i, w) in wallets.iter().enumerate() {
                    if expected_paid[i] == 0 { continue; }
                    let before = f.h.token_balance(&f.native_ata(&w.pubkey()));
                    f.refund(w, &keys).unwrap();
                    prop_assert_eq!(f.h.token_balance(&f.native_ata(&w.pubkey())) - before, expected_paid[i]);
                }
                prop_assert_eq!(f.h.token_balance(&keys.raise), 0);
            }
            other => prop_assert!(false, "unexpected stage {:?}", other),
        }
        prop_assert_eq!(native_total(&f, &keys, &wallets), total, "claims and refunds conserve value");
    }
}
