use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::SubmissionClaimed;
use crate::state::*;
use crate::vault::pay_from_model;

/// Pays a contributor, once, what their finalised submission earned
/// (`Submission::contributor_payout`): the award and bond once the bounty
/// is settled if accepted, the bond if rejected in good faith or
/// unreviewed; spam earns nothing.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimSubmission<'info> {
    pub contributor: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(seeds = [seeds::BOUNTY, model.key().as_ref(), &bounty.id.to_le_bytes()], bump = bounty.bump, has_one = model)]
    pub bounty: Box<Account<'info, Bounty>>,

    #[account(
        mut,
        seeds = [seeds::SUBMISSION, bounty.key().as_ref(), contributor.key().as_ref()],
        bump = submission.bump,
        has_one = bounty,
        has_one = contributor,
    )]
    pub submission: Box<Account<'info, Submission>>,

    #[account(mut, seeds = [seeds::BOUNTY_POOL, model.key().as_ref()], bump = bounty_pool.bump, has_one = model)]
    pub bounty_pool: Box<Account<'info, BountyPool>>,
    #[account(mut, seeds = [seeds::BOUNTY_VAULT, model.key().as_ref()], bump = bounty_pool.vault_bump)]
    pub bounty_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any native-token account; the contributor chooses where the money goes.
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
}

impl ClaimSubmission<'_> {
    fn validate(&self) -> Result<()> {
        let s = &self.submission;
        require!(s.is_finalized(), TreasuryError::SubmissionNotFinalized);
        require!(!s.claimed, TreasuryError::AlreadyClaimed);
        if s.outcome == SubmissionOutcome::Accepted {
            require!(self.bounty.settled, TreasuryError::BountyNotSettled);
        }
        require!(s.contributor_payout(self.bounty.award)? > 0, TreasuryError::NothingToClaim);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_submission(ctx: Context<Self>) -> Result<()> {
        let amount = ctx.accounts.submission.contributor_payout(ctx.accounts.bounty.award)?;
        let a = &ctx.accounts;
        pay_from_model(
            &a.native_token_program.to_account_info(),
            &a.model,
            a.bounty_vault.to_account_info(),
            a.native_mint.to_account_info(),
            a.destination.to_account_info(),
            amount,
            a.native_mint.decimals,
        )?;
        ctx.accounts.bounty_pool.pay(amount)?;
        let s = &mut ctx.accounts.submission;
        s.claimed = true;
        emit_cpi!(SubmissionClaimed { submission: s.key(), contributor: s.contributor, outcome: s.outcome, amount });
        Ok(())
    }
}
