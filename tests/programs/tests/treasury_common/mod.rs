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
    /// Voters' MT (stage 3; created by the first deposit_mt).
    pub deposit: Pubkey,
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
            deposit: vault_pda(seeds::DEPOSIT_VAULT, &model),
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
        let admin = h.funded_upgrade_authority(100);
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
                program_data: program_data(&PROGRAM),
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

    pub fn accept_admin_ix(&self, new_admin: &Pubkey) -> Instruction {
        Harness::ix(
            PROGRAM,
            mt_treasury::accounts::AcceptAdmin { new_admin: *new_admin, protocol: protocol_pda(), event_authority: event_authority(&PROGRAM), program: PROGRAM },
            mt_treasury::instruction::AcceptAdmin {},
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

    pub fn close_contribution_ix(&self, contributor: &Pubkey, keys: &ModelKeys) -> Instruction {
        Harness::ix(
            PROGRAM,
            mt_treasury::accounts::CloseContribution {
                contributor: *contributor,
                model: keys.model,
                contribution: contribution_pda(&keys.model, contributor),
                event_authority: event_authority(&PROGRAM),
                program: PROGRAM,
            },
            mt_treasury::instruction::CloseContribution {},
        )
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

// ---------------------------------------------------------------- stage 3

use mt_treasury::state::{Proposal, ProposalAction, SwapSide, VoteChoice, VoteRecord, Voter};

pub fn voter_pda(model: &Pubkey, owner: &Pubkey) -> Pubkey {
    pda(&[seeds::VOTER, model.as_ref(), owner.as_ref()])
}
pub fn proposal_pda(model: &Pubkey, index: u64) -> Pubkey {
    pda(&[seeds::PROPOSAL, model.as_ref(), &index.to_le_bytes()])
}
pub fn vote_pda(proposal: &Pubkey, voter: &Pubkey) -> Pubkey {
    pda(&[seeds::VOTE, proposal.as_ref(), voter.as_ref()])
}

/// An active model: its raise succeeded and every holder claimed their MT
/// into their associated MT account.
pub struct Active {
    pub f: Fixture,
    pub creator: Keypair,
    pub keys: ModelKeys,
    pub holders: Vec<Keypair>,
}

impl Active {
    /// Default terms; holder i pays `contributions[i]` native base units
    /// (2 native per MT) and claims; the raise finalises at its end.
    /// With [30 000, 20 000, 10 000] NATIVE: 15 000, 10 000 and 5 000 MT;
    /// once the creator's 20 000 MT have vested (1 000 s after finalisation),
    /// 50 000 MT circulating (100 000 − liquidity 20 000 − rewards 10 000 +
    /// 20 000 unsold).
    pub fn new(contributions: &[u64]) -> Self {
        let mut f = Fixture::new();
        let (creator, keys, _) = f.launch();
        f.warp_to_start(&keys);
        let mut holders = Vec::new();
        for &amount in contributions {
            let w = f.wallet(amount + 1_000 * NATIVE);
            f.contribute(&w, &keys, amount).expect("contribute");
            holders.push(w);
        }
        f.warp_to_end(&keys);
        let payer = holders[0].insecure_clone();
        f.finalize(&payer, &keys).expect("finalize");
        for w in &holders {
            f.claim_mt(w, &keys).expect("claim_mt");
        }
        Active { f, creator, keys, holders }
    }

    /// Three holders with 15 000, 10 000 and 5 000 MT.
    pub fn standard() -> Self {
        Self::new(&[30_000 * NATIVE, 20_000 * NATIVE, 10_000 * NATIVE])
    }

    pub fn mt_ata(&self, owner: &Pubkey) -> Pubkey {
        associated_token_address(owner, &self.keys.mt_mint, &TOKEN_2022)
    }

    pub fn native_ata(&self, owner: &Pubkey) -> Pubkey {
        self.f.native_ata(owner)
    }

    pub fn model(&self) -> Model {
        self.f.model(&self.keys)
    }

    pub fn voter(&self, owner: &Pubkey) -> Voter {
        self.f.h.account(&voter_pda(&self.keys.model, owner))
    }

    pub fn proposal(&self, index: u64) -> Proposal {
        self.f.h.account(&proposal_pda(&self.keys.model, index))
    }

    pub fn vote_record(&self, index: u64, owner: &Pubkey) -> VoteRecord {
        let proposal = proposal_pda(&self.keys.model, index);
        self.f.h.account(&vote_pda(&proposal, &voter_pda(&self.keys.model, owner)))
    }

    pub fn now(&self) -> i64 {
        self.f.now()
    }

    pub fn warp(&mut self, to: i64) {
        self.f.h.warp_to(to);
    }

    pub fn exec(&mut self, ix: Instruction, signers: &[&Keypair]) -> TxResult {
        self.f.h.execute(&[ix], signers)
    }

    // ---- deposits and rewards ----

    pub fn deposit_mt_accounts(&self, owner: &Pubkey) -> mt_treasury::accounts::DepositMt {
        mt_treasury::accounts::DepositMt {
            owner: *owner,
            model: self.keys.model,
            voter: voter_pda(&self.keys.model, owner),
            source: self.mt_ata(owner),
            deposit_vault: self.keys.deposit,
            mt_mint: self.keys.mt_mint,
            mt_token_program: TOKEN_2022,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn deposit_mt_ix(&self, accounts: mt_treasury::accounts::DepositMt, amount: u64) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::DepositMt { amount })
    }

    pub fn deposit_mt(&mut self, owner: &Keypair, amount: u64) -> TxResult {
        let ix = self.deposit_mt_ix(self.deposit_mt_accounts(&owner.pubkey()), amount);
        self.exec(ix, &[owner])
    }

    pub fn withdraw_mt_accounts(&self, owner: &Pubkey) -> mt_treasury::accounts::WithdrawMt {
        mt_treasury::accounts::WithdrawMt {
            owner: *owner,
            model: self.keys.model,
            voter: voter_pda(&self.keys.model, owner),
            deposit_vault: self.keys.deposit,
            destination: self.mt_ata(owner),
            mt_mint: self.keys.mt_mint,
            mt_token_program: TOKEN_2022,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn withdraw_mt_ix(&self, accounts: mt_treasury::accounts::WithdrawMt, amount: u64) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::WithdrawMt { amount })
    }

    pub fn withdraw_mt(&mut self, owner: &Keypair, amount: u64) -> TxResult {
        let ix = self.withdraw_mt_ix(self.withdraw_mt_accounts(&owner.pubkey()), amount);
        self.exec(ix, &[owner])
    }

    pub fn checkpoint_accounts(&self, owner: &Pubkey) -> mt_treasury::accounts::CheckpointVoter {
        mt_treasury::accounts::CheckpointVoter {
            model: self.keys.model,
            voter: voter_pda(&self.keys.model, owner),
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn checkpoint_ix(&self, accounts: mt_treasury::accounts::CheckpointVoter) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::CheckpointVoter {})
    }

    /// Checkpoints `owner`'s record, paid by `payer` (anyone may).
    pub fn checkpoint(&mut self, payer: &Keypair, owner: &Pubkey) -> TxResult {
        let ix = self.checkpoint_ix(self.checkpoint_accounts(owner));
        self.exec(ix, &[payer])
    }

    pub fn claim_rewards_accounts(&self, owner: &Pubkey) -> mt_treasury::accounts::ClaimRewards {
        mt_treasury::accounts::ClaimRewards {
            owner: *owner,
            protocol: protocol_pda(),
            native_mint: self.f.native_mint,
            model: self.keys.model,
            voter: voter_pda(&self.keys.model, owner),
            revenue_vault: self.keys.revenue,
            destination: self.native_ata(owner),
            native_token_program: self.f.native_program,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn claim_rewards_ix(&self, accounts: mt_treasury::accounts::ClaimRewards) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::ClaimRewards {})
    }

    pub fn claim_rewards(&mut self, owner: &Keypair) -> TxResult {
        let ix = self.claim_rewards_ix(self.claim_rewards_accounts(&owner.pubkey()));
        self.exec(ix, &[owner])
    }

    pub fn deposit_revenue_accounts(&self, payer: &Pubkey) -> mt_treasury::accounts::DepositRevenue {
        mt_treasury::accounts::DepositRevenue {
            payer: *payer,
            protocol: protocol_pda(),
            model: self.keys.model,
            source: self.native_ata(payer),
            revenue_vault: self.keys.revenue,
            treasury_vault: self.keys.treasury,
            native_mint: self.f.native_mint,
            token_program: self.f.native_program,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn deposit_revenue_ix(&self, accounts: mt_treasury::accounts::DepositRevenue, amount: u64) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::DepositRevenue { amount })
    }

    pub fn deposit_revenue(&mut self, payer: &Keypair, amount: u64) -> TxResult {
        let ix = self.deposit_revenue_ix(self.deposit_revenue_accounts(&payer.pubkey()), amount);
        self.exec(ix, &[payer])
    }

    /// Moves the clock past the model's warm-up and checkpoints `owners`, so
    /// their deposits earn.
    pub fn warm_up(&mut self, owners: &[&Keypair]) {
        let warmup = self.model().revenue.warmup_secs;
        let to = self.now() + warmup;
        self.warp(to);
        for o in owners {
            self.checkpoint(o, &o.pubkey()).expect("checkpoint");
        }
    }

    /// Moves the clock on by the model's warm-up: MT deposited before now
    /// then votes on proposals created from then on (and earns, once
    /// checkpointed).
    pub fn warm_votes(&mut self) {
        let to = self.now() + self.model().revenue.warmup_secs;
        self.warp(to);
    }

    // ---- proposals ----

    pub fn create_proposal_accounts(&self, proposer: &Pubkey, destination: Option<Pubkey>) -> mt_treasury::accounts::CreateProposal {
        let index = self.model().proposal_count;
        mt_treasury::accounts::CreateProposal {
            proposer: *proposer,
            protocol: protocol_pda(),
            model: self.keys.model,
            voter: voter_pda(&self.keys.model, proposer),
            proposal: proposal_pda(&self.keys.model, index),
            rewards_vault: self.keys.rewards,
            destination,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn create_proposal_ix(&self, accounts: mt_treasury::accounts::CreateProposal, args: CreateProposalArgs) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::CreateProposal { args })
    }

    /// Proposes `action` (its destination, if a transfer, is passed).
    pub fn propose_tx(&mut self, proposer: &Keypair, action: ProposalAction) -> TxResult {
        let ix = self.create_proposal_ix(self.create_proposal_accounts(&proposer.pubkey(), destination_of(&action)), args_for(action));
        self.exec(ix, &[proposer])
    }

    /// Proposes `action`; returns the proposal's index.
    pub fn propose(&mut self, proposer: &Keypair, action: ProposalAction) -> Result<u64, Failure> {
        let index = self.model().proposal_count;
        self.propose_tx(proposer, action).map(|_| index)
    }

    pub fn cast_vote_accounts(&self, owner: &Pubkey, index: u64) -> mt_treasury::accounts::CastVote {
        let proposal = proposal_pda(&self.keys.model, index);
        let voter = voter_pda(&self.keys.model, owner);
        mt_treasury::accounts::CastVote {
            owner: *owner,
            model: self.keys.model,
            proposal,
            voter,
            vote_record: vote_pda(&proposal, &voter),
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn cast_vote_ix(&self, accounts: mt_treasury::accounts::CastVote, choice: VoteChoice) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::CastVote { choice })
    }

    pub fn vote(&mut self, owner: &Keypair, index: u64, choice: VoteChoice) -> TxResult {
        let ix = self.cast_vote_ix(self.cast_vote_accounts(&owner.pubkey(), index), choice);
        self.exec(ix, &[owner])
    }

    pub fn finalize_proposal_accounts(&self, index: u64) -> mt_treasury::accounts::FinalizeProposal {
        mt_treasury::accounts::FinalizeProposal {
            model: self.keys.model,
            proposal: proposal_pda(&self.keys.model, index),
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn finalize_proposal_ix(&self, accounts: mt_treasury::accounts::FinalizeProposal) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::FinalizeProposal {})
    }

    pub fn finalize_proposal(&mut self, payer: &Keypair, index: u64) -> TxResult {
        let ix = self.finalize_proposal_ix(self.finalize_proposal_accounts(index));
        self.exec(ix, &[payer])
    }

    pub fn execute_proposal_accounts(&self, index: u64) -> mt_treasury::accounts::ExecuteProposal {
        let proposal = proposal_pda(&self.keys.model, index);
        let destination = self.f.h.chain.account(&proposal).and_then(|_| destination_of(&self.proposal(index).action));
        mt_treasury::accounts::ExecuteProposal {
            protocol: protocol_pda(),
            model: self.keys.model,
            proposal,
            treasury_vault: self.keys.treasury,
            rewards_vault: self.keys.rewards,
            destination,
            native_mint: self.f.native_mint,
            mt_mint: self.keys.mt_mint,
            native_token_program: self.f.native_program,
            mt_token_program: TOKEN_2022,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn execute_proposal_ix(&self, accounts: mt_treasury::accounts::ExecuteProposal) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::ExecuteProposal {})
    }

    pub fn execute_proposal(&mut self, payer: &Keypair, index: u64) -> TxResult {
        let ix = self.execute_proposal_ix(self.execute_proposal_accounts(index));
        self.exec(ix, &[payer])
    }

    pub fn cancel_proposal_accounts(&self, proposer: &Pubkey, index: u64) -> mt_treasury::accounts::CancelProposal {
        mt_treasury::accounts::CancelProposal {
            proposer: *proposer,
            model: self.keys.model,
            proposal: proposal_pda(&self.keys.model, index),
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn cancel_proposal_ix(&self, accounts: mt_treasury::accounts::CancelProposal) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::CancelProposal {})
    }

    pub fn cancel_proposal(&mut self, proposer: &Keypair, index: u64) -> TxResult {
        let ix = self.cancel_proposal_ix(self.cancel_proposal_accounts(&proposer.pubkey(), index));
        self.exec(ix, &[proposer])
    }

    pub fn close_vote_record_accounts(&self, owner: &Pubkey, index: u64) -> mt_treasury::accounts::CloseVoteRecord {
        let proposal = proposal_pda(&self.keys.model, index);
        let voter = voter_pda(&self.keys.model, owner);
        mt_treasury::accounts::CloseVoteRecord {
            owner: *owner,
            model: self.keys.model,
            proposal,
            voter,
            vote_record: vote_pda(&proposal, &voter),
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn close_vote_record_ix(&self, accounts: mt_treasury::accounts::CloseVoteRecord) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::CloseVoteRecord {})
    }

    pub fn close_vote_record(&mut self, owner: &Keypair, index: u64) -> TxResult {
        let ix = self.close_vote_record_ix(self.close_vote_record_accounts(&owner.pubkey(), index));
        self.exec(ix, &[owner])
    }

    pub fn close_voter_accounts(&self, owner: &Pubkey) -> mt_treasury::accounts::CloseVoter {
        mt_treasury::accounts::CloseVoter {
            owner: *owner,
            model: self.keys.model,
            voter: voter_pda(&self.keys.model, owner),
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn close_voter_ix(&self, accounts: mt_treasury::accounts::CloseVoter) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::CloseVoter {})
    }

    pub fn close_voter(&mut self, owner: &Keypair) -> TxResult {
        let ix = self.close_voter_ix(self.close_voter_accounts(&owner.pubkey()));
        self.exec(ix, &[owner])
    }

    /// Moves the clock to proposal `index`'s end of voting (exclusive: votes refused, finalisation due).
    pub fn warp_to_voting_end(&mut self, index: u64) {
        let end = self.proposal(index).voting_ends;
        self.warp(end);
    }

    // ---- market ----

    pub fn open_market_accounts(&self) -> mt_treasury::accounts::OpenMarket {
        mt_treasury::accounts::OpenMarket {
            protocol: protocol_pda(),
            model: self.keys.model,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn open_market_ix(&self, accounts: mt_treasury::accounts::OpenMarket) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::OpenMarket {})
    }

    pub fn open_market(&mut self, payer: &Keypair) -> TxResult {
        let ix = self.open_market_ix(self.open_market_accounts());
        self.exec(ix, &[payer])
    }

    pub fn swap_accounts(&self, trader: &Pubkey) -> mt_treasury::accounts::Swap {
        mt_treasury::accounts::Swap {
            trader: *trader,
            protocol: protocol_pda(),
            model: self.keys.model,
            trader_native: self.native_ata(trader),
            trader_mt: self.mt_ata(trader),
            liquidity_vault: self.keys.liquidity,
            liquidity_native_vault: self.keys.liquidity_native,
            revenue_vault: self.keys.revenue,
            treasury_vault: self.keys.treasury,
            fee_vault: fee_vault_pda(),
            native_mint: self.f.native_mint,
            mt_mint: self.keys.mt_mint,
            native_token_program: self.f.native_program,
            mt_token_program: TOKEN_2022,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn swap_ix(&self, accounts: mt_treasury::accounts::Swap, side: SwapSide, amount_in: u64, min_out: u64) -> Instruction {
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::Swap { args: SwapArgs { side, amount_in, min_out } })
    }

    pub fn swap(&mut self, trader: &Keypair, side: SwapSide, amount_in: u64, min_out: u64) -> TxResult {
        let ix = self.swap_ix(self.swap_accounts(&trader.pubkey()), side, amount_in, min_out);
        self.exec(ix, &[trader])
    }

    /// A trader with SOL, `native` native base units and an (empty) MT account.
    pub fn trader(&mut self, native: u64) -> Keypair {
        let w = self.f.wallet(native);
        let keys = self.keys;
        self.f.mt_ata(&w, &w.pubkey(), &keys);
        w
    }
}

/// The destination token account a transfer action names.
pub fn destination_of(action: &ProposalAction) -> Option<Pubkey> {
    match *action {
        ProposalAction::TransferNative { destination, .. } | ProposalAction::TransferMt { destination, .. } => Some(destination),
        _ => None,
    }
}

/// Proposal arguments for `action`: a signal gets a document hash and URI.
pub fn args_for(action: ProposalAction) -> CreateProposalArgs {
    CreateProposalArgs { action, content_hash: [7; 32], uri: "https://example.org/proposals/1.md".into() }
}
