//! Shared set-up for the mt_treasury tests: a protocol with a native mint,
//! a launched model with default terms, contributors holding native tokens,
//! and one builder per instruction whose accounts a test may substitute.
#![allow(dead_code)]

use mt_treasury::instructions::*;
use mt_treasury::state::{seeds, Contribution, GovernanceRules, Model, Protocol, SupplySplit, MT_UNIT};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

pub const PROGRAM: Pubkey = mt_treasury::ID;
/// Native token: 6 decimals.
pub const NATIVE: u64 = 1_000_000;
pub const SETUP_FEE: u64 = 5 * NATIVE;
pub const PROTOCOL_FEE_BPS: u16 = 250;
pub const MIN_PERIOD: i64 = 60;

pub fn pda(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &PROGRAM).0
}
pub fn protocol_pda() -> Pubkey {
    pda(&[seeds::PROTOCOL])
}
pub fn fee_vault_pda() -> Pubkey {
    pda(&[seeds::FEE_VAULT])
}
pub fn model_pda(id: u64) -> Pubkey {
    pda(&[seeds::MODEL, &id.to_le_bytes()])
}
pub fn mt_mint_pda(model: &Pubkey) -> Pubkey {
    pda(&[seeds::MT_MINT, model.as_ref()])
}
pub fn vault_pda(seed: &[u8], model: &Pubkey) -> Pubkey {
    pda(&[seed, model.as_ref()])
}
pub fn contribution_pda(model: &Pubkey, contributor: &Pubkey) -> Pubkey {
    pda(&[seeds::CONTRIBUTION, model.as_ref(), contributor.as_ref()])
}

/// The addresses of one model.
#[derive(Clone, Copy, Debug)]
pub struct ModelKeys {
    pub id: u64,
    pub model: Pubkey,
    pub mt_mint: Pubkey,
    pub raise: Pubkey,
    pub treasury: Pubkey,
    pub revenue: Pubkey,
    pub liquidity_native: Pubkey,
    pub sale: Pubkey,
    pub creator_vault: Pubkey,
    pub liquidity: Pubkey,
    pub rewards: Pubkey,
}

impl ModelKeys {
    pub fn new(id: u64) -> Self {
        let model = model_pda(id);
        ModelKeys {
            id,
            model,
            mt_mint: mt_mint_pda(&model),
            raise: vault_pda(seeds::RAISE_VAULT, &model),
            treasury: vault_pda(seeds::TREASURY_VAULT, &model),
            revenue: vault_pda(seeds::REVENUE_VAULT, &model),
            liquidity_native: vault_pda(seeds::LIQUIDITY_NATIVE_VAULT, &model),
            sale: vault_pda(seeds::SALE_VAULT, &model),
            creator_vault: vault_pda(seeds::CREATOR_VAULT, &model),
            liquidity: vault_pda(seeds::LIQUIDITY_VAULT, &model),
            rewards: vault_pda(seeds::REWARDS_VAULT, &model),
        }
    }
}

/// Default launch terms relative to `now`: 100 000 MT (20k creator, 50k
/// sale, 20k liquidity, 10k rewards); 2 native per MT; soft cap 40 000,
/// hard cap 100 000 (= the whole sale allocation), 30 000 per wallet;
/// open from now+100 to now+1100; vesting cliff 100 s, duration 1 000 s.
pub fn default_terms(now: i64) -> LaunchModelArgs {
    LaunchModelArgs {
        supply: SupplySplit {
            hard_supply: 100_000 * MT_UNIT,
            creator: 20_000 * MT_UNIT,
            crowdfund: 50_000 * MT_UNIT,
            liquidity: 20_000 * MT_UNIT,
            contributor_rewards: 10_000 * MT_UNIT,
        },
        vesting: VestingTerms { cliff_secs: 100, duration_secs: 1_000 },
        crowdfund: CrowdfundTerms {
            price: 2 * NATIVE,
            soft_cap: 40_000 * NATIVE,
            hard_cap: 100_000 * NATIVE,
            start: now + 100,
            end: now + 1_100,
            per_wallet_cap: 30_000 * NATIVE,
            liquidity_bps: 2_000,
            allowlist_root: None,
        },
        governance: GovernanceRules {
            quorum_bps: 1_000,
            threshold_bps: 5_000,
            voting_period_secs: 3_600,
            hold_up_secs: 3_600,
            min_propose_mt: 1_000 * MT_UNIT,
        },
        depositor_share_bps: 7_000,
        price: QueryPrice { input_per_1k: 10, output_per_1k: 30 },
    }
}

