//! inference_meter settle under attack: substituted, look-alike, duplicate
//! and read-only accounts, malformed entries, overflow. Each case fails with
//! its named error and moves nothing.

mod meter_common;

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::AccountMeta;
use inference_meter::entries::{encode_entry, put_varint, Entry, Share};
use inference_meter::errors::MeterError;
use inference_meter::instructions::SettleArgs;
use inference_meter::state::seeds;
use meter_common::*;
use mt_treasury::state::{QueryPricing, Stage};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Setup {
    f: MeterFixture,
    node: NodeKeys,
    user: Keypair,
    escrow: Pubkey,
    escrow2: Pubkey,
    a: ModelKeys,
    b: ModelKeys,
}

fn setup() -> Setup {
    let mut f = MeterFixture::new();
    let a = f.fixture_model(flat_price(10, 30), 5_000, 0);
    let b = f.fixture_model(flat_price(1, 1), 5_000, 0);
    let node = f.register_node();
    let user = f.wallet(3 * NATIVE);
    let escrow = f.open_escrow(&user);
    let escrow2 = f.open_escrow(&user);
    f.fund(&user, &escrow, &node.node, NATIVE).expect("fund");
    f.fund(&user, &escrow2, &node.node, NATIVE).expect("fund");
    Setup { f, node, user, escrow, escrow2, a, b }
}

type Parts = (inference_meter::accounts::Settle, SettleArgs, Vec<AccountMeta>);

impl Setup {
    fn good_runs(&self) -> Vec<Run> {
        let now = self.f.now();
        vec![
            Run::one(self.escrow, self.a.model, 1, 1_000, 1_000, now),
            Run { escrow: self.escrow2, shares: vec![(self.a.model, 5_000), (self.b.model, 5_000)], runs: 2, input_tokens: 2_000, output_tokens: 0, served_at: now },
        ]
    }

    fn parts(&self, runs: &[Run]) -> Parts {
        let (args, remaining) = layout(runs, 1, 1, [9; 32], model_vaults);
        (self.f.settle_accounts(&self.node), args, remaining)
    }

    /// Sends the good batch after `tamper`, signed by the keeper; checks that
    /// nothing moved when it fails.
    fn send(&mut self, tamper: impl FnOnce(&mut Self, &mut Parts)) -> TxResult {
        let mut parts = self.parts(&self.good_runs());
        tamper(self, &mut parts);
        self.send_parts(parts)
    }

    fn send_parts(&mut self, (accounts, args, remaining): Parts) -> TxResult {
        let watched = [escrow_vault(), fee_vault(), self.node.operator_account, self.a.treasury, self.b.treasury];
        let before: Vec<u64> = watched.iter().map(|a| self.f.balance(a)).collect();
        let escrows_before = (self.f.lane(&self.escrow, &self.node.node).balance, self.f.lane(&self.escrow2, &self.node.node).balance);
        let ix = self.f.settle_raw(accounts, args, remaining);
        let keeper = self.node.keeper.insecure_clone();
        let res = self.f.h.execute(&[ix], &[&keeper]);
        if res.is_err() {
            let after: Vec<u64> = watched.iter().map(|a| self.f.balance(a)).collect();
            assert_eq!(before, after, "a failed settle moved tokens");
            assert_eq!(escrows_before, (self.f.lane(&self.escrow, &self.node.node).balance, self.f.lane(&self.escrow2, &self.node.node).balance));
            assert_eq!(self.f.node(&self.node.node).last_batch_seq, 0);
        }
        res
    }
}

fn entry(escrow: u8, shares: &[(u8, u16)], runs: u64, input: u64, output: u64, offset: u64) -> Vec<u8> {
    let mut e = Entry { escrow, share_count: shares.len() as u8, runs, input_tokens: input, output_tokens: output, served_offset: offset, ..Entry::default() };
    for (slot, (model, weight)) in e.shares.iter_mut().zip(shares) {
        *slot = Share { model: *model, weight_bps: *weight };
    }
    let mut out = Vec::new();
    encode_entry(&mut out, &e);
    out
}

