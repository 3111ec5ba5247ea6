//! inference_meter: every batch settles exactly once, in order, only by the
//! current keeper key of an active, staked node.

mod meter_common;

use inference_meter::errors::MeterError;
use meter_common::*;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Setup {
    f: MeterFixture,
    node: NodeKeys,
    escrow: Pubkey,
    model: ModelKeys,
}

fn setup() -> Setup {
    let mut f = MeterFixture::new();
    let model = f.fixture_model(flat_price(10, 30), 5_000, 0);
    let node = f.register_node_with(MIN_STAKE, 500 * NATIVE);
    let user = f.wallet(NATIVE);
    let escrow = f.open_escrow(&user);
    f.fund(&user, &escrow, &node.node, NATIVE).expect("fund");
    Setup { f, node, escrow, model }
}

impl Setup {
    fn runs(&self, input_tokens: u64) -> Vec<Run> {
        vec![Run::one(self.escrow, self.model.model, 1, input_tokens, 0, self.f.now())]
    }
    fn settle(&mut self, seq: u64) -> TxResult {
        let runs = self.runs(1_000);
        self.f.settle(&self.node, seq, &runs)
    }
    fn escrow_balance(&self) -> u64 {
        self.f.lane(&self.escrow, &self.node.node).balance
    }
}

#[test]
fn the_same_batch_sent_twice_is_refused_as_already_settled() {
    let mut s = setup();
    let ix = s.f.settle_ix(&s.node, 1, &s.runs(1_000));
    let keeper = s.node.keeper.insecure_clone();
    s.f.h.execute(&[ix.clone()], &[&keeper]).expect("first send");
    let balance = s.escrow_balance();
    let vault = s.f.balance(&escrow_vault());
    // The identical instruction again, in a later block (a new signature: a keeper retry).
    let again = s.f.h.execute(&[ix], &[&keeper]);
    assert_error(&again, MeterError::BatchAlreadySettled);
    assert_eq!(s.escrow_balance(), balance, "charged once");
    assert_eq!(s.f.balance(&escrow_vault()), vault);
    assert_eq!(s.f.node(&s.node.node).last_batch_seq, 1);
    // A replay of an older sequence number is refused the same way.
    s.settle(2).expect("batch 2");
    assert_error(&s.settle(1), MeterError::BatchAlreadySettled);
    assert_error(&s.settle(0), MeterError::BatchAlreadySettled);
}

#[test]
fn a_batch_that_skips_ahead_is_refused_and_the_gap_can_still_be_filled() {
    let mut s = setup();
    assert_error(&s.settle(2), MeterError::BatchSeqGap);
    assert_error(&s.settle(u64::MAX), MeterError::BatchSeqGap);
    assert_eq!(s.escrow_balance(), NATIVE);
    s.settle(1).expect("batch 1");
    s.settle(2).expect("batch 2");
    assert_error(&s.settle(4), MeterError::BatchSeqGap);
    assert_eq!(s.f.node(&s.node.node).last_batch_seq, 2);
}

#[test]
fn a_failed_batch_does_not_consume_its_sequence_number() {
    let mut s = setup();
    // Fails inside the entries (zero runs), after the sequence check.
    let runs = vec![Run::one(s.escrow, s.model.model, 0, 1_000, 0, s.f.now())];
    assert_error(&s.f.settle(&s.node, 1, &runs), MeterError::ZeroRuns);
    assert_eq!(s.f.node(&s.node.node).last_batch_seq, 0);
    s.settle(1).expect("the same seq, fixed");
}

#[test]
fn the_old_keeper_key_cannot_settle_after_rotation() {
    let mut s = setup();
    s.settle(1).expect("batch 1 with the first key");
    let new_keeper = s.f.h.funded(1);
    let ix = s.f.set_keeper_ix(&s.node.operator.pubkey(), &s.node.node, new_keeper.pubkey());
    s.f.h.execute(&[ix], &[&s.node.operator]).expect("set_keeper_key");
    assert_error(&s.settle(2), MeterError::NotNodeKeeper);
    let old = std::mem::replace(&mut s.node.keeper, new_keeper);
    s.settle(2).expect("batch 2 with the new key");
    s.node.keeper = old;
    assert_error(&s.settle(3), MeterError::NotNodeKeeper);
}

#[test]
fn an_inactive_node_cannot_settle_until_activated() {
    let mut s = setup();
    let ix = s.f.deactivate_ix(&s.node.operator.pubkey(), &s.node.node);
    s.f.h.execute(&[ix], &[&s.node.operator]).expect("deactivate");
    assert_error(&s.settle(1), MeterError::NodeInactive);
    let ix = s.f.activate_ix(&s.node.operator.pubkey(), &s.node.node);
    s.f.h.execute(&[ix], &[&s.node.operator]).expect("activate");
    s.settle(1).expect("active again");
}

#[test]
fn an_unbonding_node_cannot_settle() {
    let mut s = setup();
    s.settle(1).expect("batch 1");
    let ix = s.f.begin_unbonding_ix(&s.node.operator.pubkey(), &s.node.node);
    s.f.h.execute(&[ix], &[&s.node.operator]).expect("begin_unbonding");
    assert_error(&s.settle(2), MeterError::NodeUnbonding);
    // Not even after the period, once the stake is gone.
    s.f.h.warp_to(s.f.now() + UNBONDING);
    let ix = s.f.withdraw_stake_ix(s.f.withdraw_stake_accounts(&s.node.operator.pubkey()));
    s.f.h.execute(&[ix], &[&s.node.operator]).expect("withdraw_stake");
    assert_error(&s.settle(2), MeterError::NodeInactive);
}

