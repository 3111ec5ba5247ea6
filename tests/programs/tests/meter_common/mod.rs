//! Shared set-up for the inference_meter tests: a protocol and meter on a
//! native mint, Active model fixtures, funded users, escrows and nodes, one
//! builder per instruction whose accounts a test may substitute, a settle
//! builder that lays out the compact encoding, and an independent reference
//! of the settlement arithmetic.
#![allow(dead_code)]

use std::collections::BTreeMap;

use anchor_lang::prelude::AccountMeta;
use anchor_lang::{AccountDeserialize, AccountSerialize, Discriminator};
use inference_meter::entries::{encode_entry, Entry, Share};
use inference_meter::instructions::*;
use inference_meter::state::{seeds, Escrow, MeterConfig, Node};
use mt_treasury::state::{seeds as tseeds, Model, QueryPricing, Stage};
use program_tests::*;
use solana_account::Account;
use solana_keypair::Keypair;
use solana_signer::Signer;

pub const METER_PROGRAM: Pubkey = inference_meter::ID;
pub const TREASURY: Pubkey = mt_treasury::ID;
/// Native token: 6 decimals.
pub const NATIVE: u64 = 1_000_000;
pub const MIN_PERIOD: i64 = 60;
pub const FEE_BPS: u16 = 100;
pub const OPERATOR_BPS: u16 = 2_000;
pub const MIN_STAKE: u64 = 1_000 * NATIVE;
pub const UNBONDING: i64 = 600;
pub const NOTICE: i64 = 300;

pub fn meter_pda() -> Pubkey {
    Pubkey::find_program_address(&[seeds::METER], &METER_PROGRAM).0
}
pub fn escrow_vault() -> Pubkey {
    Pubkey::find_program_address(&[seeds::ESCROW_VAULT], &METER_PROGRAM).0
}
pub fn stake_vault() -> Pubkey {
    Pubkey::find_program_address(&[seeds::STAKE_VAULT], &METER_PROGRAM).0
}
pub fn escrow_pda(key_hash: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(&[seeds::ESCROW, key_hash], &METER_PROGRAM).0
}
pub fn node_pda(operator: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::NODE, operator.as_ref()], &METER_PROGRAM).0
}
pub fn protocol_pda() -> Pubkey {
    Pubkey::find_program_address(&[tseeds::PROTOCOL], &TREASURY).0
}
pub fn fee_vault() -> Pubkey {
    Pubkey::find_program_address(&[tseeds::FEE_VAULT], &TREASURY).0
}
pub fn model_pda(id: u64) -> Pubkey {
    Pubkey::find_program_address(&[tseeds::MODEL, &id.to_le_bytes()], &TREASURY).0
}

/// A fresh API key's id keypair (stands in for the ed25519 key whose seed
/// is sha256 of a new API key): it signs opening and rotating to its escrow.
pub fn new_key() -> Keypair {
    Keypair::new()
}

pub fn escrow_of(key: &Keypair) -> Pubkey {
    escrow_pda(&key.pubkey().to_bytes())
}

pub fn flat_price(input_per_1k: u64, output_per_1k: u64) -> QueryPricing {
    QueryPricing { input_per_1k, output_per_1k, previous_input_per_1k: input_per_1k, previous_output_per_1k: output_per_1k, effective_at: 0 }
}

/// The addresses of a model and the two vaults `deposit_revenue` credits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelKeys {
    pub id: u64,
    pub model: Pubkey,
    pub revenue: Pubkey,
    pub treasury: Pubkey,
}

impl ModelKeys {
    pub fn new(id: u64) -> Self {
        let model = model_pda(id);
        let vault = |seed: &[u8]| Pubkey::find_program_address(&[seed, model.as_ref()], &TREASURY).0;
        ModelKeys { id, model, revenue: vault(tseeds::REVENUE_VAULT), treasury: vault(tseeds::TREASURY_VAULT) }
    }
}

