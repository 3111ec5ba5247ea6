//! Domain set-up for the inference_meter tests, on top of `meter_common`:
//! one builder per domain instruction (accounts a test may substitute), a
//! domain with its operator, memberships, and settle against a domain lane.
#![allow(dead_code)]

use anchor_lang::prelude::Pubkey;
use inference_meter::instructions::*;
use inference_meter::state::{seeds, Domain, Membership};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::meter_common::*;

/// Domain terms the tests start from.
pub const DOMAIN_FEE_BPS: u16 = 1_000;
pub const DOMAIN_NOTICE: i64 = 2 * NOTICE;

pub fn domain_pda(operator: &Pubkey, name: &str) -> Pubkey {
    Pubkey::find_program_address(&[seeds::DOMAIN, operator.as_ref(), name.as_bytes()], &METER_PROGRAM).0
}

pub fn membership_pda(domain: &Pubkey, node: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seeds::MEMBER, domain.as_ref(), node.as_ref()], &METER_PROGRAM).0
}

/// A domain's operator, address and the operator's native-token account.
pub struct DomainKeys {
    pub operator: Keypair,
    pub name: String,
    pub domain: Pubkey,
    pub operator_account: Pubkey,
}

pub fn terms(name: &str) -> CreateDomainArgs {
    CreateDomainArgs { name: name.into(), bond: MIN_STAKE, min_node_stake: MIN_STAKE, fee_bps: DOMAIN_FEE_BPS, notice_secs: DOMAIN_NOTICE }
}

pub trait Domains {
    fn create_domain_accounts(&self, operator: &Pubkey, name: &str) -> inference_meter::accounts::CreateDomain;
    fn create_domain_ix(&self, accounts: inference_meter::accounts::CreateDomain, args: CreateDomainArgs) -> Instruction;
    fn create_domain_with(&mut self, args: CreateDomainArgs) -> DomainKeys;
    fn create_domain_by(&mut self, operator: &Keypair, args: CreateDomainArgs) -> DomainKeys;
    fn create_domain(&mut self) -> DomainKeys;
    fn update_domain_ix(&self, operator: &Pubkey, domain: &Pubkey, args: UpdateDomainArgs) -> Instruction;
    fn close_domain_ix(&self, operator: &Pubkey, domain: &Pubkey, destination: &Pubkey) -> Instruction;
    fn slash_domain_ix(&self, admin: &Pubkey, domain: &Pubkey, amount: u64, reason: u16) -> Instruction;
    fn request_join_ix(&self, operator: &Pubkey, node: &Pubkey, domain: &Pubkey) -> Instruction;
    fn admit_ix(&self, operator: &Pubkey, domain: &Pubkey, node: &Pubkey) -> Instruction;
    fn remove_ix(&self, operator: &Pubkey, domain: &Pubkey, node: &Pubkey) -> Instruction;
    fn leave_ix(&self, operator: &Pubkey, node: &Pubkey, domain: &Pubkey) -> Instruction;
    fn close_membership_ix(&self, closer: &Pubkey, node_operator: &Pubkey, node: &Pubkey, domain: &Pubkey) -> Instruction;
    fn allow_domain_ix(&self, owner: &Pubkey, escrow: &Pubkey, domain: &Pubkey, amount: u64) -> Instruction;
    fn join(&mut self, node: &NodeKeys, d: &DomainKeys) -> TxResult;
    fn admit(&mut self, d: &DomainKeys, node: &NodeKeys) -> TxResult;
    fn join_and_admit(&mut self, node: &NodeKeys, d: &DomainKeys);
    fn remove(&mut self, d: &DomainKeys, node: &NodeKeys) -> TxResult;
    fn leave(&mut self, node: &NodeKeys, d: &DomainKeys) -> TxResult;
    fn fund_domain(&mut self, owner: &Keypair, escrow: &Pubkey, domain: &Pubkey, amount: u64) -> TxResult;
    fn domain(&self, address: &Pubkey) -> Domain;
    fn membership(&self, d: &DomainKeys, node: &NodeKeys) -> Membership;
    fn domain_settle_accounts(&self, node: &NodeKeys, d: &DomainKeys) -> inference_meter::accounts::Settle;
    fn settle_domain_ix(&self, node: &NodeKeys, d: &DomainKeys, seq: u64, runs: &[Run]) -> Instruction;
    fn settle_domain(&mut self, node: &NodeKeys, d: &DomainKeys, seq: u64, runs: &[Run]) -> TxResult;
}

