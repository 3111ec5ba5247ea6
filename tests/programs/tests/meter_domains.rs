//! inference_meter domains (issue 18): operators that admit nodes, escrow
//! lanes to a domain, and members settling against them with the domain's
//! fee out of the operator's cut. Every instruction's signer, the stake
//! bounds, late settlement inside and outside the notice, removal races, a
//! node in two domains, and a domain emptied by its operator — each refusal
//! with its named error.

mod domain_common;
mod meter_common;

use anchor_lang::error::ErrorCode as AnchorError;
use domain_common::*;
use inference_meter::errors::MeterError;
use inference_meter::events::BatchSettled;
use inference_meter::instructions::{CreateDomainArgs, UpdateDomainArgs};
use inference_meter::state::{MembershipStatus, MAX_LANES};
use meter_common::*;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Setup {
    f: MeterFixture,
    model: ModelKeys,
    d: DomainKeys,
    /// An admitted member.
    node: NodeKeys,
    owner: Keypair,
    /// 10 native deposited, 1 of it in the domain's lane.
    escrow: Pubkey,
}

fn setup() -> Setup {
    let mut f = MeterFixture::new();
    let model = f.fixture_model(flat_price(10, 30), 5_000, 0);
    let d = f.create_domain();
    let node = f.register_node();
    f.h.warp_to(f.now() + 5);
    f.join_and_admit(&node, &d);
    let owner = f.wallet(10 * NATIVE);
    let escrow = f.open_escrow(&owner);
    f.deposit(&owner, &escrow, 10 * NATIVE).expect("deposit");
    let ix = f.allow_domain_ix(&owner.pubkey(), &escrow, &d.domain, NATIVE);
    f.h.execute(&[ix], &[&owner]).expect("allow_domain");
    f.h.warp_to(f.now() + 10);
    Setup { f, model, d, node, owner, escrow }
}

/// 123 457 input tokens at 10 per 1k: cost 1 235 (1 234.57 rounded up).
fn one_run(s: &Setup, served_at: i64) -> Vec<Run> {
    vec![Run::one(s.escrow, s.model.model, 1, 123_457, 0, served_at)]
}

fn domain_lane(f: &MeterFixture, escrow: &Pubkey, d: &DomainKeys) -> u64 {
    f.lane(escrow, &d.domain).balance
}

#[test]
fn a_member_settles_against_the_domain_lane_and_the_fee_comes_out_of_the_operator_cut() {
    let mut s = setup();
    let before = s.f.snapshot(&[s.d.operator_account, s.node.operator_account]);
    let runs = one_run(&s, s.f.now());
    let meta = s.f.settle_domain(&s.node, &s.d, 1, &runs).expect("settle against the domain lane");
    let ev: BatchSettled = event(&meta);
    // protocol ceil(1235 × 1%) = 13; operator cut floor(1235 × 20%) = 247;
    // domain floor(247 × 10%) = 24; node operator 223; model 975.
    assert_eq!((ev.cost, ev.charged, ev.to_protocol, ev.to_domain, ev.to_operator, ev.to_models), (1_235, 1_235, 13, 24, 223, 975));
    assert_eq!(ev.to_protocol + ev.to_domain + ev.to_operator + ev.to_models, ev.charged);
    assert_eq!(ev.domain, s.d.domain);
    let after = s.f.snapshot(&[s.d.operator_account, s.node.operator_account]);
    assert_eq!(after[&fee_vault()] - before[&fee_vault()], 13);
    assert_eq!(after[&s.d.operator_account] - before[&s.d.operator_account], 24);
    assert_eq!(after[&s.node.operator_account] - before[&s.node.operator_account], 223);
    assert_eq!(before[&escrow_vault()] - after[&escrow_vault()], 1_235 - 975 + 975);
    assert_eq!(domain_lane(&s.f, &s.escrow, &s.d), NATIVE - 1_235);
    let e = s.f.escrow(&s.escrow);
    assert_eq!((e.balance, e.spent, e.unpaid), (9 * NATIVE, 1_235, 0));
}

#[test]
fn a_batch_debits_only_the_lane_it_selects() {
    // One escrow with a lane to the node and a lane to its domain: a node
    // batch takes from the node lane only, a domain batch from the domain lane only.
    let mut s = setup();
    let owner = s.owner.insecure_clone();
    s.f.allow(&owner, &s.escrow, &s.node.node, NATIVE).expect("allow node");
    let runs = one_run(&s, s.f.now());
    s.f.settle(&s.node, 1, &runs).expect("node lane");
    assert_eq!(s.f.lane(&s.escrow, &s.node.node).balance, NATIVE - 1_235);
    assert_eq!(domain_lane(&s.f, &s.escrow, &s.d), NATIVE);
    let runs = one_run(&s, s.f.now());
    let meta = s.f.settle_domain(&s.node, &s.d, 2, &runs).expect("domain lane");
    assert_eq!(event::<BatchSettled>(&meta).to_domain, 24);
    assert_eq!(s.f.lane(&s.escrow, &s.node.node).balance, NATIVE - 1_235);
    assert_eq!(domain_lane(&s.f, &s.escrow, &s.d), NATIVE - 1_235);
}