/// The bytes of an initialised SPL token account (Token and Token-2022 share the base layout).
pub fn token_account_data(mint: &Pubkey, owner: &Pubkey, amount: u64) -> Vec<u8> {
    let mut data = vec![0u8; 165];
    data[0..32].copy_from_slice(mint.as_ref());
    data[32..64].copy_from_slice(owner.as_ref());
    data[64..72].copy_from_slice(&amount.to_le_bytes());
    data[108] = 1; // AccountState::Initialized
    data
}

/// A node's keys: the operator (stake, payouts) and the keeper hot key.
pub struct NodeKeys {
    pub operator: Keypair,
    pub keeper: Keypair,
    pub node: Pubkey,
    /// The operator's native-token account (stake source, operator share).
    pub operator_account: Pubkey,
}

/// One settle entry as a test writes it: addresses, not indexes.
#[derive(Clone, Debug)]
pub struct Run {
    pub escrow: Pubkey,
    pub shares: Vec<(Pubkey, u16)>,
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub served_at: i64,
}

impl Run {
    pub fn one(escrow: Pubkey, model: Pubkey, runs: u64, input_tokens: u64, output_tokens: u64, served_at: i64) -> Self {
        Run { escrow, shares: vec![(model, 10_000)], runs, input_tokens, output_tokens, served_at }
    }
}

/// The instruction arguments and remaining accounts of a batch: models and
/// escrows sorted by address, entries indexing them.
/// The batch covers run sequence numbers `first_run ..= first_run + runs − 1`.
pub fn layout(runs: &[Run], seq: u64, first_run: u64, root: [u8; 32], vaults: impl Fn(&Pubkey) -> (Pubkey, Pubkey)) -> (SettleArgs, Vec<AccountMeta>) {
    let mut models: Vec<Pubkey> = runs.iter().flat_map(|r| r.shares.iter().map(|s| s.0)).collect();
    models.sort();
    models.dedup();
    let mut escrows: Vec<Pubkey> = runs.iter().map(|r| r.escrow).collect();
    escrows.sort();
    escrows.dedup();
    let served_base = runs.iter().map(|r| r.served_at).min().unwrap_or(0);
    let mut data = Vec::new();
    for r in runs {
        let mut entry = Entry {
            escrow: escrows.binary_search(&r.escrow).unwrap() as u8,
            share_count: r.shares.len() as u8,
            runs: r.runs,
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            served_offset: (r.served_at - served_base) as u64,
            ..Entry::default()
        };
        for (slot, (model, weight)) in entry.shares.iter_mut().zip(&r.shares) {
            *slot = Share { model: models.binary_search(model).unwrap() as u8, weight_bps: *weight };
        }
        encode_entry(&mut data, &entry);
    }
    let mut remaining = Vec::new();
    for m in &models {
        let (revenue, treasury) = vaults(m);
        remaining.push(AccountMeta::new(*m, false));
        remaining.push(AccountMeta::new(revenue, false));
        remaining.push(AccountMeta::new(treasury, false));
    }
    remaining.extend(escrows.iter().map(|e| AccountMeta::new(*e, false)));
    let total: u64 = runs.iter().map(|r| r.runs).sum();
    let last_run = first_run + (total.max(1) - 1);
    let args = SettleArgs {
        batch_seq: seq,
        first_run_seq: first_run,
        last_run_seq: last_run,
        receipts_root: root,
        served_base,
        model_count: models.len() as u8,
        entries: data,
    };
    (args, remaining)
}

/// Model vaults derived from the model's address.
pub fn model_vaults(model: &Pubkey) -> (Pubkey, Pubkey) {
    let vault = |seed: &[u8]| Pubkey::find_program_address(&[seed, model.as_ref()], &TREASURY).0;
    (vault(tseeds::REVENUE_VAULT), vault(tseeds::TREASURY_VAULT))
}

pub struct MeterFixture {
    pub h: Harness,
    pub admin: Keypair,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    next_model_id: u64,
}