pub fn token_args() -> CreateModelTokenArgs {
    CreateModelTokenArgs { name: "Tiny Llama Commons".into(), symbol: "TLC".into(), uri: "https://example.org/tlc.json".into() }
}

pub struct Fixture {
    pub h: Harness,
    pub admin: Keypair,
    pub native_mint: Pubkey,
    pub native_program: Pubkey,
}

impl Fixture {
    /// A chain with its clock paused, a native mint (SPL Token) and the protocol.
    pub fn new() -> Self {
        Self::with_native_program(TOKEN)
    }

    pub fn with_native_program(native_program: Pubkey) -> Self {
        let mut h = Harness::new();
        h.pause_clock();
        let admin = h.funded(100);
        let native_mint = h.create_mint(&admin, 6, native_program);
        let mut f = Fixture { h, admin, native_mint, native_program };
        let ix = f.init_protocol_ix();
        let admin = f.admin.insecure_clone();
        f.h.execute(&[ix], &[&admin]).expect("init_protocol");
        f
    }

    pub fn now(&self) -> i64 {
        self.h.now()
    }

    pub fn init_protocol_ix(&self) -> Instruction {
        Harness::ix(
            PROGRAM,
            mt_treasury::accounts::InitProtocol {
                admin: self.admin.pubkey(),
                protocol: protocol_pda(),
                native_mint: self.native_mint,
                fee_vault: fee_vault_pda(),
                token_program: self.native_program,
                system_program: anchor_lang::system_program::ID,
                event_authority: event_authority(&PROGRAM),
                program: PROGRAM,
            },
            mt_treasury::instruction::InitProtocol {
                args: InitProtocolArgs {
                    setup_fee: SETUP_FEE,
                    protocol_fee_bps: PROTOCOL_FEE_BPS,
                    swap_fee_bps: 30,
                    swap_protocol_share_bps: 5_000,
                    min_period_secs: MIN_PERIOD,
                },
            },
        )
    }

    pub fn protocol(&self) -> Protocol {
        self.h.account(&protocol_pda())
    }

    pub fn model(&self, keys: &ModelKeys) -> Model {
        self.h.account(&keys.model)
    }

    pub fn contribution(&self, keys: &ModelKeys, contributor: &Pubkey) -> Contribution {
        self.h.account(&contribution_pda(&keys.model, contributor))
    }

    /// A wallet with SOL and `native` base units of the native token in its associated account.
    pub fn wallet(&mut self, native: u64) -> Keypair {
        let key = self.h.funded(10);
        let admin = self.admin.insecure_clone();
        self.h.mint_to(&admin, &self.native_mint.clone(), &key.pubkey(), native, self.native_program);
        key
    }

    pub fn native_ata(&self, owner: &Pubkey) -> Pubkey {
        associated_token_address(owner, &self.native_mint, &self.native_program)
    }

    /// `owner`'s associated MT account, created if missing.
    pub fn mt_ata(&mut self, payer: &Keypair, owner: &Pubkey, keys: &ModelKeys) -> Pubkey {
        self.h.ata(payer, owner, &keys.mt_mint, TOKEN_2022)
    }

    pub fn update_protocol_ix(&self, admin: &Pubkey, args: UpdateProtocolArgs) -> Instruction {
        Harness::ix(
            PROGRAM,
            mt_treasury::accounts::UpdateProtocol {
                admin: *admin,
                protocol: protocol_pda(),
                event_authority: event_authority(&PROGRAM),
                program: PROGRAM,
            },
            mt_treasury::instruction::UpdateProtocol { args },
        )
    }

    pub fn set_paused(&mut self, paused: bool) {
        let ix = self.update_protocol_ix(&self.admin.pubkey(), UpdateProtocolArgs { paused: Some(paused), ..Default::default() });
        let admin = self.admin.insecure_clone();
        self.h.execute(&[ix], &[&admin]).expect("update_protocol");
    }

    // ---- launch ----

    pub fn launch_accounts(&self, creator: &Pubkey, id: u64) -> mt_treasury::accounts::LaunchModel {
        mt_treasury::accounts::LaunchModel {
            creator: *creator,
            protocol: protocol_pda(),
            model: model_pda(id),
            fee_source: self.native_ata(creator),
            fee_vault: fee_vault_pda(),
            native_mint: self.native_mint,
            native_token_program: self.native_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn launch_ix(&self, accounts: mt_treasury::accounts::LaunchModel, args: LaunchModelArgs) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::LaunchModel { args })
    }