#[test]
fn only_an_admitted_member_with_matching_accounts_settles_against_the_domain() {
    let mut s = setup();
    let now = s.f.now();
    let runs = one_run(&s, now);
    // A node that only asked to join.
    let asking = s.f.register_node();
    s.f.join(&asking, &s.d).expect("request_join");
    assert_error(&s.f.settle_domain(&asking, &s.d, 1, &runs), MeterError::NotDomainMember);
    // A stranger passing the member's membership account.
    let stranger = s.f.register_node();
    let mut accounts = s.f.domain_settle_accounts(&stranger, &s.d);
    accounts.membership = Some(membership_pda(&s.d.domain, &s.node.node));
    let (args, remaining) = layout(&runs, 1, 1, [1; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    assert_error(&s.f.h.execute(&[ix], &[&stranger.keeper]), MeterError::DomainAccountsMismatch);
    // The member, but a token account of its own in place of the domain operator's…
    let own = Pubkey::new_unique();
    s.f.write_token_account(own, &s.node.operator.pubkey(), 0);
    let mut accounts = s.f.domain_settle_accounts(&s.node, &s.d);
    accounts.domain_account = Some(own);
    let (args, remaining) = layout(&runs, 1, 1, [1; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    assert_error(&s.f.h.execute(&[ix], &[&s.node.keeper]), MeterError::DomainAccountsMismatch);
    // …or its operator account twice (a domain operator who runs a member
    // node leaves the fee account out instead: see the one-account test).
    let mut accounts = s.f.domain_settle_accounts(&s.node, &s.d);
    accounts.domain_account = Some(s.node.operator_account);
    let (args, remaining) = layout(&runs, 1, 1, [1; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    assert_error(&s.f.h.execute(&[ix], &[&s.node.keeper]), AnchorError::ConstraintDuplicateMutableAccount);
    // The membership without the domain accounts.
    let mut accounts = s.f.domain_settle_accounts(&s.node, &s.d);
    accounts.domain = None;
    let (args, remaining) = layout(&runs, 1, 1, [1; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    assert_error(&s.f.h.execute(&[ix], &[&s.node.keeper]), MeterError::DomainAccountsMismatch);
    // Another domain's lane is not this domain's.
    let other = s.f.create_domain_with(terms("beta"));
    let mut accounts = s.f.domain_settle_accounts(&s.node, &s.d);
    accounts.domain = Some(other.domain);
    accounts.domain_account = Some(other.operator_account);
    let (args, remaining) = layout(&runs, 1, 1, [1; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    assert_error(&s.f.h.execute(&[ix], &[&s.node.keeper]), MeterError::DomainAccountsMismatch);
    // An escrow without a lane to the domain.
    let bystander = s.f.wallet(NATIVE);
    let other_escrow = s.f.open_escrow(&bystander);
    s.f.fund(&bystander, &other_escrow, &s.node.node, NATIVE).expect("node lane only");
    let runs = vec![Run::one(other_escrow, s.model.model, 1, 1_000, 0, now)];
    assert_error(&s.f.settle_domain(&s.node, &s.d, 1, &runs), MeterError::NoLaneForDomain);
    // The member's own node lane does not exist: a node batch cannot reach the domain lane.
    let runs = one_run(&s, now);
    assert_error(&s.f.settle(&s.node, 1, &runs), MeterError::NoLaneForNode);
    assert_eq!(domain_lane(&s.f, &s.escrow, &s.d), NATIVE);
    s.f.settle_domain(&s.node, &s.d, 1, &runs).expect("the member itself");
}

#[test]
fn every_domain_instruction_refuses_the_wrong_signer() {
    let mut s = setup();
    let mallory = s.f.wallet(2 * MIN_STAKE);
    let m = mallory.pubkey();
    let exec = |f: &mut MeterFixture, ix: Instruction, signer: &Keypair| f.h.execute(&[ix], &[signer]);

    // update / close: the domain's seeds name its operator.
    let args = UpdateDomainArgs { min_node_stake: 0, fee_bps: 10_000, notice_secs: DOMAIN_NOTICE };
    let ix = s.f.update_domain_ix(&m, &s.d.domain, args);
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintSeeds);
    let ix = s.f.close_domain_ix(&m, &s.d.domain, &s.f.ata(&m));
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintSeeds);
    // slash: protocol admin only.
    let ix = s.f.slash_domain_ix(&m, &s.d.domain, 1, 7);
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintHasOne);
    // admit / remove: the domain operator only — not the node's operator either.
    let asking = s.f.register_node();
    s.f.join(&asking, &s.d).expect("request_join");
    let ix = s.f.admit_ix(&m, &s.d.domain, &asking.node);
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintSeeds);
    let ix = s.f.admit_ix(&asking.operator.pubkey(), &s.d.domain, &asking.node);
    assert_error(&exec(&mut s.f, ix, &asking.operator.insecure_clone()), AnchorError::ConstraintSeeds);
    let ix = s.f.remove_ix(&m, &s.d.domain, &s.node.node);
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintSeeds);
    // request_join / leave: the node's operator only — not the domain operator.
    let outsider = s.f.register_node();
    let ix = s.f.request_join_ix(&m, &outsider.node, &s.d.domain);
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintSeeds);
    let ix = s.f.leave_ix(&m, &s.node.node, &s.d.domain);
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintSeeds);
    let d_op = s.d.operator.insecure_clone();
    let ix = s.f.leave_ix(&d_op.pubkey(), &s.node.node, &s.d.domain);
    assert_error(&exec(&mut s.f, ix, &d_op), AnchorError::ConstraintSeeds);
    // allow_domain: the escrow's owner only.
    let ix = s.f.allow_domain_ix(&m, &s.escrow, &s.d.domain, 1);
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintHasOne);
    // close_membership: anyone, but the rent goes to the node's operator only.
    s.f.leave(&s.node, &s.d).expect("leave");
    s.f.h.warp_to(s.f.now() + DOMAIN_NOTICE + 1);
    let ix = s.f.close_membership_ix(&m, &m, &s.node.node, &s.d.domain);
    assert_error(&exec(&mut s.f, ix, &mallory), AnchorError::ConstraintAddress);
    // settle: the member's keeper key only.
    let runs = one_run(&s, s.f.now());
    let ix = s.f.settle_domain_ix(&asking, &s.d, 1, &runs);
    let mut ix = ix;
    ix.accounts[0].pubkey = m;
    assert_error(&exec(&mut s.f, ix, &mallory), MeterError::NotNodeKeeper);
    // Nothing changed hands.
    let d = s.f.domain(&s.d.domain);
    assert_eq!((d.bond, d.fee_bps, d.members), (MIN_STAKE, DOMAIN_FEE_BPS, 0));
    assert_eq!(s.f.membership(&s.d, &asking).status, MembershipStatus::Requested);
}

#[test]
fn joining_needs_an_active_node_with_the_domains_minimum_stake() {
    let mut f = MeterFixture::new();
    let model = f.fixture_model(flat_price(10, 30), 5_000, 0);
    let mut t = terms("strict");
    t.min_node_stake = 2 * MIN_STAKE;
    let d = f.create_domain_with(t);
    let node = f.register_node_with(MIN_STAKE, MIN_STAKE);
    assert_error(&f.join(&node, &d), MeterError::BelowDomainMinStake);
    let ix = f.add_stake_ix(f.add_stake_accounts(&node.operator.pubkey()), MIN_STAKE);
    f.h.execute(&[ix], &[&node.operator]).expect("add_stake");
    f.join(&node, &d).expect("request_join at exactly the minimum");
    // Slashed below the minimum before admission: not admitted.
    let admin = f.admin.insecure_clone();
    let ix = f.slash_ix(f.slash_accounts(&admin.pubkey(), &node.node), 1, 1);
    f.h.execute(&[ix], &[&admin]).expect("slash");
    assert_error(&f.admit(&d, &node), MeterError::BelowDomainMinStake);
    let ix = f.add_stake_ix(f.add_stake_accounts(&node.operator.pubkey()), 1);
    f.h.execute(&[ix], &[&node.operator]).expect_err("the operator has no spare tokens left");
    // A member slashed below the domain's minimum still settles what it
    // served (the minimum guards admission; the operator may remove it), and
    // so does one whose domain raised its minimum after the runs.
    let other = f.register_node_with(2 * MIN_STAKE, 0);
    f.join_and_admit(&other, &d);
    let owner = f.wallet(NATIVE);
    let escrow = f.open_escrow(&owner);
    f.fund_domain(&owner, &escrow, &d.domain, NATIVE).expect("fund");
    let ix = f.slash_ix(f.slash_accounts(&admin.pubkey(), &other.node), 1, 2);
    f.h.execute(&[ix], &[&admin]).expect("slash");
    let runs = vec![Run::one(escrow, model.model, 1, 1_000, 0, f.now())];
    let d_op = d.operator.insecure_clone();
    let raise = f.update_domain_ix(&d_op.pubkey(), &d.domain, UpdateDomainArgs { min_node_stake: 5 * MIN_STAKE, fee_bps: DOMAIN_FEE_BPS, notice_secs: DOMAIN_NOTICE });
    f.h.execute(&[raise], &[&d_op]).expect("raise the minimum");
    f.settle_domain(&other, &d, 1, &runs).expect("runs served before the slash and the raise");
    assert_error(&f.admit(&d, &node), MeterError::BelowDomainMinStake);
    // An inactive node cannot ask to join.
    let idle = f.register_node_with(2 * MIN_STAKE, 0);
    let ix = f.deactivate_ix(&idle.operator.pubkey(), &idle.node);
    f.h.execute(&[ix], &[&idle.operator]).expect("deactivate");
    assert_error(&f.join(&idle, &d), MeterError::NodeInactive);
}

#[test]
fn a_removed_node_settles_what_it_served_as_a_member_until_the_notice_ends_inclusive() {
    let mut s = setup();
    let served = s.f.now();
    s.f.h.warp_to(served + 5);
    s.f.remove(&s.d, &s.node).expect("remove");
    let m = s.f.membership(&s.d, &s.node);
    assert_eq!((m.status, m.ended_at, m.settle_until), (MembershipStatus::Removed, served + 5, served + 5 + DOMAIN_NOTICE));
    assert_eq!(s.f.domain(&s.d.domain).members, 0);
    // The last second of the notice, runs served up to the second before removal.
    s.f.h.warp_to(m.settle_until);
    let runs = vec![Run::one(s.escrow, s.model.model, 1, 123_457, 0, served), Run::one(s.escrow, s.model.model, 1, 123_457, 0, served + 4)];
    let meta = s.f.settle_domain(&s.node, &s.d, 1, &runs).expect("late settlement inside the notice");
    assert_eq!(event::<BatchSettled>(&meta).to_domain, 49);
}

#[test]
fn a_removed_node_cannot_settle_after_the_notice() {
    let mut s = setup();
    let served = s.f.now();
    s.f.remove(&s.d, &s.node).expect("remove");
    let until = s.f.membership(&s.d, &s.node).settle_until;
    s.f.h.warp_to(until + 1);
    let runs = vec![Run::one(s.escrow, s.model.model, 1, 123_457, 0, served - 1)];
    assert_error(&s.f.settle_domain(&s.node, &s.d, 1, &runs), MeterError::MembershipEnded);
    assert_eq!(domain_lane(&s.f, &s.escrow, &s.d), NATIVE);
}

#[test]
fn runs_served_outside_the_membership_are_refused() {
    let mut s = setup();
    let admitted = s.f.membership(&s.d, &s.node).admitted_at;
    // Before admission (the node was already registered).
    let runs = vec![Run::one(s.escrow, s.model.model, 1, 1_000, 0, admitted - 1)];
    assert_error(&s.f.settle_domain(&s.node, &s.d, 1, &runs), MeterError::ServedOutsideMembership);
    // At the second of removal and after it.
    s.f.remove(&s.d, &s.node).expect("remove");
    let ended = s.f.membership(&s.d, &s.node).ended_at;
    s.f.h.warp_to(ended + 3);
    for served in [ended, ended + 2] {
        let runs = vec![Run::one(s.escrow, s.model.model, 1, 1_000, 0, served)];
        assert_error(&s.f.settle_domain(&s.node, &s.d, 1, &runs), MeterError::ServedOutsideMembership);
    }
    assert_eq!(domain_lane(&s.f, &s.escrow, &s.d), NATIVE);
}

#[test]
fn removal_racing_a_batch_keeps_the_runs_served_before_it_and_refuses_the_rest() {
    let mut s = setup();
    let served = s.f.now();
    // The keeper signs its batch, then the removal lands first.
    let ix = s.f.settle_domain_ix(&s.node, &s.d, 1, &one_run(&s, served));
    s.f.h.warp_to(served + 1);
    s.f.remove(&s.d, &s.node).expect("remove");
    s.f.h.execute(&[ix], &[&s.node.keeper]).expect("the batch of runs served before the removal");
    // A batch that mixes runs before and after the removal is refused whole…
    s.f.h.warp_to(served + 3);
    let mixed = vec![Run::one(s.escrow, s.model.model, 1, 1_000, 0, served), Run::one(s.escrow, s.model.model, 1, 1_000, 0, served + 2)];
    assert_error(&s.f.settle_domain(&s.node, &s.d, 2, &mixed), MeterError::ServedOutsideMembership);
    // …and rebuilt without the late run it settles.
    s.f.settle_domain(&s.node, &s.d, 2, &mixed[..1]).expect("rebuilt batch");
    assert_eq!(s.f.node(&s.node.node).last_batch_seq, 2);
}

#[test]
fn a_node_in_two_domains_charges_each_lane_only_for_its_own_batches() {
    let mut s = setup();
    let beta = s.f.create_domain_with(CreateDomainArgs { fee_bps: 5_000, ..terms("beta") });
    s.f.join_and_admit(&s.node, &beta);
    let owner = s.owner.insecure_clone();
    let ix = s.f.allow_domain_ix(&owner.pubkey(), &s.escrow, &beta.domain, NATIVE);
    s.f.h.execute(&[ix], &[&owner]).expect("allow beta");
    s.f.h.warp_to(s.f.now() + 1);
    let runs = one_run(&s, s.f.now());
    let before = s.f.snapshot(&[s.d.operator_account, beta.operator_account]);
    s.f.settle_domain(&s.node, &s.d, 1, &runs).expect("alpha batch");
    let ev: BatchSettled = event(&s.f.settle_domain(&s.node, &beta, 2, &runs).expect("beta batch"));
    assert_eq!((ev.domain, ev.to_domain, ev.to_operator), (beta.domain, 123, 124));
    assert_eq!(domain_lane(&s.f, &s.escrow, &s.d), NATIVE - 1_235);
    assert_eq!(domain_lane(&s.f, &s.escrow, &beta), NATIVE - 1_235);
    let after = s.f.snapshot(&[s.d.operator_account, beta.operator_account]);
    assert_eq!(after[&s.d.operator_account] - before[&s.d.operator_account], 24);
    assert_eq!(after[&beta.operator_account] - before[&beta.operator_account], 123);
    // Leaving one domain leaves the other membership untouched.
    s.f.leave(&s.node, &s.d).expect("leave alpha");
    s.f.h.warp_to(s.f.now() + 1);
    let runs = one_run(&s, s.f.now());
    assert_error(&s.f.settle_domain(&s.node, &s.d, 3, &runs), MeterError::ServedOutsideMembership);
    s.f.settle_domain(&s.node, &beta, 3, &runs).expect("still in beta");
    // Exactly-once is per node across both domains: batch 3 cannot land again on either.
    assert_error(&s.f.settle_domain(&s.node, &s.d, 3, &one_run(&s, s.f.now() - 1)), MeterError::BatchAlreadySettled);
}

#[test]
fn an_operator_who_removes_every_node_closes_the_domain_only_after_the_notices() {
    let mut s = setup();
    let others = [s.f.register_node(), s.f.register_node()];
    for n in &others {
        s.f.join_and_admit(n, &s.d);
    }
    let asking = s.f.register_node();
    s.f.join(&asking, &s.d).expect("request_join");
    assert_eq!((s.f.domain(&s.d.domain).members, s.f.domain(&s.d.domain).memberships), (3, 4));
    let served = s.f.now();
    s.f.h.warp_to(served + 1);
    for n in [&s.node, &others[0], &others[1], &asking] {
        s.f.remove(&s.d, n).expect("remove");
    }
    assert_eq!((s.f.domain(&s.d.domain).members, s.f.domain(&s.d.domain).memberships), (0, 4));
    // No one can serve the lane now, but runs served before still settle.
    s.f.settle_domain(&s.node, &s.d, 1, &one_run(&s, served)).expect("late settlement");
    assert_error(&s.f.settle_domain(&others[0], &s.d, 1, &one_run(&s, served + 1)), MeterError::ServedOutsideMembership);
    // The domain cannot close while memberships may still settle.
    let op = s.d.operator.insecure_clone();
    let close = |f: &mut MeterFixture, d: &DomainKeys| {
        let ix = f.close_domain_ix(&d.operator.pubkey(), &d.domain, &d.operator_account);
        f.h.execute(&[ix], &[&op])
    };
    assert_error(&close(&mut s.f, &s.d), MeterError::DomainHasMembers);
    let ix = s.f.close_membership_ix(&op.pubkey(), &s.node.operator.pubkey(), &s.node.node, &s.d.domain);
    assert_error(&s.f.h.execute(&[ix], &[&op]), MeterError::MembershipNoticeNotElapsed);
    // The request that was never admitted closes at once; the members after the notice.
    let ix = s.f.close_membership_ix(&op.pubkey(), &asking.operator.pubkey(), &asking.node, &s.d.domain);
    s.f.h.warp_to(s.f.now() + 1);
    s.f.h.execute(&[ix], &[&op]).expect("close the refused request");
    let until = s.f.membership(&s.d, &s.node).settle_until;
    s.f.h.warp_to(until + 1);
    for n in [&s.node, &others[0], &others[1]] {
        let rent_before = s.f.h.lamports(&n.operator.pubkey());
        let ix = s.f.close_membership_ix(&op.pubkey(), &n.operator.pubkey(), &n.node, &s.d.domain);
        s.f.h.execute(&[ix], &[&op]).expect("close membership");
        assert!(s.f.h.lamports(&n.operator.pubkey()) > rent_before, "rent back to the node operator");
    }
    let bond_before = s.f.balance(&s.d.operator_account);
    close(&mut s.f, &s.d).expect("close the empty domain");
    assert_eq!(s.f.balance(&s.d.operator_account) - bond_before, MIN_STAKE);
    assert!(!s.f.h.exists(&s.d.domain));
    // The escrow owner takes the lane's money back the usual way.
    let owner = s.owner.insecure_clone();
    let ix = s.f.request_revoke_ix(&owner.pubkey(), &s.escrow, s.d.domain);
    s.f.h.execute(&[ix], &[&owner]).expect("request_revoke");
    s.f.h.warp_to(s.f.now() + NOTICE);
    let ix = s.f.revoke_ix(&owner.pubkey(), &s.escrow, s.d.domain);
    s.f.h.execute(&[ix], &[&owner]).expect("revoke the domain lane");
    assert_eq!(s.f.escrow(&s.escrow).balance, 10 * NATIVE - 1_235);
}

#[test]
fn leaving_is_immediate_once_and_a_closed_membership_can_join_again() {
    let mut s = setup();
    s.f.leave(&s.node, &s.d).expect("leave");
    assert_eq!(s.f.membership(&s.d, &s.node).status, MembershipStatus::Left);
    s.f.h.warp_to(s.f.now() + 1);
    assert_error(&s.f.leave(&s.node, &s.d), MeterError::InvalidMembershipStatus);
    assert_error(&s.f.remove(&s.d, &s.node), MeterError::InvalidMembershipStatus);
    assert_error(&s.f.admit(&s.d, &s.node), MeterError::InvalidMembershipStatus);
    s.f.h.warp_to(s.f.membership(&s.d, &s.node).settle_until + 1);
    let op = s.node.operator.insecure_clone();
    let ix = s.f.close_membership_ix(&op.pubkey(), &op.pubkey(), &s.node.node, &s.d.domain);
    s.f.h.execute(&[ix], &[&op]).expect("close");
    s.f.join_and_admit(&s.node, &s.d);
    // Runs from the gap between the two memberships are not the domain's.
    let admitted = s.f.membership(&s.d, &s.node).admitted_at;
    s.f.h.warp_to(admitted + 1);
    let runs = vec![Run::one(s.escrow, s.model.model, 1, 1_000, 0, admitted - 1)];
    assert_error(&s.f.settle_domain(&s.node, &s.d, 1, &runs), MeterError::ServedOutsideMembership);
    s.f.settle_domain(&s.node, &s.d, 1, &one_run(&s, admitted)).expect("after re-admission");
}

#[test]
fn a_fee_change_reaches_only_runs_served_after_the_notice() {
    let mut s = setup();
    let now = s.f.now();
    let op = s.d.operator.insecure_clone();
    let update = |f: &mut MeterFixture, fee_bps: u16| {
        let ix = f.update_domain_ix(&op.pubkey(), &s.d.domain, UpdateDomainArgs { min_node_stake: MIN_STAKE, fee_bps, notice_secs: DOMAIN_NOTICE });
        f.h.execute(&[ix], &[&op])
    };
    update(&mut s.f, 5_000).expect("raise the fee");
    let d = s.f.domain(&s.d.domain);
    assert_eq!((d.previous_fee_bps, d.fee_bps, d.fee_effective_at), (DOMAIN_FEE_BPS, 5_000, now + DOMAIN_NOTICE));
    // A batch with a run from before the switch pays the old fee for all its runs.
    s.f.h.warp_to(now + DOMAIN_NOTICE);
    let straddling = vec![Run::one(s.escrow, s.model.model, 1, 123_457, 0, now + DOMAIN_NOTICE - 1), Run::one(s.escrow, s.model.model, 1, 123_457, 0, now + DOMAIN_NOTICE)];
    let ev: BatchSettled = event(&s.f.settle_domain(&s.node, &s.d, 1, &straddling).expect("straddling batch"));
    assert_eq!(ev.to_domain, 49); // floor(494 × 10%)
    let ev: BatchSettled = event(&s.f.settle_domain(&s.node, &s.d, 2, &one_run(&s, now + DOMAIN_NOTICE)).expect("after the switch"));
    assert_eq!(ev.to_domain, 123); // floor(247 × 50%)
    // Two fees are remembered, so the next change waits out the settlement window.
    assert_error(&update(&mut s.f, 0), MeterError::FeeChangeTooSoon);
    assert_error(&update(&mut s.f, 10_001), MeterError::InvalidBps);
}

#[test]
fn a_domain_lane_obeys_the_lane_rules() {
    let mut s = setup();
    let owner = s.owner.insecure_clone();
    // Settlement never takes more than the lane holds: the rest is a shortfall.
    let big = vec![Run::one(s.escrow, s.model.model, 1, 1_000_000_000, 0, s.f.now())];
    let ev: BatchSettled = event(&s.f.settle_domain(&s.node, &s.d, 1, &big).expect("settle beyond the lane"));
    assert_eq!((ev.cost, ev.charged, ev.shortfall), (10 * NATIVE, NATIVE, 9 * NATIVE));
    assert_eq!(ev.to_protocol + ev.to_domain + ev.to_operator + ev.to_models, NATIVE);
    assert_eq!(domain_lane(&s.f, &s.escrow, &s.d), 0);
    assert_eq!(s.f.escrow(&s.escrow).balance, 9 * NATIVE);
    // Allowing more than the unallocated balance.
    let ix = s.f.allow_domain_ix(&owner.pubkey(), &s.escrow, &s.d.domain, 9 * NATIVE + 1);
    assert_error(&s.f.h.execute(&[ix], &[&owner]), MeterError::InsufficientBalance);
    // Above the spend limit.
    let thrifty = s.f.wallet(2 * NATIVE);
    let capped = s.f.open_escrow_with(&thrifty, None, Some(NATIVE));
    s.f.deposit(&thrifty, &capped, 2 * NATIVE).expect("deposit");
    let ix = s.f.allow_domain_ix(&thrifty.pubkey(), &capped, &s.d.domain, NATIVE + 1);
    assert_error(&s.f.h.execute(&[ix], &[&thrifty]), MeterError::LanesExceedSpendLimit);
    // Node and domain lanes share MAX_LANES.
    for _ in 1..MAX_LANES {
        let n = s.f.register_node();
        s.f.allow(&owner, &s.escrow, &n.node, 0).expect("allow node");
    }
    let beta = s.f.create_domain_with(terms("beta"));
    let ix = s.f.allow_domain_ix(&owner.pubkey(), &s.escrow, &beta.domain, 0);
    assert_error(&s.f.h.execute(&[ix], &[&owner]), MeterError::TooManyLanes);
}

#[test]
fn domain_terms_are_checked_and_the_bond_is_slashable() {
    let mut f = MeterFixture::new();
    let bad = |f: &mut MeterFixture, args: CreateDomainArgs| {
        let operator = f.wallet(MIN_STAKE);
        let ix = f.create_domain_ix(f.create_domain_accounts(&operator.pubkey(), &args.name), args);
        f.h.execute(&[ix], &[&operator])
    };
    assert_error(&bad(&mut f, CreateDomainArgs { bond: MIN_STAKE - 1, ..terms("a") }), MeterError::InsufficientBond);
    assert_error(&bad(&mut f, CreateDomainArgs { fee_bps: 10_001, ..terms("a") }), MeterError::InvalidBps);
    assert_error(&bad(&mut f, CreateDomainArgs { notice_secs: NOTICE - 1, ..terms("a") }), MeterError::PeriodTooShort);
    assert_error(&bad(&mut f, terms("has space")), MeterError::InvalidDomainName);
    let d = f.create_domain_with(terms(&"n".repeat(32)));
    let admin = f.admin.insecure_clone();
    let fees = f.balance(&fee_vault());
    let ix = f.slash_domain_ix(&admin.pubkey(), &d.domain, MIN_STAKE + 1, 3);
    assert_error(&f.h.execute(&[ix], &[&admin]), MeterError::SlashExceedsBond);
    let ix = f.slash_domain_ix(&admin.pubkey(), &d.domain, 400, 3);
    f.h.execute(&[ix], &[&admin]).expect("slash the bond");
    let dom = f.domain(&d.domain);
    assert_eq!((dom.bond, dom.slashed, dom.last_slash_reason), (MIN_STAKE - 400, 400, 3));
    assert_eq!(f.balance(&fee_vault()) - fees, 400);
}

#[test]
fn joining_twice_is_refused_by_name() {
    let mut s = setup();
    // Admitted, or only asking: a second request names the existing membership.
    assert_error(&s.f.join(&s.node, &s.d), MeterError::MembershipExists);
    let asking = s.f.register_node();
    s.f.join(&asking, &s.d).expect("request_join");
    s.f.h.warp_to(s.f.now() + 1);
    assert_error(&s.f.join(&asking, &s.d), MeterError::MembershipExists);
    // Ended but not closed: still the same membership, still refused.
    s.f.leave(&asking, &s.d).expect("leave");
    s.f.h.warp_to(s.f.now() + 1);
    assert_error(&s.f.join(&asking, &s.d), MeterError::MembershipExists);
    let m = s.f.membership(&s.d, &asking);
    assert_eq!(m.status, MembershipStatus::Left);
    assert_eq!(s.f.domain(&s.d.domain).memberships, 2);
}

/// Empties and closes `d` (removing `node`, its only member, and waiting out
/// the notice), then its operator creates a domain of the same name again:
/// the same address, new terms.
fn close_and_recreate(s: &mut Setup, fee_bps: u16) -> DomainKeys {
    s.f.remove(&s.d, &s.node).expect("remove");
    s.f.h.warp_to(s.f.membership(&s.d, &s.node).settle_until + 1);
    let op = s.d.operator.insecure_clone();
    let ix = s.f.close_membership_ix(&op.pubkey(), &s.node.operator.pubkey(), &s.node.node, &s.d.domain);
    s.f.h.execute(&[ix], &[&op]).expect("close membership");
    let ix = s.f.close_domain_ix(&op.pubkey(), &s.d.domain, &s.d.operator_account);
    s.f.h.execute(&[ix], &[&op]).expect("close domain");
    let again = s.f.create_domain_by(&op, CreateDomainArgs { fee_bps, ..terms(&s.d.name) });
    assert_eq!(again.domain, s.d.domain);
    again
}

#[test]
fn a_re_created_domain_cannot_spend_the_lanes_opened_to_the_old_one() {
    let mut s = setup();
    let owner = s.owner.insecure_clone();
    let again = close_and_recreate(&mut s, 9_000);
    let stranger = s.f.register_node();
    s.f.join_and_admit(&stranger, &again);
    s.f.h.warp_to(s.f.now() + 1);
    // The owner allowed the old domain: its lane is not the new domain's.
    let runs = vec![Run::one(s.escrow, s.model.model, 1, 123_457, 0, s.f.now())];
    assert_error(&s.f.settle_domain(&stranger, &again, 1, &runs), MeterError::DomainLaneStale);
    assert_eq!(domain_lane(&s.f, &s.escrow, &again), NATIVE);
    // Nor can the owner top it up by mistake…
    let ix = s.f.allow_domain_ix(&owner.pubkey(), &s.escrow, &again.domain, 1);
    assert_error(&s.f.h.execute(&[ix], &[&owner]), MeterError::DomainLaneStale);
    // …but takes the money back as usual, and may then allow the new domain.
    let ix = s.f.request_revoke_ix(&owner.pubkey(), &s.escrow, again.domain);
    s.f.h.execute(&[ix], &[&owner]).expect("request_revoke");
    s.f.h.warp_to(s.f.now() + NOTICE);
    let ix = s.f.revoke_ix(&owner.pubkey(), &s.escrow, again.domain);
    s.f.h.execute(&[ix], &[&owner]).expect("revoke the stale lane");
    assert_eq!(s.f.escrow(&s.escrow).balance, 10 * NATIVE);
    let ix = s.f.allow_domain_ix(&owner.pubkey(), &s.escrow, &again.domain, NATIVE);
    s.f.h.execute(&[ix], &[&owner]).expect("allow the new domain");
    let runs = vec![Run::one(s.escrow, s.model.model, 1, 123_457, 0, s.f.now())];
    let ev: BatchSettled = event(&s.f.settle_domain(&stranger, &again, 1, &runs).expect("the new lane"));
    assert_eq!((ev.charged, ev.to_domain), (1_235, 222)); // floor(247 × 90%)
}

#[test]
fn a_domain_operator_running_a_member_node_takes_both_shares_in_one_account() {
    let mut s = setup();
    // The operator's node stakes from the account the domain fee is paid to.
    let own = s.f.register_node_with(MIN_STAKE, MIN_STAKE);
    let d = s.f.create_domain_by(&own.operator, terms("own"));
    assert_eq!(d.operator_account, own.operator_account);
    s.f.h.warp_to(s.f.now() + 1);
    s.f.join_and_admit(&own, &d);
    let owner = s.owner.insecure_clone();
    let ix = s.f.allow_domain_ix(&owner.pubkey(), &s.escrow, &d.domain, NATIVE);
    s.f.h.execute(&[ix], &[&owner]).expect("allow_domain");
    s.f.h.warp_to(s.f.now() + 1);
    let before = s.f.snapshot(&[own.operator_account]);
    // The fee account is passed once: as the operator's account.
    let mut accounts = s.f.domain_settle_accounts(&own, &d);
    accounts.domain_account = None;
    let runs = vec![Run::one(s.escrow, s.model.model, 1, 123_457, 0, s.f.now())];
    let (args, remaining) = layout(&runs, 1, 1, [1; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    let ev: BatchSettled = event(&s.f.h.execute(&[ix], &[&own.keeper]).expect("settle with one account"));
    assert_eq!((ev.charged, ev.to_protocol, ev.to_domain, ev.to_operator, ev.to_models), (1_235, 13, 24, 223, 975));
    let after = s.f.snapshot(&[own.operator_account]);
    assert_eq!(after[&own.operator_account] - before[&own.operator_account], 24 + 223);
    assert_eq!(after[&fee_vault()] - before[&fee_vault()], 13);
    assert_eq!(before[&escrow_vault()] - after[&escrow_vault()], 1_235);
    // Another member may not leave the fee account out: its operator is not the domain's.
    let other = s.f.register_node();
    s.f.join_and_admit(&other, &d);
    s.f.h.warp_to(s.f.now() + 1);
    let mut accounts = s.f.domain_settle_accounts(&other, &d);
    accounts.domain_account = None;
    let runs = vec![Run::one(s.escrow, s.model.model, 1, 1_000, 0, s.f.now())];
    let (args, remaining) = layout(&runs, 1, 1, [1; 32], model_vaults);
    let ix = s.f.settle_raw(accounts, args, remaining);
    assert_error(&s.f.h.execute(&[ix], &[&other.keeper]), MeterError::DomainAccountsMismatch);
}