impl MeterFixture {
    /// A chain with its clock paused, the protocol and the meter initialised.
    pub fn new() -> Self {
        let mut h = Harness::new();
        h.pause_clock();
        let admin = h.funded_upgrade_authority(100);
        let mint = h.create_mint(&admin, 6, TOKEN);
        let mut f = MeterFixture { h, admin, mint, token_program: TOKEN, next_model_id: 1_000 };
        let program = TREASURY;
        let init_protocol = Harness::ix(
            program,
            mt_treasury::accounts::InitProtocol {
                admin: f.admin.pubkey(),
                program_data: program_data(&mt_treasury::ID),
                protocol: protocol_pda(),
                native_mint: mint,
                fee_vault: fee_vault(),
                token_program: TOKEN,
                system_program: anchor_lang::system_program::ID,
                event_authority: event_authority(&program),
                program,
            },
            mt_treasury::instruction::InitProtocol {
                args: mt_treasury::InitProtocolArgs {
                    setup_fee: 0,
                    protocol_fee_bps: 250,
                    swap_fee_bps: 30,
                    swap_protocol_share_bps: 5_000,
                    min_period_secs: MIN_PERIOD,
                },
            },
        );
        let admin = f.admin.insecure_clone();
        f.h.execute(&[init_protocol], &[&admin]).expect("init_protocol");
        f.init_meter();
        f
    }

    /// A meter on a chain whose protocol already exists (e.g. built by the
    /// mt_treasury test fixture, with real model launches).
    pub fn on(h: Harness, admin: Keypair, mint: Pubkey, token_program: Pubkey) -> Self {
        let mut f = Self::without_meter(h, admin, mint, token_program);
        f.init_meter();
        f
    }

    /// A fixture on an existing protocol whose meter is not created yet.
    pub fn without_meter(h: Harness, admin: Keypair, mint: Pubkey, token_program: Pubkey) -> Self {
        MeterFixture { h, admin, mint, token_program, next_model_id: 1_000 }
    }

    fn init_meter(&mut self) {
        let admin = self.admin.insecure_clone();
        let ix = self.init_meter_ix(&admin.pubkey(), Self::params());
        self.h.execute(&[ix], &[&admin]).expect("init_meter");
    }

    pub fn params() -> InitMeterArgs {
        InitMeterArgs {
            settlement_fee_bps: FEE_BPS,
            operator_share_bps: OPERATOR_BPS,
            min_node_stake: MIN_STAKE,
            unbonding_secs: UNBONDING,
            withdrawal_notice_secs: NOTICE,
        }
    }

    pub fn now(&self) -> i64 {
        self.h.now()
    }

    pub fn config(&self) -> MeterConfig {
        self.h.account(&meter_pda())
    }
    pub fn escrow(&self, address: &Pubkey) -> Escrow {
        self.h.account(address)
    }
    pub fn node(&self, address: &Pubkey) -> Node {
        self.h.account(address)
    }
    pub fn model(&self, keys: &ModelKeys) -> Model {
        self.h.account(&keys.model)
    }
    pub fn balance(&self, token_account: &Pubkey) -> u64 {
        self.h.token_balance(token_account)
    }