#[test]
fn a_node_slashed_below_the_minimum_stake_cannot_settle() {
    let mut s = setup();
    let admin = s.f.admin.insecure_clone();
    let ix = s.f.slash_ix(s.f.slash_accounts(&admin.pubkey(), &s.node.node), 1, 7);
    s.f.h.execute(&[ix], &[&admin]).expect("slash");
    assert_error(&s.settle(1), MeterError::InsufficientStake);
    let ix = s.f.add_stake_ix(s.f.add_stake_accounts(&s.node.operator.pubkey()), 1);
    s.f.h.execute(&[ix], &[&s.node.operator]).expect("top up");
    s.settle(1).expect("staked again");
}

#[test]
fn another_nodes_keeper_cannot_settle_for_this_node() {
    let mut s = setup();
    let other = s.f.register_node();
    let mut accounts = s.f.settle_accounts(&s.node);
    accounts.keeper = other.keeper.pubkey();
    let (args, remaining) = layout(&s.runs(1_000), 1, 1, [0; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    let res = s.f.h.execute(&[ix], &[&other.keeper]);
    assert_error(&res, MeterError::NotNodeKeeper);
    // Nor can the operator itself: the keeper key is the only settler.
    let mut accounts = s.f.settle_accounts(&s.node);
    accounts.keeper = s.node.operator.pubkey();
    let (args, remaining) = layout(&s.runs(1_000), 1, 1, [0; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    let operator: &Keypair = &s.node.operator;
    let res = s.f.h.execute(&[ix], &[operator]);
    assert_error(&res, MeterError::NotNodeKeeper);
}

// ---- run-level exactly-once: the run-sequence high-water mark ----

/// A settle of `runs` as batch `seq` covering run numbers `first ..= last`.
fn settle_range(s: &mut Setup, seq: u64, first: u64, last: u64, runs: &[Run]) -> TxResult {
    let (mut args, remaining) = layout(runs, seq, first, [seq as u8; 32], model_vaults);
    args.last_run_seq = last;
    let ix = s.f.settle_raw(s.f.settle_accounts(&s.node), args, remaining);
    let keeper = s.node.keeper.insecure_clone();
    s.f.h.execute(&[ix], &[&keeper])
}

#[test]
fn a_stale_journal_re_settling_runs_already_paid_is_refused() {
    // The attack (and the accident): a keeper restarted on an older copy of
    // its journal sends the same five runs again as its next batch, with the
    // next batch sequence number and the same Merkle root.
    let mut s = setup();
    let five = vec![Run::one(s.escrow, s.model.model, 5, 1_000, 0, s.f.now())];
    settle_range(&mut s, 1, 1, 5, &five).expect("runs 1..=5 as batch 1");
    assert_eq!(s.f.node(&s.node.node).last_run_seq, 5);
    let paid = s.escrow_balance();
    assert_error(&settle_range(&mut s, 2, 1, 5, &five), MeterError::RunsAlreadySettled);
    // Overlapping the mark by one run is the same double charge.
    assert_error(&settle_range(&mut s, 2, 5, 9, &five), MeterError::RunsAlreadySettled);
    assert_eq!(s.escrow_balance(), paid, "nothing debited twice");
    assert_eq!(s.f.node(&s.node.node).last_batch_seq, 1);
    // The next runs settle; gaps (runs written off, never settled) are allowed.
    settle_range(&mut s, 2, 8, 12, &five).expect("runs 8..=12");
    assert_eq!(s.f.node(&s.node.node).last_run_seq, 12);
}

#[test]
fn a_run_range_must_be_ordered_and_hold_every_run() {
    let mut s = setup();
    let five = vec![Run::one(s.escrow, s.model.model, 5, 1_000, 0, s.f.now())];
    assert_error(&settle_range(&mut s, 1, 3, 2, &five), MeterError::InvalidRunRange);
    // Five runs cannot have four sequence numbers.
    assert_error(&settle_range(&mut s, 1, 1, 4, &five), MeterError::InvalidRunRange);
    assert_eq!(s.escrow_balance(), NATIVE);
    settle_range(&mut s, 1, 1, 5, &five).expect("exactly five");
    // A range wider than the runs is fine (the keeper wrote some runs off).
    settle_range(&mut s, 2, 6, 100, &five).expect("wider");
    // The top of the range.
    settle_range(&mut s, 3, u64::MAX - 4, u64::MAX, &five).expect("up to u64::MAX");
    assert_error(&settle_range(&mut s, 4, u64::MAX, u64::MAX, &five[..0]), MeterError::RunsAlreadySettled);
}

// ---- runs older than the settlement window ----

#[test]
fn a_run_older_than_the_settlement_window_is_refused_at_the_boundary() {
    use mt_treasury::state::SETTLE_WINDOW_SECS;
    let mut s = setup();
    let served = s.f.now();
    s.f.h.warp_to(served + SETTLE_WINDOW_SECS + 1);
    let old = vec![Run::one(s.escrow, s.model.model, 1, 1_000, 0, served)];
    assert_error(&s.f.settle(&s.node, 1, &old), MeterError::RunTooOld);
    // Exactly SETTLE_WINDOW_SECS old still settles.
    let edge = vec![Run::one(s.escrow, s.model.model, 1, 1_000, 0, served + 1)];
    s.f.settle(&s.node, 1, &edge).expect("at the boundary");
}
