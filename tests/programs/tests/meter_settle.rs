//! inference_meter settlement: money moves from escrows to the protocol, the
//! node operator and the models exactly once, to the base unit.

mod meter_common;
#[path = "treasury_common/mod.rs"]
mod treasury_common;

use std::collections::BTreeMap;

use inference_meter::errors::MeterError;
use inference_meter::events::BatchSettled;
use meter_common::*;
use mt_treasury::state::QueryPricing;
use program_tests::*;
use solana_signer::Signer;

/// A: 10 / 30 per 1k, launched and raised for real; no MT deposited yet,
///    so all its revenue goes to its treasury.
/// B: launched and raised for real at 2 / 6 per 1k; a switch to 4 / 12 at
///    `switch` is then scheduled by rewriting its pricing (governance, which
///    will do this on chain, is not built yet).
/// C: a fixture Model at 5 / 5 per 1k, 70% to depositors, with MT deposited
///    (deposits are not built yet either).
struct World {
    f: MeterFixture,
    a: ModelKeys,
    b: ModelKeys,
    c: ModelKeys,
    switch: i64,
    node: NodeKeys,
}

/// Launches a model with `price` and raises its soft cap: launch, token,
/// vaults, two contributions, finalisation at the end of the window.
fn launch_active(tf: &mut treasury_common::Fixture, price: mt_treasury::instructions::QueryPrice) -> ModelKeys {
    let creator = tf.creator();
    let mut terms = treasury_common::default_terms(tf.now());
    terms.price = price;
    let keys = tf.launch_with(&creator, terms);
    tf.warp_to_start(&keys);
    for amount in [30_000 * treasury_common::NATIVE, 10_000 * treasury_common::NATIVE] {
        let backer = tf.wallet(amount);
        tf.contribute(&backer, &keys, amount).expect("contribute");
    }
    tf.warp_to_end(&keys);
    let payer = tf.wallet(0);
    tf.finalize(&payer, &keys).expect("finalize_raise");
    assert_eq!(tf.model(&keys).stage, mt_treasury::state::Stage::Active);
    ModelKeys { id: keys.id, model: keys.model, revenue: keys.revenue, treasury: keys.treasury }
}

fn world() -> World {
    use mt_treasury::instructions::QueryPrice;
    let mut tf = treasury_common::Fixture::new();
    let a = launch_active(&mut tf, QueryPrice { input_per_1k: 10, output_per_1k: 30 });
    let b = launch_active(&mut tf, QueryPrice { input_per_1k: 2, output_per_1k: 6 });
    let treasury_common::Fixture { h, admin, native_mint, native_program } = tf;
    let mut f = MeterFixture::on(h, admin, native_mint, native_program);
    let switch = f.now() + 1_000;
    f.update_model(&b, |m| {
        m.pricing = QueryPricing { input_per_1k: 4, output_per_1k: 12, previous_input_per_1k: 2, previous_output_per_1k: 6, effective_at: switch }
    });
    let c = f.fixture_model(flat_price(5, 5), 7_000, 1_000_000);
    let node = f.register_node();
    World { f, a, b, c, switch, node }
}

fn prices(w: &World) -> BTreeMap<Pubkey, QueryPricing> {
    [w.a, w.b, w.c].iter().map(|k| (k.model, w.f.model(k).pricing)).collect()
}

