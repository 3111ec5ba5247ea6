//! inference_meter settlement properties over random batches: what leaves
//! the escrows arrives, to the base unit, in the fee vault, the operator's
//! account and the models' vaults; no escrow goes below zero; the program
//! agrees with an independent reference of the arithmetic.

mod meter_common;

use std::collections::BTreeMap;

use inference_meter::events::BatchSettled;
use inference_meter::instructions::InitMeterArgs;
use meter_common::*;
use mt_treasury::state::QueryPricing;
use program_tests::*;
use proptest::prelude::*;
use solana_signer::Signer;

#[derive(Debug, Clone)]
struct ModelSpec {
    price: (u64, u64, u64, u64),
    /// Seconds after the start at which the current price takes effect.
    switch_after: i64,
    depositor_share_bps: u16,
    deposited: u64,
}

#[derive(Debug, Clone)]
struct EscrowSpec {
    balance: u64,
    spend_limit: Option<u64>,
}

#[derive(Debug, Clone)]
struct RunSpec {
    escrow: usize,
    /// (model index, raw weight); normalised to 10 000 bps.
    models: Vec<(usize, u16)>,
    runs: u64,
    input: u64,
    output: u64,
    age: i64,
}

fn model_spec() -> impl Strategy<Value = ModelSpec> {
    (
        (0u64..2_000, 0u64..6_000, 0u64..2_000, 0u64..6_000),
        0i64..200,
        0u16..=10_000,
        prop_oneof![Just(0u64), 1u64..1_000_000_000],
    )
        .prop_map(|(price, switch_after, depositor_share_bps, deposited)| ModelSpec { price, switch_after, depositor_share_bps, deposited })
}

fn escrow_spec() -> impl Strategy<Value = EscrowSpec> {
    (prop_oneof![Just(0u64), 1u64..1_000, 1_000u64..100_000_000], proptest::option::of(1u64..50_000))
        .prop_map(|(balance, spend_limit)| EscrowSpec { balance, spend_limit })
}

fn run_spec(models: usize, escrows: usize) -> impl Strategy<Value = RunSpec> {
    (
        0..escrows,
        proptest::sample::subsequence((0..models).collect::<Vec<_>>(), 1..=models.min(3)),
        proptest::collection::vec(1u16..1_000, 3),
        1u64..500,
        prop_oneof![0u64..2_000, 0u64..5_000_000],
        prop_oneof![0u64..2_000, 0u64..1_000_000],
        0i64..300,
    )
        .prop_map(|(escrow, chosen, raw, runs, input, output, age)| RunSpec {
            escrow,
            models: chosen.into_iter().zip(raw).collect(),
            runs,
            input,
            output,
            age,
        })
}

/// Weights in bps summing to exactly 10 000, each at least 1.
fn normalise(raw: &[(usize, u16)]) -> Vec<(usize, u16)> {
    let total: u64 = raw.iter().map(|(_, w)| *w as u64).sum();
    let mut out: Vec<(usize, u16)> = raw.iter().map(|(m, w)| (*m, ((*w as u64 * 10_000 / total).max(1)) as u16)).collect();
    let sum: i64 = out.iter().map(|(_, w)| *w as i64).sum();
    let last = out.last_mut().unwrap();
    last.1 = (last.1 as i64 + 10_000 - sum) as u16;
    out
}

