use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::BountyPoolFunded;
use crate::state::*;
use crate::vault::pay_from_model;

/// Executes a passed `FundBountyPool` proposal, by anyone, once, in its
/// execution window: moves the amount from the model's treasury vault into
/// its bounty pool (created here on first use, rent paid by the caller).
#[event_cpi]
#[derive(Accounts)]
pub struct FundBountyPool<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::PROPOSAL, model.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
        has_one = model @ TreasuryError::WrongProposalModel,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    #[account(
        init_if_needed,
        payer = payer,
        space = BountyPool::SPACE,
        seeds = [seeds::BOUNTY_POOL, model.key().as_ref()],
        bump,
    )]
    pub bounty_pool: Box<Account<'info, BountyPool>>,

    #[account(init_if_needed, payer = payer, seeds = [seeds::BOUNTY_VAULT, model.key().as_ref()], bump,
        token::mint = native_mint, token::authority = model, token::token_program = native_token_program)]
    pub bounty_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, seeds = [seeds::TREASURY_VAULT, model.key().as_ref()], bump = model.vault_bumps.treasury)]
    pub treasury_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl FundBountyPool<'_> {
    fn amount(&self) -> Result<u64> {
        match self.proposal.action {
            ProposalAction::FundBountyPool { amount } => Ok(amount),
            _ => err!(TreasuryError::WrongProposalAction),
        }
    }

    fn validate(&self) -> Result<()> {
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        self.proposal.check_executable(Clock::get()?.unix_timestamp)?;
        let amount = self.amount()?;
        require!(self.treasury_vault.amount >= amount, TreasuryError::TreasuryInsufficient);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn fund_bounty_pool(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let amount = ctx.accounts.amount()?;
        let a = &ctx.accounts;
        pay_from_model(
            &a.native_token_program.to_account_info(),
            &a.model,
            a.treasury_vault.to_account_info(),
            a.native_mint.to_account_info(),
            a.bounty_vault.to_account_info(),
            amount,
            a.native_mint.decimals,
        )?;
        let model_key = a.model.key();
        let pool = &mut ctx.accounts.bounty_pool;
        if pool.model == Pubkey::default() {
            pool.model = model_key;
            pool.bump = ctx.bumps.bounty_pool;
            pool.vault_bump = ctx.bumps.bounty_vault;
        }
        pool.available = pool.available.checked_add(amount).ok_or(TreasuryError::MathOverflow)?;
        pool.funded = pool.funded.checked_add(amount).ok_or(TreasuryError::MathOverflow)?;
        ctx.accounts.proposal.mark_executed(now);
        let pool = &ctx.accounts.bounty_pool;
        emit_cpi!(BountyPoolFunded {
            model: model_key,
            proposal: ctx.accounts.proposal.key(),
            amount,
            available: pool.available,
            funded: pool.funded,
        });
        Ok(())
    }
}