/// Index of `escrow` among the sorted escrows of the good batch.
fn idx(s: &Setup, escrow: &Pubkey) -> u8 {
    let mut e = [s.escrow, s.escrow2];
    e.sort();
    e.iter().position(|x| x == escrow).unwrap() as u8
}

#[test]
fn the_untampered_batch_settles() {
    let mut s = setup();
    s.send(|_, _| {}).expect("good batch");
}

// ---- accounts ----

#[test]
fn keeper_that_did_not_sign_is_rejected() {
    let mut s = setup();
    let (accounts, args, remaining) = s.parts(&s.good_runs());
    let mut ix = s.f.settle_raw(accounts, args, remaining);
    ix.accounts[0].is_signer = false;
    let payer = s.f.h.funded(1);
    let res = s.f.h.execute(&[ix], &[&payer]);
    assert_error(&res, AnchorError::AccountNotSigner);
}

#[test]
fn substituted_escrow_vault_is_rejected() {
    let mut s = setup();
    let other = s.f.ata(&s.user.pubkey());
    let res = s.send(|_, p| p.0.escrow_vault = other);
    assert_error(&res, AnchorError::ConstraintHasOne);
}

#[test]
fn substituted_fee_vault_is_rejected() {
    let mut s = setup();
    let other = s.f.ata(&s.user.pubkey());
    let res = s.send(|_, p| p.0.fee_vault = other);
    assert_error(&res, AnchorError::ConstraintHasOne);
}

#[test]
fn operator_account_of_someone_else_is_rejected() {
    let mut s = setup();
    let other = s.f.ata(&s.user.pubkey());
    let res = s.send(|_, p| p.0.operator_account = other);
    assert_error(&res, AnchorError::ConstraintTokenOwner);
}

#[test]
fn the_escrow_vault_passed_twice_is_rejected() {
    let mut s = setup();
    // Anchor refuses the same writable account twice before any other check.
    let res = s.send(|_, p| p.0.operator_account = escrow_vault());
    assert_error(&res, AnchorError::ConstraintDuplicateMutableAccount);
    let res = s.send(|_, p| p.0.fee_vault = escrow_vault());
    assert_error(&res, AnchorError::ConstraintDuplicateMutableAccount);
}

#[test]
fn substituted_node_is_rejected() {
    let mut s = setup();
    let other = s.f.register_node();
    let res = s.send(|_, p| p.0.node = other.node);
    assert_error(&res, MeterError::NotNodeKeeper);
}

#[test]
fn substituted_programs_and_authorities_are_rejected() {
    let mut s = setup();
    // Token-2022 is refused by the operator account's token program check,
    // before the meter's address check is reached.
    let res = s.send(|_, p| p.0.token_program = TOKEN_2022);
    assert_error(&res, AnchorError::ConstraintTokenTokenProgram);
    let res = s.send(|_, p| p.0.treasury_program = inference_meter::ID);
    assert_error(&res, AnchorError::InvalidProgramId);
    let res = s.send(|_, p| p.0.treasury_event_authority = event_authority(&inference_meter::ID));
    assert_error(&res, AnchorError::ConstraintSeeds);
    let fake_meter = Keypair::new().pubkey();
    let res = s.send(|_, p| p.0.meter = fake_meter);
    assert_error(&res, AnchorError::AccountNotInitialized);
}

#[test]
fn model_account_not_owned_by_mt_treasury_is_rejected() {
    let mut s = setup();
    // A byte-for-byte copy of model A (Active, same price), owned by another program.
    let lookalike = Keypair::new().pubkey();
    let model = s.f.model(&s.a);
    s.f.write_model(&lookalike, &model, Keypair::new().pubkey());
    let runs = vec![Run::one(s.escrow, lookalike, 1, 1_000, 1_000, s.f.now())];
    let (accounts, args, mut remaining) = s.parts(&runs);
    // Give it A's real vaults, so only the owner check can catch it.
    remaining[1] = AccountMeta::new(s.a.revenue, false);
    remaining[2] = AccountMeta::new(s.a.treasury, false);
    let res = s.send_parts((accounts, args, remaining));
    assert_error(&res, AnchorError::AccountOwnedByWrongProgram);
}

