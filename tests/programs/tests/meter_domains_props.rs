//! Domain settlement properties over random fees, prices, lanes and batches:
//! the escrow vault's debit arrives to the base unit at the protocol, the
//! domain, the node operator and the models; the protocol's share is the
//! reference's (rounded up), the domain's is floor(operator cut × fee); the
//! node's own lane on the same escrows is never touched.

mod domain_common;
mod meter_common;

use std::collections::BTreeMap;

use domain_common::*;
use inference_meter::events::BatchSettled;
use inference_meter::instructions::{CreateDomainArgs, InitMeterArgs};
use meter_common::*;
use mt_treasury::state::QueryPricing;
use program_tests::*;
use proptest::prelude::*;
use solana_signer::Signer;

#[derive(Debug, Clone)]
struct Case {
    fee_bps: u16,
    op_bps: u16,
    domain_fee_bps: u16,
    prices: Vec<(u64, u64)>,
    lanes: Vec<u64>,
    /// (escrow, model, runs, input, output)
    runs: Vec<(usize, usize, u64, u64, u64)>,
}

fn case() -> impl Strategy<Value = Case> {
    (0u16..=3_000, 0u16..=7_000, 0u16..=10_000, proptest::collection::vec((0u64..5_000, 0u64..9_000), 1..=3), proptest::collection::vec(0u64..3_000_000, 1..=3))
        .prop_flat_map(|(fee_bps, op_bps, domain_fee_bps, prices, lanes)| {
            let (m, e) = (prices.len(), lanes.len());
            let runs = proptest::collection::vec((0..e, 0..m, 1u64..50, 0u64..500_000, 0u64..200_000), 1..=12);
            (Just(fee_bps), Just(op_bps), Just(domain_fee_bps), Just(prices), Just(lanes), runs)
        })
        .prop_map(|(fee_bps, op_bps, domain_fee_bps, prices, lanes, runs)| Case { fee_bps, op_bps, domain_fee_bps, prices, lanes, runs })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_domain_batch_splits_every_base_unit(c in case()) {
        let mut f = MeterFixture::new();
        let admin = f.admin.insecure_clone();
        let ix = f.update_meter_ix(&admin.pubkey(), InitMeterArgs { settlement_fee_bps: c.fee_bps, operator_share_bps: c.op_bps, ..MeterFixture::params() });
        f.h.execute(&[ix], &[&admin]).expect("update_meter");
        let d = f.create_domain_with(CreateDomainArgs { fee_bps: c.domain_fee_bps, ..terms("prop") });
        let node = f.register_node();
        f.join_and_admit(&node, &d);
        let models: Vec<ModelKeys> = c.prices.iter().map(|(i, o)| f.fixture_model(flat_price(*i, *o), 5_000, 0)).collect();
        let mut escrows = Vec::new();
        for lane in &c.lanes {
            let owner = f.wallet(lane + 1_000);
            let escrow = f.open_escrow(&owner);
            f.fund_domain(&owner, &escrow, &d.domain, *lane).expect("fund the domain lane");
            f.fund(&owner, &escrow, &node.node, 1_000).expect("fund the node lane");
            escrows.push(escrow);
        }
        f.h.warp_to(f.now() + 5);
        let now = f.now();
        let runs: Vec<Run> = c.runs.iter().map(|(e, m, n, i, o)| Run::one(escrows[*e], models[*m].model, *n, *i, *o, now)).collect();
        let prices: BTreeMap<Pubkey, QueryPricing> = models.iter().map(|k| (k.model, f.model(k).pricing)).collect();
        let mut views: BTreeMap<Pubkey, EscrowView> = escrows.iter().map(|e| (*e, EscrowView::lane(&f.escrow(e), &d.domain))).collect();
        let want = expected(&runs, &mut views, &prices, c.fee_bps, c.op_bps);

        let mut watched = vec![escrow_vault(), fee_vault(), d.operator_account, node.operator_account];
        watched.extend(models.iter().flat_map(|k| [k.revenue, k.treasury]));
        let before: Vec<u64> = watched.iter().map(|a| f.balance(a)).collect();
        let ev: BatchSettled = event(&f.settle_domain(&node, &d, 1, &runs).expect("settle"));
        let after: Vec<u64> = watched.iter().map(|a| f.balance(a)).collect();
        let gained = |i: usize| after[i] - before[i];

        let debited = before[0] - after[0];
        prop_assert_eq!(debited, ev.charged);
        prop_assert_eq!(debited, (1..watched.len()).map(gained).sum::<u64>());
        prop_assert_eq!(ev.charged, ev.to_protocol + ev.to_domain + ev.to_operator + ev.to_models);
        prop_assert_eq!((ev.cost, ev.charged, ev.to_protocol), (want.cost, want.charged, want.to_protocol));
        let to_domain = (want.to_operator as u128 * c.domain_fee_bps as u128 / 10_000) as u64;
        prop_assert_eq!((ev.to_domain, ev.to_operator), (to_domain, want.to_operator - to_domain));
        prop_assert_eq!((gained(1), gained(2), gained(3)), (ev.to_protocol, ev.to_domain, ev.to_operator));
        for e in &escrows {
            prop_assert_eq!(f.lane(e, &d.domain).balance, views[e].balance);
            prop_assert_eq!(f.lane(e, &node.node).balance, 1_000, "the node lane is not the domain's");
        }
    }
}