    pub fn create_token_accounts(&self, creator: &Pubkey, keys: &ModelKeys) -> mt_treasury::accounts::CreateModelToken {
        mt_treasury::accounts::CreateModelToken {
            creator: *creator,
            protocol: protocol_pda(),
            model: keys.model,
            mt_mint: keys.mt_mint,
            mt_token_program: TOKEN_2022,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn create_token_ix(&self, accounts: mt_treasury::accounts::CreateModelToken, args: CreateModelTokenArgs) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::CreateModelToken { args })
    }

    pub fn open_vaults_accounts(&self, creator: &Pubkey, keys: &ModelKeys) -> mt_treasury::accounts::OpenModelVaults {
        mt_treasury::accounts::OpenModelVaults {
            creator: *creator,
            protocol: protocol_pda(),
            model: keys.model,
            native_mint: self.native_mint,
            mt_mint: keys.mt_mint,
            raise_vault: keys.raise,
            treasury_vault: keys.treasury,
            revenue_vault: keys.revenue,
            liquidity_native_vault: keys.liquidity_native,
            sale_vault: keys.sale,
            creator_vault: keys.creator_vault,
            liquidity_vault: keys.liquidity,
            rewards_vault: keys.rewards,
            native_token_program: self.native_program,
            mt_token_program: TOKEN_2022,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn open_vaults_ix(&self, accounts: mt_treasury::accounts::OpenModelVaults) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::OpenModelVaults {})
    }

    /// A creator with SOL and native tokens for the set-up fee.
    pub fn creator(&mut self) -> Keypair {
        self.wallet(SETUP_FEE * 2)
    }

    /// Runs the three launch steps with `args`; returns the model's keys.
    pub fn launch_with(&mut self, creator: &Keypair, args: LaunchModelArgs) -> ModelKeys {
        let id = self.protocol().model_count;
        let keys = ModelKeys::new(id);
        let ixs = [
            self.launch_ix(self.launch_accounts(&creator.pubkey(), id), args),
            self.create_token_ix(self.create_token_accounts(&creator.pubkey(), &keys), token_args()),
            self.open_vaults_ix(self.open_vaults_accounts(&creator.pubkey(), &keys)),
        ];
        for ix in ixs {
            self.h.execute(&[ix], &[creator]).expect("launch step");
        }
        keys
    }

    /// A new creator and a model launched with the default terms.
    pub fn launch(&mut self) -> (Keypair, ModelKeys, LaunchModelArgs) {
        let creator = self.creator();
        let args = default_terms(self.now());
        let keys = self.launch_with(&creator, args.clone());
        (creator, keys, args)
    }

    // ---- crowdfund ----

    pub fn contribute_accounts(&self, contributor: &Pubkey, keys: &ModelKeys) -> mt_treasury::accounts::Contribute {
        mt_treasury::accounts::Contribute {
            contributor: *contributor,
            protocol: protocol_pda(),
            model: keys.model,
            contribution: contribution_pda(&keys.model, contributor),
            source: self.native_ata(contributor),
            raise_vault: keys.raise,
            native_mint: self.native_mint,
            native_token_program: self.native_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn contribute_ix(&self, accounts: mt_treasury::accounts::Contribute, args: ContributeArgs) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::Contribute { args })
    }

    pub fn contribute(&mut self, contributor: &Keypair, keys: &ModelKeys, amount: u64) -> TxResult {
        let ix = self.contribute_ix(
            self.contribute_accounts(&contributor.pubkey(), keys),
            ContributeArgs { amount, min_mt: 0, proof: vec![] },
        );
        self.h.execute(&[ix], &[contributor])
    }

    pub fn finalize_accounts(&self, keys: &ModelKeys) -> mt_treasury::accounts::FinalizeRaise {
        mt_treasury::accounts::FinalizeRaise {
            protocol: protocol_pda(),
            model: keys.model,
            mt_mint: keys.mt_mint,
            native_mint: self.native_mint,
            raise_vault: keys.raise,
            fee_vault: fee_vault_pda(),
            treasury_vault: keys.treasury,
            liquidity_native_vault: keys.liquidity_native,
            sale_vault: keys.sale,
            creator_vault: keys.creator_vault,
            liquidity_vault: keys.liquidity,
            rewards_vault: keys.rewards,
            native_token_program: self.native_program,
            mt_token_program: TOKEN_2022,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn finalize_ix(&self, accounts: mt_treasury::accounts::FinalizeRaise) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::FinalizeRaise {})
    }

