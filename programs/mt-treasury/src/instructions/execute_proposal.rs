use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::ProposalExecuted;
use crate::instructions::create_proposal::{check_action, check_destination};
use crate::state::*;
use crate::vault::pay_from_model;

/// Carries out a passed proposal, by anyone, once, at or after its
/// `execute_after`: a transfer from the model's treasury (native tokens from
/// the treasury vault, MT from the rewards vault) to the destination it
/// names, or a change of the model's governance rules, revenue rules or
/// per-query price. A price change takes effect one hold-up period (the
/// model's, at execution) after execution: runs served before keep the price
/// they were served under (`QueryPricing::at`). Bounds are checked again
/// against the protocol's current minimum period.
#[event_cpi]
#[derive(Accounts)]
pub struct ExecuteProposal<'info> {
    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(
        mut,
        seeds = [seeds::MODEL, &model.id.to_le_bytes()],
        bump = model.bump,
        has_one = mt_mint @ TreasuryError::WrongMtMint,
    )]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::PROPOSAL, model.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
        has_one = model @ TreasuryError::WrongProposalModel,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    #[account(mut, seeds = [seeds::TREASURY_VAULT, model.key().as_ref()], bump = model.vault_bumps.treasury)]
    pub treasury_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::REWARDS_VAULT, model.key().as_ref()], bump = model.vault_bumps.rewards)]
    pub rewards_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// For a transfer: the token account the proposal names. None otherwise.
    #[account(mut)]
    pub destination: Option<Box<InterfaceAccount<'info, TokenAccount>>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub mt_token_program: Program<'info, Token2022>,
}

impl ExecuteProposal<'_> {
    fn validate(&self) -> Result<()> {
        let p = &self.proposal;
        p.check_executable(Clock::get()?.unix_timestamp)?;
        require!(!p.action.is_bounty_action(), TreasuryError::UseBountyInstruction);
        check_action(&p.action, &self.model, &self.protocol)?;
        check_destination(&p.action, &self.model, &self.protocol, self.destination.as_deref())?;
        match p.action {
            ProposalAction::TransferNative { amount, .. } => {
                require!(self.treasury_vault.amount >= amount, TreasuryError::TreasuryInsufficient)
            }
            ProposalAction::TransferMt { amount, .. } => {
                require!(self.rewards_vault.amount >= amount, TreasuryError::TreasuryInsufficient)
            }
            _ => {}
        }
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn execute_proposal(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let action = ctx.accounts.proposal.action;
        let a = &ctx.accounts;
        match action {
            ProposalAction::TransferNative { amount, .. } => {
                let destination = a.destination.as_ref().ok_or(TreasuryError::DestinationRequired)?;
                pay_from_model(
                    &a.native_token_program.to_account_info(),
                    &a.model,
                    a.treasury_vault.to_account_info(),
                    a.native_mint.to_account_info(),
                    destination.to_account_info(),
                    amount,
                    a.native_mint.decimals,
                )?;
            }
            ProposalAction::TransferMt { amount, .. } => {
                let destination = a.destination.as_ref().ok_or(TreasuryError::DestinationRequired)?;
                pay_from_model(
                    &a.mt_token_program.to_account_info(),
                    &a.model,
                    a.rewards_vault.to_account_info(),
                    a.mt_mint.to_account_info(),
                    destination.to_account_info(),
                    amount,
                    MT_DECIMALS,
                )?;
            }
            _ => {}
        }

        let model = &mut ctx.accounts.model;
        let mut effective_at = 0;
        match action {
            ProposalAction::SetGovernance { rules } => model.governance = rules,
            ProposalAction::SetRevenueRules { depositor_share_bps, warmup_secs } => {
                // Revenue already received was shared when it arrived, so the
                // accumulator needs no checkpoint: the new share applies from
                // the next deposit, the new warm-up to deposits from now on.
                model.revenue.depositor_share_bps = depositor_share_bps;
                model.revenue.warmup_secs = warmup_secs;
            }
            ProposalAction::SetPrice { input_per_1k, output_per_1k } => {
                effective_at = now.checked_add(model.governance.hold_up_secs).ok_or(TreasuryError::MathOverflow)?;
                model.pricing.schedule(input_per_1k, output_per_1k, now, effective_at)?;
            }
            _ => {}
        }

        let p = &mut ctx.accounts.proposal;
        p.mark_executed(now);
        emit_cpi!(ProposalExecuted { model: p.model, proposal: p.key(), action, executed_at: now, effective_at });
        Ok(())
    }
}
