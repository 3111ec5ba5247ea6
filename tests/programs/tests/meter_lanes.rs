//! inference_meter lanes: an escrow's money is spendable only by the nodes
//! its owner allowed, each up to its own lane. The audit's drain attack, the
//! bound on a compromised keeper key, two nodes on one escrow, and each lane
//! rule with its named error.

mod meter_common;

use anchor_lang::error::ErrorCode as AnchorError;
use inference_meter::errors::MeterError;
use inference_meter::events::BatchSettled;
use inference_meter::state::MAX_LANES;
use meter_common::*;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Setup {
    f: MeterFixture,
    model: ModelKeys,
    /// The node the victim uses.
    node: NodeKeys,
    owner: Keypair,
    escrow: Pubkey,
}

/// A victim with 10 native in an escrow, 1 of it in a lane to `node`.
fn setup() -> Setup {
    let mut f = MeterFixture::new();
    let model = f.fixture_model(flat_price(10, 30), 5_000, 0);
    let node = f.register_node();
    let owner = f.wallet(10 * NATIVE);
    let escrow = f.open_escrow(&owner);
    f.deposit(&owner, &escrow, 10 * NATIVE).expect("deposit");
    f.allow(&owner, &escrow, &node.node, NATIVE).expect("allow");
    Setup { f, model, node, owner, escrow }
}

#[test]
fn a_node_without_a_lane_cannot_drain_someone_elses_escrow() {
    // The audit's critical attack: a node registered with the minimum stake
    // settles one huge entry against a victim's escrow it never served.
    let mut s = setup();
    let attacker = s.f.register_node();
    let vault = s.f.balance(&escrow_vault());
    let huge = vec![Run::one(s.escrow, s.model.model, 1, 0, 1_000_000_000_000, s.f.now())];
    assert_error(&s.f.settle(&attacker, 1, &huge), MeterError::NoLaneForNode);
    let e = s.f.escrow(&s.escrow);
    assert_eq!((e.balance, e.lanes[0].balance, e.spent), (9 * NATIVE, NATIVE, 0));
    assert_eq!(s.f.balance(&escrow_vault()), vault);
    assert_eq!(s.f.balance(&attacker.operator_account), 0);
}

#[test]
fn a_compromised_keeper_key_takes_at_most_the_lanes_opened_to_its_node() {
    let mut s = setup();
    // A second escrow of someone else, with no lane to this node.
    let bystander = s.f.wallet(5 * NATIVE);
    let other = s.f.open_escrow(&bystander);
    let other_node = s.f.register_node();
    s.f.fund(&bystander, &other, &other_node.node, 5 * NATIVE).expect("fund");
    // With the keeper key, the worst is one absurd entry on every escrow
    // that has a lane to the node: the lane is emptied, nothing else.
    let now = s.f.now();
    let huge = vec![Run::one(s.escrow, s.model.model, 1, 0, 1_000_000_000_000, now)];
    let meta = s.f.settle(&s.node, 1, &huge).expect("settles against its lane");
    let ev: BatchSettled = event(&meta);
    assert_eq!(ev.charged, NATIVE, "exactly the lane");
    assert_eq!(s.f.lane(&s.escrow, &s.node.node).balance, 0);
    assert_eq!(s.f.escrow(&s.escrow).balance, 9 * NATIVE, "unallocated money is out of reach");
    // Other escrows are out of reach too, even in the same batch.
    let both = vec![Run::one(s.escrow, s.model.model, 1, 0, 1, now), Run::one(other, s.model.model, 1, 0, 1_000_000_000_000, now)];
    assert_error(&s.f.settle(&s.node, 2, &both), MeterError::NoLaneForNode);
    assert_eq!(s.f.lane(&other, &other_node.node).balance, 5 * NATIVE);
}