#[test]
fn another_mt_treasury_account_posing_as_a_model_is_rejected() {
    let mut s = setup();
    let runs = vec![Run::one(s.escrow, protocol_pda(), 1, 1_000, 1_000, s.f.now())];
    let (accounts, args, remaining) = s.parts(&runs);
    let res = s.send_parts((accounts, args, remaining));
    assert_error(&res, AnchorError::AccountDiscriminatorMismatch);
}

#[test]
fn model_that_is_not_active_is_rejected() {
    let mut s = setup();
    s.f.update_model(&s.a, |m| m.stage = Stage::Funding);
    let res = s.send(|_, _| {});
    assert_error(&res, MeterError::ModelNotActive);
}

#[test]
fn another_models_vault_is_rejected_by_deposit_revenue() {
    let mut s = setup();
    let b_treasury = s.b.treasury;
    let a_at = if s.a.model < s.b.model { 0 } else { 3 };
    let res = s.send(|_, p| p.2[a_at + 2] = AccountMeta::new(b_treasury, false));
    assert_error(&res, AnchorError::ConstraintSeeds);
}

#[test]
fn escrow_owned_by_another_program_or_of_another_type_is_rejected() {
    let mut s = setup();
    // A copy of a real escrow's bytes under another program.
    let lookalike = Keypair::new().pubkey();
    let mut copy = s.f.h.chain.account(&s.escrow).unwrap();
    copy.owner = Keypair::new().pubkey();
    s.f.h.chain.set_account(lookalike, copy);
    let runs = vec![Run::one(lookalike, s.a.model, 1, 1_000, 1_000, s.f.now())];
    let res = { let p = s.parts(&runs); s.send_parts(p) };
    assert_error(&res, AnchorError::AccountOwnedByWrongProgram);
    // The node (a meter account of another type) passed as an escrow.
    let node = s.node.node;
    let runs = vec![Run::one(node, s.a.model, 1, 1_000, 1_000, s.f.now())];
    let res = { let p = s.parts(&runs); s.send_parts(p) };
    assert_error(&res, AnchorError::AccountDiscriminatorMismatch);
    // The escrow vault (a token account) passed as an escrow.
    let runs = vec![Run::one(escrow_vault(), s.a.model, 1, 1_000, 1_000, s.f.now())];
    let res = { let p = s.parts(&runs); s.send_parts(p) };
    assert_error(&res, AnchorError::AccountOwnedByWrongProgram);
}

#[test]
fn duplicate_escrow_is_rejected() {
    let mut s = setup();
    // The second escrow slot repeats the first.
    let res = s.send(|_, p| p.2[7] = AccountMeta::new(p.2[6].pubkey, false));
    assert_error(&res, MeterError::DuplicateOrUnsortedAccounts);
}

#[test]
fn unsorted_escrows_are_rejected() {
    let mut s = setup();
    let res = s.send(|_, p| p.2.swap(6, 7));
    assert_error(&res, MeterError::DuplicateOrUnsortedAccounts);
}

#[test]
fn duplicate_model_group_is_rejected() {
    let mut s = setup();
    let res = s.send(|_, p| {
        let first: Vec<AccountMeta> = p.2[0..3].to_vec();
        p.2.splice(3..6, first);
    });
    assert_error(&res, MeterError::DuplicateOrUnsortedAccounts);
}

#[test]
fn read_only_escrow_or_model_is_rejected() {
    let mut s = setup();
    let res = s.send(|_, p| p.2[7].is_writable = false);
    assert_error(&res, MeterError::AccountNotWritable);
    let res = s.send(|_, p| p.2[0].is_writable = false);
    assert_error(&res, MeterError::AccountNotWritable);
}