fn meter_ix(accounts: impl anchor_lang::ToAccountMetas, data: impl anchor_lang::InstructionData) -> Instruction {
    Harness::ix(METER_PROGRAM, accounts, data)
}

impl Domains for MeterFixture {
    fn create_domain_accounts(&self, operator: &Pubkey, name: &str) -> inference_meter::accounts::CreateDomain {
        inference_meter::accounts::CreateDomain {
            operator: *operator,
            meter: meter_pda(),
            domain: domain_pda(operator, name),
            stake_vault: stake_vault(),
            source: self.ata(operator),
            native_mint: self.mint,
            token_program: self.token_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&METER_PROGRAM),
            program: METER_PROGRAM,
        }
    }

    fn create_domain_ix(&self, accounts: inference_meter::accounts::CreateDomain, args: CreateDomainArgs) -> Instruction {
        meter_ix(accounts, inference_meter::instruction::CreateDomain { args })
    }

    /// A new operator with exactly the bond in its account creates a domain.
    fn create_domain_with(&mut self, args: CreateDomainArgs) -> DomainKeys {
        let operator = self.wallet(args.bond);
        self.create_domain_by(&operator, args)
    }

    /// `operator` (holding at least the bond) creates a domain.
    fn create_domain_by(&mut self, operator: &Keypair, args: CreateDomainArgs) -> DomainKeys {
        let name = args.name.clone();
        let ix = self.create_domain_ix(self.create_domain_accounts(&operator.pubkey(), &name), args);
        self.h.execute(&[ix], &[operator]).expect("create_domain");
        let operator_account = self.ata(&operator.pubkey());
        DomainKeys { domain: domain_pda(&operator.pubkey(), &name), name, operator_account, operator: operator.insecure_clone() }
    }

    fn create_domain(&mut self) -> DomainKeys {
        self.create_domain_with(terms("alpha"))
    }

    fn update_domain_ix(&self, operator: &Pubkey, domain: &Pubkey, args: UpdateDomainArgs) -> Instruction {
        meter_ix(
            inference_meter::accounts::UpdateDomain {
                operator: *operator,
                domain: *domain,
                meter: meter_pda(),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::UpdateDomain { args },
        )
    }

    fn close_domain_ix(&self, operator: &Pubkey, domain: &Pubkey, destination: &Pubkey) -> Instruction {
        meter_ix(
            inference_meter::accounts::CloseDomain {
                operator: *operator,
                domain: *domain,
                meter: meter_pda(),
                stake_vault: stake_vault(),
                destination: *destination,
                native_mint: self.mint,
                token_program: self.token_program,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::CloseDomain {},
        )
    }

    fn slash_domain_ix(&self, admin: &Pubkey, domain: &Pubkey, amount: u64, reason: u16) -> Instruction {
        meter_ix(
            inference_meter::accounts::SlashDomain {
                admin: *admin,
                protocol: protocol_pda(),
                meter: meter_pda(),
                domain: *domain,
                stake_vault: stake_vault(),
                fee_vault: fee_vault(),
                native_mint: self.mint,
                token_program: self.token_program,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::SlashDomain { amount, reason },
        )
    }

    fn request_join_ix(&self, operator: &Pubkey, node: &Pubkey, domain: &Pubkey) -> Instruction {
        meter_ix(
            inference_meter::accounts::RequestJoin {
                operator: *operator,
                node: *node,
                domain: *domain,
                membership: membership_pda(domain, node),
                system_program: anchor_lang::system_program::ID,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::RequestJoin {},
        )
    }

    fn admit_ix(&self, operator: &Pubkey, domain: &Pubkey, node: &Pubkey) -> Instruction {
        meter_ix(
            inference_meter::accounts::AdmitMember {
                operator: *operator,
                domain: *domain,
                node: *node,
                membership: membership_pda(domain, node),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::AdmitMember {},
        )
    }

    fn remove_ix(&self, operator: &Pubkey, domain: &Pubkey, node: &Pubkey) -> Instruction {
        meter_ix(
            inference_meter::accounts::RemoveMember {
                operator: *operator,
                domain: *domain,
                membership: membership_pda(domain, node),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::RemoveMember {},
        )
    }

    fn leave_ix(&self, operator: &Pubkey, node: &Pubkey, domain: &Pubkey) -> Instruction {
        meter_ix(
            inference_meter::accounts::LeaveDomain {
                operator: *operator,
                node: *node,
                domain: *domain,
                membership: membership_pda(domain, node),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::LeaveDomain {},
        )
    }

    fn close_membership_ix(&self, closer: &Pubkey, node_operator: &Pubkey, node: &Pubkey, domain: &Pubkey) -> Instruction {
        meter_ix(
            inference_meter::accounts::CloseMembership {
                closer: *closer,
                node_operator: *node_operator,
                node: *node,
                domain: *domain,
                membership: membership_pda(domain, node),
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::CloseMembership {},
        )
    }

    fn allow_domain_ix(&self, owner: &Pubkey, escrow: &Pubkey, domain: &Pubkey, amount: u64) -> Instruction {
        meter_ix(
            inference_meter::accounts::AllowDomain {
                owner: *owner,
                escrow: *escrow,
                domain: *domain,
                event_authority: event_authority(&METER_PROGRAM),
                program: METER_PROGRAM,
            },
            inference_meter::instruction::AllowDomain { amount },
        )
    }

    fn join(&mut self, node: &NodeKeys, d: &DomainKeys) -> TxResult {
        let ix = self.request_join_ix(&node.operator.pubkey(), &node.node, &d.domain);
        let op = node.operator.insecure_clone();
        self.h.execute(&[ix], &[&op])
    }

    fn admit(&mut self, d: &DomainKeys, node: &NodeKeys) -> TxResult {
        let ix = self.admit_ix(&d.operator.pubkey(), &d.domain, &node.node);
        let op = d.operator.insecure_clone();
        self.h.execute(&[ix], &[&op])
    }

    fn join_and_admit(&mut self, node: &NodeKeys, d: &DomainKeys) {
        self.join(node, d).expect("request_join");
        self.admit(d, node).expect("admit_member");
    }

    fn remove(&mut self, d: &DomainKeys, node: &NodeKeys) -> TxResult {
        let ix = self.remove_ix(&d.operator.pubkey(), &d.domain, &node.node);
        let op = d.operator.insecure_clone();
        self.h.execute(&[ix], &[&op])
    }

    fn leave(&mut self, node: &NodeKeys, d: &DomainKeys) -> TxResult {
        let ix = self.leave_ix(&node.operator.pubkey(), &node.node, &d.domain);
        let op = node.operator.insecure_clone();
        self.h.execute(&[ix], &[&op])
    }

    /// The owner deposits `amount` and gives all of it to the domain's lane.
    fn fund_domain(&mut self, owner: &Keypair, escrow: &Pubkey, domain: &Pubkey, amount: u64) -> TxResult {
        let deposit = self.deposit_ix(self.deposit_accounts(&owner.pubkey(), escrow), amount, owner.pubkey());
        let allow = self.allow_domain_ix(&owner.pubkey(), escrow, domain, amount);
        self.h.execute(&[deposit, allow], &[owner])
    }

    fn domain(&self, address: &Pubkey) -> Domain {
        self.h.account(address)
    }

    fn membership(&self, d: &DomainKeys, node: &NodeKeys) -> Membership {
        self.h.account(&membership_pda(&d.domain, &node.node))
    }

    fn domain_settle_accounts(&self, node: &NodeKeys, d: &DomainKeys) -> inference_meter::accounts::Settle {
        let mut accounts = self.settle_accounts(node);
        accounts.membership = Some(membership_pda(&d.domain, &node.node));
        accounts.domain = Some(d.domain);
        accounts.domain_account = Some(d.operator_account);
        accounts
    }

    fn settle_domain_ix(&self, node: &NodeKeys, d: &DomainKeys, seq: u64, runs: &[Run]) -> Instruction {
        let first_run = self.node(&node.node).last_run_seq + 1;
        let (args, remaining) = layout(runs, seq, first_run, [seq as u8; 32], model_vaults);
        self.settle_raw(self.domain_settle_accounts(node, d), args, remaining)
    }

    /// Settles `runs` as batch `seq` of `node` against `d`'s lanes.
    fn settle_domain(&mut self, node: &NodeKeys, d: &DomainKeys, seq: u64, runs: &[Run]) -> TxResult {
        let ix = self.settle_domain_ix(node, d, seq, runs);
        let keeper = node.keeper.insecure_clone();
        self.h.execute(&[ix], &[&keeper])
    }
}
