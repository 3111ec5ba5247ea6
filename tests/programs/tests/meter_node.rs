//! inference_meter nodes and administration: registration with stake,
//! unbonding, the keeper key's narrow power, slashing, meter parameters.

mod meter_common;
#[path = "treasury_common/mod.rs"]
mod treasury_common;

use anchor_lang::error::ErrorCode as AnchorError;
use inference_meter::errors::MeterError;
use inference_meter::events::NodeSlashed;
use inference_meter::instructions::{InitMeterArgs, RegisterNodeArgs};
use inference_meter::state::NodeStatus;
use meter_common::*;
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn register_args(keeper: Pubkey, stake: u64) -> RegisterNodeArgs {
    RegisterNodeArgs { keeper, endpoint: "https://gpu-1.example:8443/v1".into(), stake }
}

// ---- register_node ----

#[test]
fn registering_stakes_and_activates_the_node() {
    let mut f = MeterFixture::new();
    let operator = f.wallet(MIN_STAKE + 7);
    let keeper = Keypair::new().pubkey();
    let ix = f.register_ix(f.register_accounts(&operator.pubkey()), register_args(keeper, MIN_STAKE + 7));
    f.h.execute(&[ix], &[&operator]).expect("register");
    let node = f.node(&node_pda(&operator.pubkey()));
    assert_eq!((node.operator, node.keeper, node.status, node.stake), (operator.pubkey(), keeper, NodeStatus::Active, MIN_STAKE + 7));
    assert_eq!((node.endpoint.as_str(), node.last_batch_seq, node.registered_at), ("https://gpu-1.example:8443/v1", 0, f.now()));
    assert_eq!(f.balance(&stake_vault()), MIN_STAKE + 7);
    assert_eq!(f.balance(&f.ata(&operator.pubkey())), 0);
    let again = f.register_ix(f.register_accounts(&operator.pubkey()), register_args(keeper, 1));
    assert_instruction_error(&f.h.execute(&[again], &[&operator]), InstructionError::Custom(0));
}

#[test]
fn registration_rules_are_enforced() {
    let mut f = MeterFixture::new();
    let operator = f.wallet(MIN_STAKE);
    let keeper = Keypair::new().pubkey();
    let try_args = |f: &mut MeterFixture, args: RegisterNodeArgs| {
        let ix = f.register_ix(f.register_accounts(&operator.pubkey()), args);
        f.h.execute(&[ix], &[&operator])
    };
    assert_error(&try_args(&mut f, register_args(keeper, MIN_STAKE - 1)), MeterError::InsufficientStake);
    assert_error(&try_args(&mut f, register_args(Pubkey::default(), MIN_STAKE)), MeterError::InvalidKeeperKey);
    for endpoint in [String::new(), "x".repeat(129), "https://a b".into(), "https://\u{e9}".into()] {
        assert_error(&try_args(&mut f, RegisterNodeArgs { endpoint, ..register_args(keeper, MIN_STAKE) }), MeterError::InvalidEndpoint);
    }
    try_args(&mut f, RegisterNodeArgs { endpoint: "x".repeat(128), ..register_args(keeper, MIN_STAKE) }).expect("128 bytes fit");
}