#[test]
fn missing_accounts_are_rejected() {
    let mut s = setup();
    let res = s.send(|_, p| p.2.truncate(6));
    assert_error(&res, MeterError::MissingAccounts);
    let res = s.send(|_, p| p.1.model_count = 3);
    assert_error(&res, MeterError::MissingAccounts);
    let res = s.send(|_, p| p.1.model_count = 17);
    assert_error(&res, MeterError::TooManyModels);
}

// ---- entries ----

fn with_entries(s: &mut Setup, entries: Vec<u8>) -> TxResult {
    s.send(move |_, p| p.1.entries = entries)
}

#[test]
fn weights_that_do_not_sum_to_10000_are_rejected() {
    let mut s = setup();
    let e = idx(&s, &s.escrow);
    assert_error(&with_entries(&mut s, entry(e, &[(0, 5_000), (1, 4_999)], 1, 10, 10, 0)), MeterError::WeightsDoNotSum);
    assert_error(&with_entries(&mut s, entry(e, &[(0, 5_000), (1, 5_001)], 1, 10, 10, 0)), MeterError::WeightsDoNotSum);
    // A weight above u16 cannot be smuggled through the varint.
    let mut bytes = vec![e, 2, 0, 1];
    put_varint(&mut bytes, 65_536 + 5_000);
    put_varint(&mut bytes, 5_000);
    bytes.extend([1, 10, 10, 0]);
    assert_error(&with_entries(&mut s, bytes), MeterError::WeightsDoNotSum);
}

#[test]
fn zero_weight_or_a_model_twice_in_one_entry_is_rejected() {
    let mut s = setup();
    let e = idx(&s, &s.escrow);
    assert_error(&with_entries(&mut s, entry(e, &[(0, 10_000), (1, 0)], 1, 10, 10, 0)), MeterError::InvalidWeights);
    assert_error(&with_entries(&mut s, entry(e, &[(0, 5_000), (0, 5_000)], 1, 10, 10, 0)), MeterError::InvalidWeights);
}

#[test]
fn more_than_eight_models_in_an_entry_or_none_is_rejected() {
    let mut s = setup();
    let e = idx(&s, &s.escrow);
    let mut bytes = vec![e, 9];
    bytes.extend([0u8; 9]);
    assert_error(&with_entries(&mut s, bytes), MeterError::TooManyModels);
    assert_error(&with_entries(&mut s, vec![e, 0, 1, 10, 10, 0]), MeterError::TooManyModels);
}

#[test]
fn indexes_outside_the_accounts_are_rejected() {
    let mut s = setup();
    assert_error(&with_entries(&mut s, entry(2, &[(0, 10_000)], 1, 10, 10, 0)), MeterError::UnknownAccountIndex);
    assert_error(&with_entries(&mut s, entry(0, &[(2, 10_000)], 1, 10, 10, 0)), MeterError::UnknownAccountIndex);
}

#[test]
fn malformed_or_empty_entries_are_rejected() {
    let mut s = setup();
    let mut truncated = entry(0, &[(0, 10_000)], 1, 1_000, 1_000, 0);
    truncated.pop();
    assert_error(&with_entries(&mut s, truncated), MeterError::InvalidEntryEncoding);
    // A non-canonical varint (0 in two bytes) for the runs.
    assert_error(&with_entries(&mut s, vec![0, 1, 0, 0x81, 0x00, 10, 10, 0]), MeterError::InvalidEntryEncoding);
    assert_error(&with_entries(&mut s, vec![]), MeterError::EmptyBatch);
    assert_error(&with_entries(&mut s, entry(0, &[(0, 10_000)], 0, 1_000, 1_000, 0)), MeterError::ZeroRuns);
}

