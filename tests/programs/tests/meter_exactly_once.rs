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
    f.deposit(&user, &escrow, NATIVE).expect("deposit");
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
        self.f.escrow(&self.escrow).balance
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
    let (args, remaining) = layout(&s.runs(1_000), 1, [0; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    let res = s.f.h.execute(&[ix], &[&other.keeper]);
    assert_error(&res, MeterError::NotNodeKeeper);
    // Nor can the operator itself: the keeper key is the only settler.
    let mut accounts = s.f.settle_accounts(&s.node);
    accounts.keeper = s.node.operator.pubkey();
    let (args, remaining) = layout(&s.runs(1_000), 1, [0; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    let operator: &Keypair = &s.node.operator;
    let res = s.f.h.execute(&[ix], &[operator]);
    assert_error(&res, MeterError::NotNodeKeeper);
}