#[test]
fn settles_batches_across_models_and_escrows_exactly_then_the_owner_withdraws_after_notice() {
    let mut w = world();
    let t0 = w.f.now();
    let alice = w.f.wallet(100 * NATIVE);
    let bob = w.f.wallet(10 * NATIVE);
    let dave = w.f.wallet(NATIVE);
    let carol = w.f.wallet(NATIVE);
    let alice_escrow = w.f.open_escrow(&alice);
    let bob_escrow = w.f.open_escrow_with(&bob, Some(vec![w.a.id, w.b.id]), Some(2_000));
    let dave_escrow = w.f.open_escrow(&dave);
    let carol_escrow = w.f.open_escrow(&carol);
    w.f.fund(&alice, &alice_escrow, &w.node.node, 100 * NATIVE).expect("deposit alice");
    // Bob's lane holds what his spend limit allows; the rest stays unallocated.
    w.f.deposit(&bob, &bob_escrow, 10 * NATIVE).expect("deposit bob");
    w.f.allow(&bob, &bob_escrow, &w.node.node, 2_000).expect("allow bob");
    w.f.fund(&dave, &dave_escrow, &w.node.node, NATIVE).expect("deposit dave");
    w.f.fund(&carol, &carol_escrow, &w.node.node, 50).expect("deposit carol");
    assert_eq!(w.f.balance(&escrow_vault()), 111 * NATIVE + 50);
    assert_eq!(w.f.lane(&alice_escrow, &w.node.node).balance, 100 * NATIVE);

    let (a, b, c) = (w.a.model, w.b.model, w.c.model);
    // The fee vault already holds launch fees and raise fees.
    let fee_vault_start = w.f.balance(&fee_vault());
    let watched = [w.node.operator_account, w.a.revenue, w.a.treasury, w.b.revenue, w.b.treasury, w.c.revenue, w.c.treasury];

    // Batch 1, worked by hand.
    let batch1 = vec![
        Run::one(alice_escrow, a, 3, 1_500, 700, t0), // A: ceil(36 000 / 1 000) = 36
        Run { escrow: alice_escrow, shares: vec![(a, 6_000), (b, 4_000)], runs: 1, input_tokens: 2_000, output_tokens: 1_000, served_at: t0 }, // A 30 + B (old price) 4
        Run::one(bob_escrow, b, 5, 333, 333, t0),   // B old price: ceil(2.664) = 3
        Run::one(dave_escrow, c, 2, 1_000, 1_000, t0), // C: 10
    ];
    let before = w.f.snapshot(&watched);
    let meta = w.f.settle(&w.node, 1, &batch1).expect("batch 1");
    let ev: BatchSettled = event(&meta);
    assert_eq!((ev.batch_seq, ev.entries, ev.runs, ev.input_tokens, ev.output_tokens), (1, 4, 11, 4_833, 3_033));
    assert_eq!((ev.cost, ev.charged, ev.shortfall), (83, 83, 0));
    // A 66 → 1 fee, 13 operator, 52 model; B 7 → 1, 1, 5; C 10 → 1, 2, 7.
    assert_eq!((ev.to_protocol, ev.to_operator, ev.to_models), (3, 16, 64));
    assert_eq!(ev.receipts_root, [1u8; 32]);
    let after = w.f.snapshot(&watched);
    let delta = |k: &Pubkey| after[k] as i128 - before[k] as i128;
    assert_eq!(delta(&escrow_vault()), -83);
    assert_eq!(delta(&fee_vault()), 3);
    assert_eq!(delta(&w.node.operator_account), 16);
    assert_eq!((delta(&w.a.revenue), delta(&w.a.treasury)), (0, 52), "no MT deposited: all to the treasury");
    assert_eq!((delta(&w.b.revenue), delta(&w.b.treasury)), (0, 5));
    assert_eq!((delta(&w.c.revenue), delta(&w.c.treasury)), (4, 3), "70% of 7 to depositors, rounded down");
    assert_eq!(w.f.lane(&alice_escrow, &w.node.node).balance, 100 * NATIVE - 70);
    assert_eq!(w.f.lane(&bob_escrow, &w.node.node).balance, 2_000 - 3);
    assert_eq!(w.f.lane(&dave_escrow, &w.node.node).balance, NATIVE - 10);
    assert_eq!(w.f.model(&w.a).revenue.total_revenue, 52);
    assert_eq!(w.f.model(&w.a).revenue.treasury_revenue, 52);

    // Batches 2 and 3, checked against the reference arithmetic: runs on both
    // sides of B's price switch, large token counts, bob reaching his spend
    // limit, carol running out of balance.
    let mut views: BTreeMap<Pubkey, EscrowView> =
        [alice_escrow, bob_escrow, dave_escrow, carol_escrow].iter().map(|e| (*e, EscrowView::lane(&w.f.escrow(e), &w.node.node))).collect();
    w.f.h.warp_to(w.switch + 5);
    // Runs on both sides of B's price switch pay different prices:
    // 40 runs at 2 / 6 per 1k, 7 runs at 4 / 12 per 1k.
    let batch2 = vec![
        Run::one(alice_escrow, b, 40, 123_456, 65_432, w.switch - 1), // ceil(639.264) = 640
        Run::one(alice_escrow, b, 7, 123_456, 65_432, w.switch),      // ceil(1 279.008) = 1 280
    ];
    let batch3 = vec![
        Run { escrow: alice_escrow, shares: vec![(a, 3_333), (b, 3_333), (c, 3_334)], runs: 9, input_tokens: 987_654, output_tokens: 3_210, served_at: w.switch + 2 },
        Run::one(bob_escrow, a, 12, 1_234_567, 89_012, w.switch + 3),
        Run::one(dave_escrow, c, 1, 999, 1, w.switch + 5),
    ];
    let batch4 = vec![
        Run::one(carol_escrow, a, 4, 10_000, 10_000, w.switch + 5), // 400 > 50: shortfall
        Run { escrow: bob_escrow, shares: vec![(a, 5_000), (b, 5_000)], runs: 2, input_tokens: 100_000, output_tokens: 100_000, served_at: w.switch + 5 },
        Run::one(alice_escrow, c, 1, 0, 0, w.switch + 5),
    ];
    let mut total_fee = 3;
    let mut total_operator = 16;
    let mut total_models = 64;
    for (seq, batch) in [(2u64, &batch2), (3, &batch3), (4, &batch4)] {
        let want = expected(batch, &mut views, &prices(&w), FEE_BPS, OPERATOR_BPS);
        let before = w.f.snapshot(&watched);
        let meta = w.f.settle(&w.node, seq, batch).expect("settle");
        let after = w.f.snapshot(&watched);
        let ev: BatchSettled = event(&meta);
        assert_eq!((ev.cost, ev.charged, ev.to_protocol, ev.to_operator), (want.cost, want.charged, want.to_protocol, want.to_operator));
        assert_eq!(after[&escrow_vault()], before[&escrow_vault()] - want.charged);
        assert_eq!(after[&fee_vault()], before[&fee_vault()] + want.to_protocol);
        assert_eq!(after[&w.node.operator_account], before[&w.node.operator_account] + want.to_operator);
        for keys in [w.a, w.b, w.c] {
            let got = after[&keys.revenue] + after[&keys.treasury] - before[&keys.revenue] - before[&keys.treasury];
            assert_eq!(got, want.model_revenue.get(&keys.model).copied().unwrap_or(0), "model {}", keys.id);
        }
        for (escrow, view) in &views {
            assert_eq!(w.f.lane(escrow, &w.node.node).balance, view.balance);
        }
        total_fee += want.to_protocol;
        total_operator += want.to_operator;
        total_models += ev.to_models;
        if seq == 2 {
            assert_eq!((ev.cost, ev.charged), (640 + 1_280, 640 + 1_280));
        }
        if seq == 4 {
            assert_eq!(ev.shortfalls.len(), 2, "carol and bob could not pay in full: {:?}", ev.shortfalls);
            let carol_short = ev.shortfalls.iter().find(|s| s.escrow == carol_escrow).unwrap();
            assert_eq!((carol_short.entry, carol_short.cost, carol_short.charged), (0, 400, 50));
            assert_eq!(w.f.lane(&carol_escrow, &w.node.node).balance, 0);
            assert_eq!(w.f.escrow(&carol_escrow).unpaid, 350);
            assert_eq!(w.f.escrow(&bob_escrow).spent, 2_000, "bob stops at his spend limit");
        }
    }
    let node = w.f.node(&w.node.node);
    assert_eq!(node.last_batch_seq, 4);
    assert_eq!(node.counters.batches, 4);
    assert_eq!(node.counters.entries, 12);
    assert_eq!(node.counters.runs, 11 + 47 + 22 + 7);
    assert_eq!(node.counters.settled_value, total_fee + total_operator + total_models);
    assert_eq!(node.counters.shortfall_value, w.f.escrow(&carol_escrow).unpaid + w.f.escrow(&bob_escrow).unpaid);
    assert_eq!(w.f.balance(&fee_vault()), fee_vault_start + total_fee);
    assert_eq!(w.f.balance(&w.node.operator_account), total_operator);

    // The vault holds exactly the escrows' balances.
    let sum: u64 = [alice_escrow, bob_escrow, dave_escrow, carol_escrow].iter().map(|e| w.f.lane(e, &w.node.node).balance + w.f.escrow(e).balance).sum();
    assert_eq!(w.f.balance(&escrow_vault()), sum);

    // Alice takes her lane back and withdraws everything left, each after
    // the notice period and not a second before.
    let node = w.node.node;
    let ix = w.f.request_revoke_ix(&alice.pubkey(), &alice_escrow, node);
    w.f.h.execute(&[ix], &[&alice]).expect("request_revoke");
    w.f.h.warp_to(w.f.now() + NOTICE);
    let ix = w.f.revoke_ix(&alice.pubkey(), &alice_escrow, node);
    w.f.h.execute(&[ix], &[&alice]).expect("revoke_node");
    let left = w.f.escrow(&alice_escrow).balance;
    let ix = w.f.request_withdrawal_ix(&alice.pubkey(), &alice_escrow, u64::MAX);
    w.f.h.execute(&[ix], &[&alice]).expect("request_withdrawal");
    let requested_at = w.f.now();
    let wallet_before = w.f.balance(&w.f.ata(&alice.pubkey()));
    w.f.h.warp_to(requested_at + NOTICE - 1);
    let early = w.f.h.execute(&[w.f.withdraw_ix(w.f.withdraw_accounts(&alice.pubkey(), &alice_escrow))], &[&alice]);
    assert_error(&early, MeterError::WithdrawalNoticeNotElapsed);
    w.f.h.warp_to(requested_at + NOTICE);
    w.f.h.execute(&[w.f.withdraw_ix(w.f.withdraw_accounts(&alice.pubkey(), &alice_escrow))], &[&alice]).expect("withdraw");
    assert_eq!(w.f.balance(&w.f.ata(&alice.pubkey())), wallet_before + left);
    assert_eq!(w.f.escrow(&alice_escrow).balance, 0);
    assert_eq!(w.f.balance(&escrow_vault()), sum - left);
}