#[test]
fn runs_served_in_the_future_or_before_the_node_existed_are_rejected() {
    let mut s = setup();
    let res = s.send(|_, p| p.1.served_base += 1);
    assert_error(&res, MeterError::ServedInFuture);
    let registered = s.f.node(&s.node.node).registered_at;
    let res = s.send(|_, p| p.1.served_base = registered - 1);
    assert_error(&res, MeterError::ServedBeforeRegistration);
    let res = s.send(|_, p| p.1.served_base = i64::MAX);
    assert_error(&res, MeterError::ServedInFuture);
    // An offset that overflows the timestamp.
    let res = with_entries(&mut s, entry(0, &[(0, 10_000)], 1, 1, 1, u64::MAX));
    assert_error(&res, MeterError::MathOverflow);
}

#[test]
fn model_outside_the_escrows_allowed_list_is_rejected() {
    let mut s = setup();
    let a_id = s.a.id;
    let user = s.user.insecure_clone();
    let restricted = s.f.open_escrow_with(&user, Some(vec![a_id]), None);
    s.f.fund(&user, &restricted, &s.node.node, NATIVE / 2).expect("fund");
    let now = s.f.now();
    let ok = vec![Run::one(restricted, s.a.model, 1, 1_000, 0, now)];
    let bad = vec![Run { escrow: restricted, shares: vec![(s.a.model, 5_000), (s.b.model, 5_000)], runs: 1, input_tokens: 1_000, output_tokens: 0, served_at: now }];
    let res = { let p = s.parts(&bad); s.send_parts(p) };
    assert_error(&res, MeterError::ModelNotAllowed);
    let res = { let p = s.parts(&ok); s.send_parts(p) };
    res.expect("allowed model settles");
}

#[test]
fn costs_that_overflow_are_rejected() {
    let mut s = setup();
    s.f.update_model(&s.a, |m| m.pricing = QueryPricing { input_per_1k: u64::MAX, ..m.pricing });
    let e = idx(&s, &s.escrow);
    // Whichever of A and B sorts first is model 0; price both at the maximum.
    s.f.update_model(&s.b, |m| m.pricing = QueryPricing { input_per_1k: u64::MAX, ..m.pricing });
    let res = with_entries(&mut s, entry(e, &[(0, 10_000)], 1, u64::MAX, u64::MAX, 0));
    assert_error(&res, MeterError::MathOverflow);
    let res = with_entries(&mut s, entry(e, &[(0, 10_000)], 1, u64::MAX, 0, 0));
    assert_error(&res, MeterError::MathOverflow);
    // Runs and token totals beyond u64 across entries.
    s.f.update_model(&s.a, |m| m.pricing = flat_price(0, 0));
    s.f.update_model(&s.b, |m| m.pricing = flat_price(0, 0));
    let mut two = entry(e, &[(0, 10_000)], u64::MAX, 0, 0, 0);
    two.extend(entry(e, &[(0, 10_000)], 1, 0, 0, 0));
    assert_error(&with_entries(&mut s, two), MeterError::MathOverflow);
}

#[test]
fn a_big_but_affordable_cost_settles_without_overflow() {
    let mut s = setup();
    // 10^12 input tokens at 1 per 1k = 10^9 base units: more than the balance, so a shortfall.
    let e = idx(&s, &s.escrow);
    let b_index = if s.b.model < s.a.model { 0 } else { 1 };
    let meta = with_entries(&mut s, entry(e, &[(b_index, 10_000)], 1, 1_000_000_000_000, 0, 0)).expect("settles");
    let ev: inference_meter::events::BatchSettled = event(&meta);
    assert_eq!((ev.cost, ev.charged, ev.shortfall), (1_000_000_000, NATIVE, 1_000_000_000 - NATIVE));
    assert_eq!(s.f.lane(&s.escrow, &s.node.node).balance, 0);
}

#[test]
fn escrow_pdas_are_the_only_escrows() {
    // Sanity for the fixtures: escrows sit at [escrow, key hash].
    let s = setup();
    let e = s.f.escrow(&s.escrow);
    assert_eq!(Pubkey::find_program_address(&[seeds::ESCROW, &e.key_hash], &inference_meter::ID).0, s.escrow);
}