#[test]
fn two_nodes_on_one_escrow_each_spend_only_their_own_lane() {
    // Each node can be charged at most its lane, so however the two serve,
    // together they never take more than the owner allowed, and one node's
    // spending never leaves the other with less than it admitted against.
    let mut s = setup();
    let second = s.f.register_node();
    let owner = s.owner.insecure_clone();
    s.f.allow(&owner, &s.escrow, &second.node, 2 * NATIVE).expect("allow the second node");
    let now = s.f.now();
    // Both serve at full load: each settles more than its lane is worth.
    let lots = |e| vec![Run::one(e, s.model.model, 50, 0, 1_000_000_000, now)];
    let first = s.f.settle(&s.node, 1, &lots(s.escrow)).expect("first node");
    let first: BatchSettled = event(&first);
    let other = s.f.settle(&second, 1, &lots(s.escrow)).expect("second node");
    let other: BatchSettled = event(&other);
    assert_eq!((first.charged, other.charged), (NATIVE, 2 * NATIVE));
    let e = s.f.escrow(&s.escrow);
    assert_eq!(e.balance, 7 * NATIVE, "the rest was never in a lane");
    assert_eq!(e.spent, 3 * NATIVE);
    assert_eq!(s.f.balance(&escrow_vault()), 7 * NATIVE);
}

#[test]
fn only_the_owner_allows_and_only_from_unallocated_money() {
    let mut s = setup();
    let thief = s.f.wallet(0);
    let ix = s.f.allow_ix(&thief.pubkey(), &s.escrow, &s.node.node, 1);
    assert_error(&s.f.h.execute(&[ix], &[&thief]), AnchorError::ConstraintHasOne);
    let mut ix = s.f.allow_ix(&s.owner.pubkey(), &s.escrow, &s.node.node, 1);
    ix.accounts[0].is_signer = false;
    assert_error(&s.f.h.execute(&[ix], &[&thief]), AnchorError::AccountNotSigner);
    let owner = s.owner.insecure_clone();
    assert_error(&s.f.allow(&owner, &s.escrow, &s.node.node, 9 * NATIVE + 1), MeterError::InsufficientBalance);
    s.f.allow(&owner, &s.escrow, &s.node.node, 9 * NATIVE).expect("all of it");
    let e = s.f.escrow(&s.escrow);
    assert_eq!((e.balance, e.lanes.len(), e.lanes[0].balance), (0, 1, 10 * NATIVE), "one lane per node");
}

#[test]
fn a_lane_is_only_for_a_registered_node() {
    let mut s = setup();
    let owner = s.owner.insecure_clone();
    // An address that is not a node account (the operator's wallet, an escrow).
    for not_a_node in [s.node.operator.pubkey(), s.escrow] {
        let res = s.f.allow(&owner, &s.escrow, &not_a_node, 1);
        assert!(res.is_err(), "lane to {not_a_node} accepted");
    }
    assert_eq!(s.f.escrow(&s.escrow).lanes.len(), 1);
}

#[test]
fn an_escrow_has_at_most_eight_lanes() {
    let mut s = setup();
    let owner = s.owner.insecure_clone();
    for _ in 1..MAX_LANES {
        let n = s.f.register_node();
        s.f.allow(&owner, &s.escrow, &n.node, 1).expect("allow");
    }
    let ninth = s.f.register_node();
    assert_error(&s.f.allow(&owner, &s.escrow, &ninth.node, 1), MeterError::TooManyLanes);
    // Topping up an existing lane still works.
    s.f.allow(&owner, &s.escrow, &s.node.node, 1).expect("top up");
}