fn scenario() -> impl Strategy<Value = (Vec<ModelSpec>, Vec<EscrowSpec>, u16, u16, Vec<Vec<RunSpec>>)> {
    (proptest::collection::vec(model_spec(), 1..=4), proptest::collection::vec(escrow_spec(), 1..=6), 0u16..=3_000, 0u16..=7_000)
        .prop_flat_map(|(models, escrows, fee, op)| {
            let (m, e) = (models.len(), escrows.len());
            let batches = proptest::collection::vec(proptest::collection::vec(run_spec(m, e), 1..=16), 1..=3);
            (Just(models), Just(escrows), Just(fee), Just(op), batches)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn settlement_conserves_value_and_never_overdraws((models, escrows, fee_bps, op_bps, batches) in scenario()) {
        let mut f = MeterFixture::new();
        let admin = f.admin.insecure_clone();
        let ix = f.update_meter_ix(&admin.pubkey(), InitMeterArgs { settlement_fee_bps: fee_bps, operator_share_bps: op_bps, ..MeterFixture::params() });
        f.h.execute(&[ix], &[&admin]).expect("update_meter");
        let node = f.register_node();
        let start = f.now();
        let keys: Vec<ModelKeys> = models.iter().map(|m| {
            let pricing = QueryPricing { input_per_1k: m.price.0, output_per_1k: m.price.1, previous_input_per_1k: m.price.2, previous_output_per_1k: m.price.3, effective_at: start + m.switch_after };
            f.fixture_model(pricing, m.depositor_share_bps, m.deposited)
        }).collect();
        let mut escrow_keys = Vec::new();
        let mut unallocated = BTreeMap::new();
        for spec in &escrows {
            let owner = f.wallet(spec.balance);
            let escrow = f.open_escrow_with(&owner, None, spec.spend_limit);
            if spec.balance > 0 {
                f.deposit(&owner, &escrow, spec.balance).expect("deposit");
            }
            // The lanes may hold at most what the spend limit still allows;
            // the rest stays unallocated.
            let lane = spec.spend_limit.map_or(spec.balance, |limit| spec.balance.min(limit));
            f.allow(&owner, &escrow, &node.node, lane).expect("allow");
            unallocated.insert(escrow, spec.balance - lane);
            escrow_keys.push(escrow);
        }
        let prices: BTreeMap<Pubkey, QueryPricing> = keys.iter().map(|k| (k.model, f.model(k).pricing)).collect();
        let mut views: BTreeMap<Pubkey, EscrowView> = escrow_keys.iter().map(|e| (*e, EscrowView::lane(&f.escrow(e), &node.node))).collect();
        let mut watched: Vec<Pubkey> = vec![escrow_vault(), fee_vault(), node.operator_account];
        watched.extend(keys.iter().flat_map(|k| [k.revenue, k.treasury]));
        let total = |f: &MeterFixture| watched.iter().map(|a| f.balance(a) as u128).sum::<u128>();
        let initial_total = total(&f);

        f.h.warp_to(start + 300);
        for (i, batch) in batches.iter().enumerate() {
            let now = f.now();
            let runs: Vec<Run> = batch.iter().map(|r| Run {
                escrow: escrow_keys[r.escrow],
                shares: normalise(&r.models).into_iter().map(|(m, w)| (keys[m].model, w)).collect(),
                runs: r.runs,
                input_tokens: r.input,
                output_tokens: r.output,
                served_at: now - r.age,
            }).collect();
            let want = expected(&runs, &mut views, &prices, fee_bps, op_bps);
            let before: Vec<u64> = watched.iter().map(|a| f.balance(a)).collect();
            let meta = f.settle(&node, i as u64 + 1, &runs).expect("settle");
            let after: Vec<u64> = watched.iter().map(|a| f.balance(a)).collect();
            let ev: BatchSettled = event(&meta);

            // Debited = credited, to the base unit.
            let debited = before[0] - after[0];
            let credited: u64 = after[1..].iter().zip(&before[1..]).map(|(a, b)| a - b).sum();
            prop_assert_eq!(debited, credited);
            prop_assert_eq!(debited, ev.charged);
            prop_assert_eq!(ev.charged, ev.to_protocol + ev.to_operator + ev.to_models);
            prop_assert_eq!(ev.cost, ev.charged + ev.shortfall);
            prop_assert_eq!(after[1] - before[1], ev.to_protocol);
            prop_assert_eq!(after[2] - before[2], ev.to_operator);
            // The program agrees with the reference.
            prop_assert_eq!((ev.cost, ev.charged, ev.to_protocol, ev.to_operator), (want.cost, want.charged, want.to_protocol, want.to_operator));
            for (k, chunk) in keys.iter().zip(after[3..].chunks(2).zip(before[3..].chunks(2))) {
                let got = chunk.0[0] + chunk.0[1] - chunk.1[0] - chunk.1[1];
                prop_assert_eq!(got, want.model_revenue.get(&k.model).copied().unwrap_or(0));
            }
            // No escrow below zero or over its limit; the vault holds exactly the balances.
            let mut sum = 0u64;
            for (e, view) in &views {
                let onchain = f.escrow(e);
                let lane = onchain.lanes[onchain.lane_index(&node.node).unwrap()];
                prop_assert_eq!(lane.balance, view.balance);
                prop_assert_eq!(onchain.balance, unallocated[e], "nothing unallocated was touched");
                if let Some(limit) = onchain.spend_limit {
                    prop_assert!(onchain.spent <= limit);
                }
                sum += lane.balance + onchain.balance;
            }
            prop_assert_eq!(f.balance(&escrow_vault()), sum);
        }
        prop_assert_eq!(total(&f), initial_total);
    }
}
