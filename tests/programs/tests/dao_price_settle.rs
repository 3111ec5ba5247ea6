//! mt_treasury stage 3 end to end with the inference meter: a price change
//! passed by the model's DAO is charged by settlement only for runs served
//! from its effective time, and the revenue settlement pays in (by CPI to
//! deposit_revenue) reaches the MT depositors who claim it.

mod meter_common;
#[path = "treasury_common/mod.rs"]
mod treasury_common;

use inference_meter::events::BatchSettled;
use meter_common::*;
use mt_treasury::state::{ProposalAction, VoteChoice, MT_UNIT};
use program_tests::*;
use solana_signer::Signer;

/// The parts of an `Active` that a `MeterFixture` does not hold.
struct Rest {
    creator: solana_keypair::Keypair,
    keys: treasury_common::ModelKeys,
    holders: Vec<solana_keypair::Keypair>,
}

/// The same chain seen through the meter's fixture (its meter created on first use).
fn to_meter(d: treasury_common::Active, init: bool) -> (MeterFixture, Rest) {
    let treasury_common::Active { f, creator, keys, holders } = d;
    let treasury_common::Fixture { h, admin, native_mint, native_program } = f;
    let m = if init { MeterFixture::on(h, admin, native_mint, native_program) } else { MeterFixture::without_meter(h, admin, native_mint, native_program) };
    (m, Rest { creator, keys, holders })
}

fn to_active(m: MeterFixture, r: Rest) -> treasury_common::Active {
    let MeterFixture { h, admin, mint, token_program, .. } = m;
    let f = treasury_common::Fixture { h, admin, native_mint: mint, native_program: token_program };
    treasury_common::Active { f, creator: r.creator, keys: r.keys, holders: r.holders }
}

#[test]
fn a_governance_price_change_is_charged_only_for_runs_served_after_it_takes_effect() {
    // The standard model (10 / 30 per 1k tokens); a node and a funded escrow.
    let d = treasury_common::Active::standard();
    let (mut m, rest) = to_meter(d, true);
    let node = m.register_node();
    let user = m.wallet(100 * NATIVE);
    let escrow = m.open_escrow(&user);
    m.fund(&user, &escrow, &node.node, 100 * NATIVE).unwrap();
    let registered = m.now();

    // a deposits 15 000 MT, warms up, and the DAO passes a price change.
    let mut d = to_active(m, rest);
    let a = d.holders[0].insecure_clone();
    d.deposit_mt(&a, 15_000 * MT_UNIT).unwrap();
    d.warm_up(&[&a]);
    let index = d.propose(&a, ProposalAction::SetPrice { input_per_1k: 40, output_per_1k: 70 }).unwrap();
    d.vote(&a, index, VoteChoice::Yes).unwrap();
    d.warp_to_voting_end(index);
    d.finalize_proposal(&a, index).unwrap();
    d.warp(d.proposal(index).execute_after);
    d.execute_proposal(&a, index).unwrap();
    let executed = d.now();
    let effective = d.model().pricing.effective_at;
    assert_eq!(effective, executed + d.model().governance.hold_up_secs);
    d.warp(effective + 10);

    // Three runs of 1 000 input and 1 000 output tokens each: before the
    // vote executed, one second before the switch, and at the switch.
    let (mut m, rest) = to_meter(d, false);
    let model = rest.keys.model;
    let (revenue_vault, _) = model_vaults(&model);
    let runs = vec![
        Run::one(escrow, model, 1, 1_000, 1_000, registered.max(executed - 600)),
        Run::one(escrow, model, 1, 1_000, 1_000, effective - 1),
        Run::one(escrow, model, 1, 1_000, 1_000, effective),
    ];
    let revenue_before = m.balance(&revenue_vault);
    let ev: BatchSettled = event(&m.settle(&node, 1, &runs).expect("settle"));
    assert_eq!(ev.cost, 40 + 40 + 110, "old price twice (10 + 30), the new one once (40 + 70)");
    assert_eq!(ev.charged, 190);
    let credit = &ev.models[0];
    assert_eq!(credit.model, model);
    let to_depositors = credit.revenue * 7_000 / 10_000;
    assert_eq!(m.balance(&revenue_vault) - revenue_before, to_depositors, "a's MT earns its 70 %");

    // a is the only earning depositor: the settled revenue is theirs to claim.
    let mut d = to_active(m, rest);
    let before = d.f.h.token_balance(&d.native_ata(&a.pubkey()));
    d.claim_rewards(&a).unwrap();
    let got = d.f.h.token_balance(&d.native_ata(&a.pubkey())) - before;
    assert!(got <= to_depositors && to_depositors - got <= 1, "claimed {got} of {to_depositors}");
}