#[test]
fn registration_with_someone_elses_tokens_or_a_wrong_vault_is_rejected() {
    let mut f = MeterFixture::new();
    let operator = f.wallet(0);
    let rich = f.wallet(MIN_STAKE);
    let mut accounts = f.register_accounts(&operator.pubkey());
    accounts.source = f.ata(&rich.pubkey());
    let res = f.h.execute(&[f.register_ix(accounts, register_args(rich.pubkey(), MIN_STAKE))], &[&operator]);
    assert_error(&res, AnchorError::ConstraintTokenOwner);
    let mut accounts = f.register_accounts(&rich.pubkey());
    accounts.stake_vault = escrow_vault();
    let res = f.h.execute(&[f.register_ix(accounts, register_args(rich.pubkey(), MIN_STAKE))], &[&rich]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    // The node PDA belongs to the signing operator.
    let mut accounts = f.register_accounts(&rich.pubkey());
    accounts.node = node_pda(&operator.pubkey());
    let res = f.h.execute(&[f.register_ix(accounts, register_args(rich.pubkey(), MIN_STAKE))], &[&rich]);
    assert_error(&res, AnchorError::ConstraintSeeds);
}

// ---- the keeper key can only settle; strangers can do nothing ----

#[test]
fn neither_the_keeper_key_nor_a_stranger_can_manage_a_node() {
    let mut f = MeterFixture::new();
    let n = f.register_node_with(MIN_STAKE, 10);
    let stranger = f.wallet(10);
    // The keeper key holds tokens too, so only the node checks can stop it.
    let admin = f.admin.insecure_clone();
    let mint = f.mint;
    f.h.mint_to(&admin, &mint, &n.keeper.pubkey(), 10, TOKEN);
    for who in [n.keeper.insecure_clone(), stranger] {
        let w = who.pubkey();
        let attempts: Vec<(&str, Instruction)> = vec![
            ("set_keeper_key", f.set_keeper_ix(&w, &n.node, w)),
            ("set_endpoint", f.set_endpoint_ix(&w, &n.node, "https://evil.example")),
            ("deactivate_node", f.deactivate_ix(&w, &n.node)),
            ("activate_node", f.activate_ix(&w, &n.node)),
            ("begin_unbonding", f.begin_unbonding_ix(&w, &n.node)),
            ("add_stake", {
                let mut a = f.add_stake_accounts(&w);
                a.node = n.node;
                f.add_stake_ix(a, 1)
            }),
            ("withdraw_stake", {
                let mut a = f.withdraw_stake_accounts(&w);
                a.node = n.node;
                f.withdraw_stake_ix(a)
            }),
        ];
        for (name, ix) in attempts {
            let res = f.h.execute(&[ix], &[&who]);
            match &res {
                Err(failure) => assert_eq!(custom_code(failure), Some(AnchorError::ConstraintSeeds as u32), "{name}: {failure:?}"),
                Ok(_) => panic!("{name} by a non-operator succeeded"),
            }
        }
    }
    let node = f.node(&n.node);
    assert_eq!((node.keeper, node.status, node.stake), (n.keeper.pubkey(), NodeStatus::Active, MIN_STAKE));
}

// ---- stake ----

#[test]
fn stake_is_added_and_unbonded_after_the_full_period() {
    let mut f = MeterFixture::new();
    let n = f.register_node_with(MIN_STAKE, 500);
    let op = n.operator.insecure_clone();
    let add = |f: &mut MeterFixture, amount: u64| {
        let ix = f.add_stake_ix(f.add_stake_accounts(&op.pubkey()), amount);
        f.h.execute(&[ix], &[&op])
    };
    assert_error(&add(&mut f, 0), MeterError::ZeroAmount);
    add(&mut f, 500).expect("add");
    assert_eq!(f.node(&n.node).stake, MIN_STAKE + 500);
    let withdraw = |f: &mut MeterFixture| {
        let ix = f.withdraw_stake_ix(f.withdraw_stake_accounts(&op.pubkey()));
        f.h.execute(&[ix], &[&op])
    };
    assert_error(&withdraw(&mut f), MeterError::NotUnbonding);
    f.h.execute(&[f.begin_unbonding_ix(&op.pubkey(), &n.node)], &[&op]).expect("unbond");
    let t = f.now();
    assert_error(&f.h.execute(&[f.begin_unbonding_ix(&op.pubkey(), &n.node)], &[&op]), MeterError::NodeUnbonding);
    assert_error(&add(&mut f, 1), MeterError::NodeUnbonding);
    assert_error(&f.h.execute(&[f.activate_ix(&op.pubkey(), &n.node)], &[&op]), MeterError::NodeUnbonding);
    assert_error(&f.h.execute(&[f.deactivate_ix(&op.pubkey(), &n.node)], &[&op]), MeterError::NodeUnbonding);
    f.h.warp_to(t + UNBONDING - 1);
    assert_error(&withdraw(&mut f), MeterError::UnbondingNotElapsed);
    // Only to the operator's own account.
    let other = f.wallet(0);
    let mut accounts = f.withdraw_stake_accounts(&op.pubkey());
    accounts.destination = f.ata(&other.pubkey());
    f.h.warp_to(t + UNBONDING);
    assert_error(&f.h.execute(&[f.withdraw_stake_ix(accounts)], &[&op]), AnchorError::ConstraintTokenOwner);
    withdraw(&mut f).expect("withdraw at the boundary");
    assert_eq!(f.balance(&n.operator_account), MIN_STAKE + 500);
    assert_eq!(f.balance(&stake_vault()), 0);
    let node = f.node(&n.node);
    assert_eq!((node.stake, node.status), (0, NodeStatus::Inactive));
    // Back in service: stake again, then activate.
    assert_error(&f.h.execute(&[f.activate_ix(&op.pubkey(), &n.node)], &[&op]), MeterError::InsufficientStake);
    add(&mut f, MIN_STAKE).expect("re-stake");
    f.h.execute(&[f.activate_ix(&op.pubkey(), &n.node)], &[&op]).expect("activate");
    assert_eq!(f.node(&n.node).status, NodeStatus::Active);
}

#[test]
fn deactivation_and_activation_follow_the_status() {
    let mut f = MeterFixture::new();
    let n = f.register_node();
    let op = n.operator.insecure_clone();
    assert_error(&f.h.execute(&[f.activate_ix(&op.pubkey(), &n.node)], &[&op]), MeterError::NodeAlreadyActive);
    f.h.execute(&[f.deactivate_ix(&op.pubkey(), &n.node)], &[&op]).expect("deactivate");
    assert_error(&f.h.execute(&[f.deactivate_ix(&op.pubkey(), &n.node)], &[&op]), MeterError::NodeInactive);
    // An inactive node can still start unbonding.
    f.h.execute(&[f.begin_unbonding_ix(&op.pubkey(), &n.node)], &[&op]).expect("unbond while inactive");
}

#[test]
fn keeper_key_and_endpoint_can_be_changed_by_the_operator() {
    let mut f = MeterFixture::new();
    let n = f.register_node();
    let op = n.operator.insecure_clone();
    assert_error(&f.h.execute(&[f.set_keeper_ix(&op.pubkey(), &n.node, Pubkey::default())], &[&op]), MeterError::InvalidKeeperKey);
    let k = Keypair::new().pubkey();
    f.h.execute(&[f.set_keeper_ix(&op.pubkey(), &n.node, k)], &[&op]).expect("set keeper");
    assert_error(&f.h.execute(&[f.set_endpoint_ix(&op.pubkey(), &n.node, "")], &[&op]), MeterError::InvalidEndpoint);
    f.h.execute(&[f.set_endpoint_ix(&op.pubkey(), &n.node, "https://gpu-2.example/v1")], &[&op]).expect("set endpoint");
    let node = f.node(&n.node);
    assert_eq!((node.keeper, node.endpoint.as_str()), (k, "https://gpu-2.example/v1"));
}

// ---- slash_node ----

#[test]
fn the_admin_slashes_stake_into_the_fee_vault_with_a_reason() {
    let mut f = MeterFixture::new();
    let n = f.register_node_with(MIN_STAKE + 100, 0);
    let admin = f.admin.insecure_clone();
    let slash = |f: &mut MeterFixture, amount: u64, reason: u16| {
        let ix = f.slash_ix(f.slash_accounts(&admin.pubkey(), &n.node), amount, reason);
        f.h.execute(&[ix], &[&admin])
    };
    assert_error(&slash(&mut f, 0, 1), MeterError::ZeroAmount);
    assert_error(&slash(&mut f, MIN_STAKE + 101, 1), MeterError::SlashExceedsStake);
    let meta = slash(&mut f, 60, 42).expect("slash");
    let ev: NodeSlashed = event(&meta);
    assert_eq!((ev.amount, ev.reason, ev.stake), (60, 42, MIN_STAKE + 40));
    assert_eq!(f.balance(&fee_vault()), 60);
    assert_eq!(f.balance(&stake_vault()), MIN_STAKE + 40);
    // Unbonding does not escape slashing; the withdrawal pays what is left.
    let op = n.operator.insecure_clone();
    f.h.execute(&[f.begin_unbonding_ix(&op.pubkey(), &n.node)], &[&op]).expect("unbond");
    slash(&mut f, 40, 43).expect("slash while unbonding");
    let node = f.node(&n.node);
    assert_eq!((node.counters.disputes, node.counters.slashed, node.last_slash_reason), (2, 100, 43));
    f.h.warp_to(f.now() + UNBONDING);
    f.h.execute(&[f.withdraw_stake_ix(f.withdraw_stake_accounts(&op.pubkey()))], &[&op]).expect("withdraw");
    assert_eq!(f.balance(&n.operator_account), MIN_STAKE);
    assert_eq!(f.balance(&fee_vault()), 100);
    assert_eq!(f.balance(&stake_vault()), 0);
}

#[test]
fn only_the_protocol_admin_slashes_and_only_into_the_fee_vault() {
    let mut f = MeterFixture::new();
    let n = f.register_node();
    let impostor = f.wallet(0);
    let res = f.h.execute(&[f.slash_ix(f.slash_accounts(&impostor.pubkey(), &n.node), 1, 1)], &[&impostor]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    // The operator cannot slash itself into its own account either.
    let op = n.operator.insecure_clone();
    let res = f.h.execute(&[f.slash_ix(f.slash_accounts(&op.pubkey(), &n.node), 1, 1)], &[&op]);
    assert_error(&res, AnchorError::ConstraintHasOne);
    let admin = f.admin.insecure_clone();
    let mut accounts = f.slash_accounts(&admin.pubkey(), &n.node);
    accounts.fee_vault = n.operator_account;
    assert_error(&f.h.execute(&[f.slash_ix(accounts, 1, 1)], &[&admin]), AnchorError::ConstraintHasOne);
    let mut accounts = f.slash_accounts(&admin.pubkey(), &n.node);
    accounts.stake_vault = escrow_vault();
    assert_error(&f.h.execute(&[f.slash_ix(accounts, 1, 1)], &[&admin]), AnchorError::ConstraintHasOne);
    assert_eq!(f.node(&n.node).stake, MIN_STAKE);
}

// ---- init_meter / update_meter ----

#[test]
fn the_admin_updates_the_meter_within_bounds() {
    let mut f = MeterFixture::new();
    let admin = f.admin.insecure_clone();
    let update = |f: &mut MeterFixture, who: &Keypair, args: InitMeterArgs| {
        let ix = f.update_meter_ix(&who.pubkey(), args);
        f.h.execute(&[ix], &[who])
    };
    let base = MeterFixture::params();
    assert_error(&update(&mut f, &admin, InitMeterArgs { settlement_fee_bps: 10_001, ..base.clone() }), MeterError::InvalidBps);
    assert_error(&update(&mut f, &admin, InitMeterArgs { operator_share_bps: 10_001, ..base.clone() }), MeterError::InvalidBps);
    assert_error(&update(&mut f, &admin, InitMeterArgs { settlement_fee_bps: 5_000, operator_share_bps: 5_001, ..base.clone() }), MeterError::InvalidBps);
    assert_error(&update(&mut f, &admin, InitMeterArgs { unbonding_secs: MIN_PERIOD - 1, ..base.clone() }), MeterError::PeriodTooShort);
    assert_error(&update(&mut f, &admin, InitMeterArgs { withdrawal_notice_secs: 0, ..base.clone() }), MeterError::PeriodTooShort);
    let stranger = f.wallet(0);
    assert_error(&update(&mut f, &stranger, base.clone()), AnchorError::ConstraintHasOne);
    let new = InitMeterArgs { settlement_fee_bps: 5_000, operator_share_bps: 5_000, min_node_stake: 7, unbonding_secs: MIN_PERIOD, withdrawal_notice_secs: MIN_PERIOD };
    update(&mut f, &admin, new.clone()).expect("update");
    let c = f.config();
    assert_eq!((c.settlement_fee_bps, c.operator_share_bps, c.min_node_stake, c.unbonding_secs, c.withdrawal_notice_secs), (5_000, 5_000, 7, MIN_PERIOD, MIN_PERIOD));
    assert_eq!((c.escrow_vault, c.stake_vault), (escrow_vault(), stake_vault()), "vaults never change");
}

#[test]
fn a_raised_minimum_stake_stops_under_staked_nodes_from_settling() {
    let mut f = MeterFixture::new();
    let model = f.fixture_model(flat_price(1, 1), 0, 0);
    let n = f.register_node();
    let user = f.wallet(NATIVE);
    let escrow = f.open_escrow(&user);
    f.fund(&user, &escrow, &n.node, NATIVE).expect("fund");
    let admin = f.admin.insecure_clone();
    let ix = f.update_meter_ix(&admin.pubkey(), InitMeterArgs { min_node_stake: MIN_STAKE + 1, ..MeterFixture::params() });
    f.h.execute(&[ix], &[&admin]).expect("raise minimum");
    let res = f.settle(&n, 1, &[Run::one(escrow, model.model, 1, 1_000, 0, f.now())]);
    assert_error(&res, MeterError::InsufficientStake);
}

#[test]
fn the_meter_is_initialised_once_by_the_protocol_admin() {
    let mut f = MeterFixture::new();
    let admin = f.admin.insecure_clone();
    let ix = f.init_meter_ix(&admin.pubkey(), MeterFixture::params());
    assert_instruction_error(&f.h.execute(&[ix], &[&admin]), InstructionError::Custom(0));
    // On a chain whose meter does not exist yet, only the protocol admin may create it.
    let tf = treasury_common::Fixture::new();
    let treasury_common::Fixture { h, admin, native_mint, native_program } = tf;
    let mut fresh = MeterFixture::without_meter(h, admin, native_mint, native_program);
    let stranger = fresh.h.funded(1);
    let ix = fresh.init_meter_ix(&stranger.pubkey(), MeterFixture::params());
    assert_error(&fresh.h.execute(&[ix], &[&stranger]), AnchorError::ConstraintHasOne);
}

#[test]
fn stake_and_fee_vaults_passed_twice_are_refused() {
    let mut f = MeterFixture::new();
    let n = f.register_node();
    let admin = f.admin.insecure_clone();
    let mut accounts = f.slash_accounts(&admin.pubkey(), &n.node);
    accounts.fee_vault = stake_vault();
    assert_error(&f.h.execute(&[f.slash_ix(accounts, 1, 1)], &[&admin]), AnchorError::ConstraintDuplicateMutableAccount);
    let op = n.operator.insecure_clone();
    f.h.execute(&[f.begin_unbonding_ix(&op.pubkey(), &n.node)], &[&op]).expect("unbond");
    f.h.warp_to(f.now() + UNBONDING);
    let mut accounts = f.withdraw_stake_accounts(&op.pubkey());
    accounts.destination = stake_vault();
    assert_error(&f.h.execute(&[f.withdraw_stake_ix(accounts)], &[&op]), AnchorError::ConstraintDuplicateMutableAccount);
    let mut accounts = f.add_stake_accounts(&op.pubkey());
    accounts.source = stake_vault();
    assert_error(&f.h.execute(&[f.add_stake_ix(accounts, 1)], &[&op]), AnchorError::ConstraintDuplicateMutableAccount);
    assert_eq!(f.balance(&stake_vault()), MIN_STAKE);
}

#[test]
fn rent_of_escrow_and_node_accounts() {
    // Printed for the README's benchmark table (cargo test ... -- --nocapture).
    let f = MeterFixture::new();
    let escrow = 8 + <inference_meter::state::Escrow as anchor_lang::Space>::INIT_SPACE;
    let node = 8 + <inference_meter::state::Node as anchor_lang::Space>::INIT_SPACE;
    let rent = |n: usize| f.h.chain.minimum_balance_for_rent_exemption(n);
    println!("escrow: {escrow} bytes, {} lamports rent", rent(escrow));
    println!("node:   {node} bytes, {} lamports rent", rent(node));
    // The escrow carries its lanes (8 × 64 bytes, each with its domain
    // serial) inside, so settlement needs no extra account per lane; its
    // rent comes back on close_escrow.
    assert_eq!(escrow, 755, "escrow layout");
    assert!(escrow < 800 && node < 400, "accounts stay small");
}