#[test]
fn revoking_waits_the_notice_lets_served_runs_settle_and_returns_the_rest() {
    let mut s = setup();
    let owner = s.owner.insecure_clone();
    let node = s.node.node;
    let revoke = |f: &mut MeterFixture| {
        let ix = f.revoke_ix(&owner.pubkey(), &s.escrow, node);
        f.h.execute(&[ix], &[&owner])
    };
    assert_error(&revoke(&mut s.f), MeterError::RevokeNotRequested);
    let stranger = s.f.register_node();
    let ix = s.f.request_revoke_ix(&owner.pubkey(), &s.escrow, stranger.node);
    assert_error(&s.f.h.execute(&[ix], &[&owner]), MeterError::LaneNotFound);
    let thief = s.f.wallet(0);
    let ix = s.f.request_revoke_ix(&thief.pubkey(), &s.escrow, node);
    assert_error(&s.f.h.execute(&[ix], &[&thief]), AnchorError::ConstraintHasOne);

    let served = s.f.now();
    let ix = s.f.request_revoke_ix(&owner.pubkey(), &s.escrow, node);
    s.f.h.execute(&[ix], &[&owner]).expect("request");
    assert_eq!(s.f.lane(&s.escrow, &node).revoke_requested_at, served);
    // A run served before the request settles during the notice.
    s.f.h.warp_to(served + NOTICE - 1);
    s.f.settle(&s.node, 1, &[Run::one(s.escrow, s.model.model, 1, 1_000, 0, served)]).expect("settles during notice");
    assert_error(&revoke(&mut s.f), MeterError::RevokeNoticeNotElapsed);
    s.f.h.warp_to(served + NOTICE);
    revoke(&mut s.f).expect("revoke at the end of the notice");
    let e = s.f.escrow(&s.escrow);
    assert!(e.lanes.is_empty());
    assert_eq!(e.balance, 10 * NATIVE - 10, "the lane's rest is back, unallocated");
    // The node can no longer charge the escrow.
    let res = s.f.settle(&s.node, 2, &[Run::one(s.escrow, s.model.model, 1, 1_000, 0, served)]);
    assert_error(&res, MeterError::NoLaneForNode);
}

#[test]
fn allowing_again_cancels_a_pending_revocation() {
    let mut s = setup();
    let owner = s.owner.insecure_clone();
    let ix = s.f.request_revoke_ix(&owner.pubkey(), &s.escrow, s.node.node);
    s.f.h.execute(&[ix], &[&owner]).expect("request");
    s.f.allow(&owner, &s.escrow, &s.node.node, 0).expect("allow again");
    assert_eq!(s.f.lane(&s.escrow, &s.node.node).revoke_requested_at, 0);
    s.f.h.warp_to(s.f.now() + NOTICE);
    let ix = s.f.revoke_ix(&owner.pubkey(), &s.escrow, s.node.node);
    assert_error(&s.f.h.execute(&[ix], &[&owner]), MeterError::RevokeNotRequested);
}

#[test]
fn lanes_stay_within_the_spend_limit_so_the_limit_never_cuts_a_lane_short() {
    // Without this rule two lanes of 1 under a limit of 1.5 would let both
    // nodes admit 1 each, and the second to settle would find the limit
    // spent: unpaid work, the two-keeper over-serve again.
    let mut f = MeterFixture::new();
    let model = f.fixture_model(flat_price(10, 30), 5_000, 0);
    let (a, b) = (f.register_node(), f.register_node());
    let owner = f.wallet(10 * NATIVE);
    let escrow = f.open_escrow_with(&owner, None, Some(3 * NATIVE / 2));
    f.deposit(&owner, &escrow, 10 * NATIVE).expect("deposit");
    f.allow(&owner, &escrow, &a.node, NATIVE).expect("lane a");
    assert_error(&f.allow(&owner, &escrow, &b.node, NATIVE / 2 + 1), MeterError::LanesExceedSpendLimit);
    f.allow(&owner, &escrow, &b.node, NATIVE / 2).expect("lane b, exactly the room left");
    assert_error(&f.allow(&owner, &escrow, &a.node, 1), MeterError::LanesExceedSpendLimit);
    // Both nodes take all their lane holds: nothing is cut short by the limit.
    let now = f.now();
    for (node, lane) in [(&a, NATIVE), (&b, NATIVE / 2)] {
        let meta = f.settle(node, 1, &[Run::one(escrow, model.model, 1, 0, 1_000_000_000, now)]).expect("settle");
        let ev: BatchSettled = event(&meta);
        assert_eq!(ev.charged, lane);
    }
    assert_eq!(f.escrow(&escrow).spent, 3 * NATIVE / 2);
}