    /// Finalises `keys`' raise, paid for by `payer` (anyone may).
    pub fn finalize(&mut self, payer: &Keypair, keys: &ModelKeys) -> TxResult {
        let ix = self.finalize_ix(self.finalize_accounts(keys));
        self.h.execute(&[ix], &[payer])
    }

    pub fn claim_mt_accounts(&self, contributor: &Pubkey, keys: &ModelKeys, destination: Pubkey) -> mt_treasury::accounts::ClaimMt {
        mt_treasury::accounts::ClaimMt {
            contributor: *contributor,
            model: keys.model,
            contribution: contribution_pda(&keys.model, contributor),
            sale_vault: keys.sale,
            destination,
            mt_mint: keys.mt_mint,
            mt_token_program: TOKEN_2022,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn claim_mt_ix(&self, accounts: mt_treasury::accounts::ClaimMt) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::ClaimMt {})
    }

    /// Claims into the contributor's associated MT account (created if missing).
    pub fn claim_mt(&mut self, contributor: &Keypair, keys: &ModelKeys) -> TxResult {
        let destination = self.mt_ata(contributor, &contributor.pubkey(), keys);
        let ix = self.claim_mt_ix(self.claim_mt_accounts(&contributor.pubkey(), keys, destination));
        self.h.execute(&[ix], &[contributor])
    }

    pub fn refund_accounts(&self, contributor: &Pubkey, keys: &ModelKeys) -> mt_treasury::accounts::Refund {
        mt_treasury::accounts::Refund {
            contributor: *contributor,
            protocol: protocol_pda(),
            model: keys.model,
            contribution: contribution_pda(&keys.model, contributor),
            raise_vault: keys.raise,
            destination: self.native_ata(contributor),
            native_mint: self.native_mint,
            native_token_program: self.native_program,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn refund_ix(&self, accounts: mt_treasury::accounts::Refund) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::Refund {})
    }

    pub fn refund(&mut self, contributor: &Keypair, keys: &ModelKeys) -> TxResult {
        let ix = self.refund_ix(self.refund_accounts(&contributor.pubkey(), keys));
        self.h.execute(&[ix], &[contributor])
    }

    pub fn claim_vested_accounts(&self, creator: &Pubkey, keys: &ModelKeys, destination: Pubkey) -> mt_treasury::accounts::ClaimVested {
        mt_treasury::accounts::ClaimVested {
            creator: *creator,
            model: keys.model,
            creator_vault: keys.creator_vault,
            destination,
            mt_mint: keys.mt_mint,
            mt_token_program: TOKEN_2022,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn claim_vested_ix(&self, accounts: mt_treasury::accounts::ClaimVested) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::ClaimVested {})
    }

    pub fn claim_vested(&mut self, creator: &Keypair, keys: &ModelKeys) -> TxResult {
        let destination = self.mt_ata(creator, &creator.pubkey(), keys);
        let ix = self.claim_vested_ix(self.claim_vested_accounts(&creator.pubkey(), keys, destination));
        self.h.execute(&[ix], &[creator])
    }

    /// Moves the clock to the crowdfund's start (inclusive: contributions accepted).
    pub fn warp_to_start(&mut self, keys: &ModelKeys) {
        let start = self.model(keys).crowdfund.start;
        self.h.warp_to(start);
    }

    /// Moves the clock to the crowdfund's end (exclusive: contributions refused, finalisation due).
    pub fn warp_to_end(&mut self, keys: &ModelKeys) {
        let end = self.model(keys).crowdfund.end;
        self.h.warp_to(end);
    }
}

/// `ix` with `key` no longer marked as a signer, so the transaction can be
/// signed by someone else (the "missing signer" attack).
pub fn without_signer(mut ix: Instruction, key: &Pubkey) -> Instruction {
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        meta.is_signer = false;
    }
    ix
}

/// A second model's keys with a freshly launched model, for substitution attacks.
pub fn other_model(f: &mut Fixture) -> ModelKeys {
    f.launch().1
}

/// A plain mint of the same program as the native mint, with `owner` holding `amount` of it.
pub fn look_alike_native(f: &mut Fixture, owner: &Pubkey, amount: u64) -> (Pubkey, Pubkey) {
    let admin = f.admin.insecure_clone();
    let program = f.native_program;
    let mint = f.h.create_mint(&admin, 6, program);
    let ata = f.h.mint_to(&admin, &mint, owner, amount, program);
    (mint, ata)
}