    pub fn init_meter_ix(&self, admin: &Pubkey, args: InitMeterArgs) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::InitMeter {
                admin: *admin,
                protocol: protocol_pda(),
                meter: meter_pda(),
                native_mint: self.mint,
                escrow_vault: escrow_vault(),
                stake_vault: stake_vault(),
                token_program: self.token_program,
                system_program: anchor_lang::system_program::ID,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::InitMeter { args },
        )
    }

    // ---- fixtures written directly into the chain ----

    /// Writes an Active `Model` owned by mt_treasury, with its revenue and
    /// treasury vaults, straight into the chain (no launch). Every field not
    /// named here is zero.
    pub fn fixture_model(&mut self, pricing: QueryPricing, depositor_share_bps: u16, total_deposited: u64) -> ModelKeys {
        let id = self.next_model_id;
        self.next_model_id += 1;
        let keys = ModelKeys::new(id);
        let bump = Pubkey::find_program_address(&[tseeds::MODEL, &id.to_le_bytes()], &TREASURY).1;
        let mut model = zeroed_model();
        model.id = id;
        model.stage = Stage::Active;
        model.pricing = pricing;
        model.revenue.depositor_share_bps = depositor_share_bps;
        model.revenue.total_deposited = total_deposited;
        model.bump = bump;
        model.vault_bumps.revenue = Pubkey::find_program_address(&[tseeds::REVENUE_VAULT, keys.model.as_ref()], &TREASURY).1;
        model.vault_bumps.treasury = Pubkey::find_program_address(&[tseeds::TREASURY_VAULT, keys.model.as_ref()], &TREASURY).1;
        self.write_model(&keys.model, &model, TREASURY);
        for vault in [keys.revenue, keys.treasury] {
            self.write_token_account(vault, &keys.model, 0);
        }
        keys
    }

    /// Writes `model` at `address`, owned by `owner` (a look-alike when not mt_treasury).
    pub fn write_model(&mut self, address: &Pubkey, model: &Model, owner: Pubkey) {
        let mut data = Vec::new();
        model.try_serialize(&mut data).expect("serialize model");
        let space = 8 + <Model as anchor_lang::Space>::INIT_SPACE;
        data.resize(space.max(data.len()), 0);
        let lamports = self.h.chain.minimum_balance_for_rent_exemption(data.len());
        self.h.chain.set_account(*address, Account { lamports, data, owner, executable: false, rent_epoch: 0 });
    }

    pub fn write_token_account(&mut self, address: Pubkey, owner: &Pubkey, amount: u64) {
        let data = token_account_data(&self.mint, owner, amount);
        let lamports = self.h.chain.minimum_balance_for_rent_exemption(data.len());
        self.h.chain.set_account(address, Account { lamports, data, owner: self.token_program, executable: false, rent_epoch: 0 });
    }

    /// Rewrites a model in place.
    pub fn update_model(&mut self, keys: &ModelKeys, change: impl FnOnce(&mut Model)) {
        let mut model = self.model(keys);
        change(&mut model);
        self.write_model(&keys.model, &model, TREASURY);
    }

    // ---- wallets ----

    /// A wallet with SOL and `native` base units in its associated token account.
    pub fn wallet(&mut self, native: u64) -> Keypair {
        let key = self.h.funded(10);
        let admin = self.admin.insecure_clone();
        let mint = self.mint;
        let ata = self.h.ata(&admin, &key.pubkey(), &mint, self.token_program);
        if native > 0 {
            let ix = anchor_spl::token_2022::spl_token_2022::instruction::mint_to(&self.token_program, &mint, &ata, &admin.pubkey(), &[], native).unwrap();
            self.h.execute(&[ix], &[&admin]).expect("mint to");
        }
        key
    }

    pub fn ata(&self, owner: &Pubkey) -> Pubkey {
        associated_token_address(owner, &self.mint, &self.token_program)
    }

    // ---- escrows ----

    pub fn open_escrow_accounts(&self, owner: &Pubkey, key: &Pubkey) -> inference_meter::accounts::OpenEscrow {
        inference_meter::accounts::OpenEscrow {
            owner: *owner,
            key: *key,
            escrow: escrow_pda(&key.to_bytes()),
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    pub fn open_escrow_ix(&self, owner: &Pubkey, key: &Pubkey, args: OpenEscrowArgs) -> Instruction {
        Harness::ix(METER_PROGRAM, self.open_escrow_accounts(owner, key), inference_meter::instruction::OpenEscrow { args })
    }

    /// Opens an escrow for a new key with no rules; returns its address.
    pub fn open_escrow(&mut self, owner: &Keypair) -> Pubkey {
        self.open_escrow_with(owner, None, None)
    }

    pub fn open_escrow_with(&mut self, owner: &Keypair, allowed_models: Option<Vec<u64>>, spend_limit: Option<u64>) -> Pubkey {
        let key = new_key();
        let ix = self.open_escrow_ix(&owner.pubkey(), &key.pubkey(), OpenEscrowArgs { allowed_models, spend_limit });
        self.h.execute(&[ix], &[owner, &key]).expect("open_escrow");
        escrow_of(&key)
    }

    pub fn deposit_accounts(&self, depositor: &Pubkey, escrow: &Pubkey) -> inference_meter::accounts::DepositEscrow {
        inference_meter::accounts::DepositEscrow {
            depositor: *depositor,
            escrow: *escrow,
            meter: meter_pda(),
            escrow_vault: escrow_vault(),
            source: self.ata(depositor),
            native_mint: self.mint,
            token_program: self.token_program,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    pub fn deposit_ix(&self, accounts: inference_meter::accounts::DepositEscrow, amount: u64, expected_owner: Pubkey) -> Instruction {
        Harness::ix(METER_PROGRAM, accounts, inference_meter::instruction::DepositEscrow { amount, expected_owner })
    }

    /// The escrow's owner deposits `amount`.
    pub fn deposit(&mut self, owner: &Keypair, escrow: &Pubkey, amount: u64) -> TxResult {
        let ix = self.deposit_ix(self.deposit_accounts(&owner.pubkey(), escrow), amount, owner.pubkey());
        self.h.execute(&[ix], &[owner])
    }

    pub fn allow_ix(&self, owner: &Pubkey, escrow: &Pubkey, node: &Pubkey, amount: u64) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::AllowNode {
                owner: *owner,
                escrow: *escrow,
                node: *node,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::AllowNode { amount },
        )
    }

    /// The owner moves `amount` of the escrow's unallocated balance into `node`'s lane.
    pub fn allow(&mut self, owner: &Keypair, escrow: &Pubkey, node: &Pubkey, amount: u64) -> TxResult {
        let ix = self.allow_ix(&owner.pubkey(), escrow, node, amount);
        self.h.execute(&[ix], &[owner])
    }

    /// The owner deposits `amount` and gives all of it to `node`'s lane, in one transaction.
    pub fn fund(&mut self, owner: &Keypair, escrow: &Pubkey, node: &Pubkey, amount: u64) -> TxResult {
        let deposit = self.deposit_ix(self.deposit_accounts(&owner.pubkey(), escrow), amount, owner.pubkey());
        let allow = self.allow_ix(&owner.pubkey(), escrow, node, amount);
        self.h.execute(&[deposit, allow], &[owner])
    }

    pub fn request_revoke_ix(&self, owner: &Pubkey, escrow: &Pubkey, node: Pubkey) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::RequestRevoke {
                owner: *owner,
                escrow: *escrow,
                meter: meter_pda(),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::RequestRevoke { node },
        )
    }

    pub fn revoke_ix(&self, owner: &Pubkey, escrow: &Pubkey, node: Pubkey) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::RevokeNode {
                owner: *owner,
                escrow: *escrow,
                meter: meter_pda(),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::RevokeNode { node },
        )
    }

    /// The lane `node` has in `escrow` (panics if there is none).
    pub fn lane(&self, escrow: &Pubkey, node: &Pubkey) -> inference_meter::state::Lane {
        let e = self.escrow(escrow);
        e.lanes[e.lane_index(node).expect("lane")]
    }

    pub fn request_withdrawal_ix(&self, owner: &Pubkey, escrow: &Pubkey, amount: u64) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::RequestWithdrawal {
                owner: *owner,
                escrow: *escrow,
                meter: meter_pda(),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::RequestWithdrawal { amount },
        )
    }

    pub fn withdraw_accounts(&self, owner: &Pubkey, escrow: &Pubkey) -> inference_meter::accounts::WithdrawEscrow {
        inference_meter::accounts::WithdrawEscrow {
            owner: *owner,
            escrow: *escrow,
            meter: meter_pda(),
            escrow_vault: escrow_vault(),
            destination: self.ata(owner),
            native_mint: self.mint,
            token_program: self.token_program,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    pub fn withdraw_ix(&self, accounts: inference_meter::accounts::WithdrawEscrow) -> Instruction {
        Harness::ix(METER_PROGRAM, accounts, inference_meter::instruction::WithdrawEscrow {})
    }

    pub fn rotate_accounts(&self, owner: &Pubkey, escrow: &Pubkey, new_key: &Pubkey) -> inference_meter::accounts::RotateKey {
        inference_meter::accounts::RotateKey {
            owner: *owner,
            escrow: *escrow,
            new_key: *new_key,
            new_escrow: escrow_pda(&new_key.to_bytes()),
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    pub fn rotate_ix(&self, accounts: inference_meter::accounts::RotateKey) -> Instruction {
        Harness::ix(METER_PROGRAM, accounts, inference_meter::instruction::RotateKey {})
    }

    pub fn close_escrow_ix(&self, owner: &Pubkey, escrow: &Pubkey) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::CloseEscrow {
                owner: *owner,
                escrow: *escrow,
                meter: meter_pda(),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::CloseEscrow {},
        )
    }

    // ---- nodes ----

    pub fn register_accounts(&self, operator: &Pubkey) -> inference_meter::accounts::RegisterNode {
        inference_meter::accounts::RegisterNode {
            operator: *operator,
            meter: meter_pda(),
            node: node_pda(operator),
            stake_vault: stake_vault(),
            source: self.ata(operator),
            native_mint: self.mint,
            token_program: self.token_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    pub fn register_ix(&self, accounts: inference_meter::accounts::RegisterNode, args: RegisterNodeArgs) -> Instruction {
        Harness::ix(METER_PROGRAM, accounts, inference_meter::instruction::RegisterNode { args })
    }

    /// An operator with `stake` staked (plus `spare` native left in its account), and a keeper key.
    pub fn register_node_with(&mut self, stake: u64, spare: u64) -> NodeKeys {
        let operator = self.wallet(stake + spare);
        let keeper = self.h.funded(10);
        let args = RegisterNodeArgs { keeper: keeper.pubkey(), endpoint: "https://node.example/v1".into(), stake };
        let ix = self.register_ix(self.register_accounts(&operator.pubkey()), args);
        self.h.execute(&[ix], &[&operator]).expect("register_node");
        let operator_account = self.ata(&operator.pubkey());
        NodeKeys { node: node_pda(&operator.pubkey()), operator_account, operator, keeper }
    }

    pub fn register_node(&mut self) -> NodeKeys {
        self.register_node_with(MIN_STAKE, 0)
    }

    pub fn add_stake_accounts(&self, operator: &Pubkey) -> inference_meter::accounts::AddStake {
        inference_meter::accounts::AddStake {
            operator: *operator,
            node: node_pda(operator),
            meter: meter_pda(),
            stake_vault: stake_vault(),
            source: self.ata(operator),
            native_mint: self.mint,
            token_program: self.token_program,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    pub fn add_stake_ix(&self, accounts: inference_meter::accounts::AddStake, amount: u64) -> Instruction {
        Harness::ix(METER_PROGRAM, accounts, inference_meter::instruction::AddStake { amount })
    }

    pub fn begin_unbonding_ix(&self, operator: &Pubkey, node: &Pubkey) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::BeginUnbonding {
                operator: *operator,
                node: *node,
                meter: meter_pda(),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::BeginUnbonding {},
        )
    }

    pub fn withdraw_stake_accounts(&self, operator: &Pubkey) -> inference_meter::accounts::WithdrawStake {
        inference_meter::accounts::WithdrawStake {
            operator: *operator,
            node: node_pda(operator),
            meter: meter_pda(),
            stake_vault: stake_vault(),
            destination: self.ata(operator),
            native_mint: self.mint,
            token_program: self.token_program,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    pub fn withdraw_stake_ix(&self, accounts: inference_meter::accounts::WithdrawStake) -> Instruction {
        Harness::ix(METER_PROGRAM, accounts, inference_meter::instruction::WithdrawStake {})
    }

    pub fn set_keeper_ix(&self, operator: &Pubkey, node: &Pubkey, new_keeper: Pubkey) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::SetKeeperKey {
                operator: *operator,
                node: *node,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::SetKeeperKey { new_keeper },
        )
    }

    pub fn set_endpoint_ix(&self, operator: &Pubkey, node: &Pubkey, endpoint: &str) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::SetEndpoint {
                operator: *operator,
                node: *node,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::SetEndpoint { endpoint: endpoint.into() },
        )
    }

    pub fn deactivate_ix(&self, operator: &Pubkey, node: &Pubkey) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::DeactivateNode {
                operator: *operator,
                node: *node,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::DeactivateNode {},
        )
    }

    pub fn activate_ix(&self, operator: &Pubkey, node: &Pubkey) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::ActivateNode {
                operator: *operator,
                node: *node,
                meter: meter_pda(),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::ActivateNode {},
        )
    }

    pub fn slash_accounts(&self, admin: &Pubkey, node: &Pubkey) -> inference_meter::accounts::SlashNode {
        inference_meter::accounts::SlashNode {
            admin: *admin,
            protocol: protocol_pda(),
            meter: meter_pda(),
            node: *node,
            stake_vault: stake_vault(),
            fee_vault: fee_vault(),
            native_mint: self.mint,
            token_program: self.token_program,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    pub fn slash_ix(&self, accounts: inference_meter::accounts::SlashNode, amount: u64, reason: u16) -> Instruction {
        Harness::ix(METER_PROGRAM, accounts, inference_meter::instruction::SlashNode { amount, reason })
    }

    pub fn update_meter_ix(&self, admin: &Pubkey, args: InitMeterArgs) -> Instruction {
        Harness::ix(
            METER_PROGRAM,
            inference_meter::accounts::UpdateMeter {
                admin: *admin,
                protocol: protocol_pda(),
                meter: meter_pda(),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::UpdateMeter { args },
        )
    }

    // ---- settle ----

    pub fn settle_accounts(&self, node: &NodeKeys) -> inference_meter::accounts::Settle {
        inference_meter::accounts::Settle {
            keeper: node.keeper.pubkey(),
            node: node.node,
            meter: meter_pda(),
            protocol: protocol_pda(),
            escrow_vault: escrow_vault(),
            fee_vault: fee_vault(),
            operator_account: node.operator_account,
            native_mint: self.mint,
            token_program: self.token_program,
            treasury_program: TREASURY,
            treasury_event_authority: event_authority(&TREASURY),
            membership: None,
            domain: None,
            domain_account: None,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    /// A settle instruction from explicit parts (for tests that tamper with them).
    pub fn settle_raw(&self, accounts: inference_meter::accounts::Settle, args: SettleArgs, remaining: Vec<AccountMeta>) -> Instruction {
        let mut ix = Harness::ix(METER_PROGRAM, accounts, inference_meter::instruction::Settle { args });
        ix.accounts.extend(remaining);
        ix
    }

    /// The settle instruction for `runs` as batch `seq` of `node`, covering
    /// the run numbers right after the node's last settled run.
    pub fn settle_ix(&self, node: &NodeKeys, seq: u64, runs: &[Run]) -> Instruction {
        let first_run = self.node(&node.node).last_run_seq + 1;
        let (args, remaining) = layout(runs, seq, first_run, [seq as u8; 32], model_vaults);
        self.settle_raw(self.settle_accounts(node), args, remaining)
    }

    /// Settles `runs` as batch `seq`, signed by the node's keeper.
    pub fn settle(&mut self, node: &NodeKeys, seq: u64, runs: &[Run]) -> TxResult {
        let ix = self.settle_ix(node, seq, runs);
        let keeper = node.keeper.insecure_clone();
        self.h.execute(&[ix], &[&keeper])
    }

    /// Every native-token balance that settlement can move, by address.
    pub fn snapshot(&self, extra: &[Pubkey]) -> BTreeMap<Pubkey, u64> {
        let mut out = BTreeMap::new();
        for a in [escrow_vault(), fee_vault(), stake_vault()].iter().chain(extra) {
            out.insert(*a, self.balance(a));
        }
        out
    }
}

/// A `Model` with every field zero (deserialised from zeroed account data),
/// so fixtures survive fields being added to `Model`.
pub fn zeroed_model() -> Model {
    let mut data = vec![0u8; 8 + <Model as anchor_lang::Space>::INIT_SPACE];
    data[..8].copy_from_slice(Model::DISCRIMINATOR);
    Model::try_deserialize(&mut data.as_slice()).expect("zeroed model decodes")
}

/// What settling a batch should do, computed independently of the program
/// (plain u128 arithmetic), for tests to compare against the chain.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Expected {
    pub escrow_debits: BTreeMap<Pubkey, u64>,
    pub model_charged: BTreeMap<Pubkey, u64>,
    pub model_revenue: BTreeMap<Pubkey, u64>,
    pub to_protocol: u64,
    pub to_operator: u64,
    pub cost: u64,
    pub charged: u64,
}

/// Escrow state the reference needs: what settlement through one node's
/// lane may still take.
#[derive(Debug, Clone, Copy)]
pub struct EscrowView {
    /// The node's lane balance.
    pub balance: u64,
    pub spent: u64,
    pub spend_limit: Option<u64>,
}

impl EscrowView {
    pub fn lane(e: &Escrow, node: &Pubkey) -> Self {
        let balance = e.lane_index(node).map_or(0, |i| e.lanes[i].balance);
        EscrowView { balance, spent: e.spent, spend_limit: e.spend_limit }
    }
}

pub fn expected(runs: &[Run], escrows: &mut BTreeMap<Pubkey, EscrowView>, prices: &BTreeMap<Pubkey, QueryPricing>, fee_bps: u16, op_bps: u16) -> Expected {
    let mut out = Expected::default();
    for r in runs {
        let costs: Vec<u64> = r
            .shares
            .iter()
            .map(|(m, w)| {
                let p = prices[m];
                let (pi, po) = if r.served_at >= p.effective_at { (p.input_per_1k, p.output_per_1k) } else { (p.previous_input_per_1k, p.previous_output_per_1k) };
                let raw = r.input_tokens as u128 * pi as u128 + r.output_tokens as u128 * po as u128;
                let weighted = raw * *w as u128;
                u64::try_from(weighted.div_ceil(10_000_000)).unwrap()
            })
            .collect();
        let cost: u64 = costs.iter().sum();
        let e = escrows.get_mut(&r.escrow).unwrap();
        let available = match e.spend_limit {
            None => e.balance,
            Some(l) => e.balance.min(l.saturating_sub(e.spent)),
        };
        let charged = cost.min(available);
        let mut given = 0;
        for (i, ((m, _), c)) in r.shares.iter().zip(&costs).enumerate() {
            let part = if charged == cost {
                *c
            } else if i + 1 == costs.len() {
                charged - given
            } else {
                (*c as u128 * charged as u128 / cost as u128) as u64
            };
            given += part;
            *out.model_charged.entry(*m).or_default() += part;
        }
        e.balance -= charged;
        e.spent += charged;
        *out.escrow_debits.entry(r.escrow).or_default() += charged;
        out.cost += cost;
        out.charged += charged;
    }
    for (m, charged) in &out.model_charged {
        let fee = (*charged as u128 * fee_bps as u128).div_ceil(10_000) as u64;
        let op = (*charged as u128 * op_bps as u128 / 10_000) as u64;
        out.to_protocol += fee;
        out.to_operator += op;
        out.model_revenue.insert(*m, charged - fee - op);
    }
    out
}
