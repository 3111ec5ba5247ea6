use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount};

use crate::errors::TreasuryError;
use crate::events::MtWithdrawn;
use crate::state::*;
use crate::vault::pay_from_model;

/// Takes MT out of the owner's voter record (warming MT first) to any MT
/// account. Refused while the record is locked by a vote or a proposal
/// whose voting window is still open. Pending rewards are settled first and
/// stay claimable.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawMt<'info> {
    pub owner: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::MODEL, &model.id.to_le_bytes()],
        bump = model.bump,
        has_one = mt_mint @ TreasuryError::WrongMtMint,
    )]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::VOTER, model.key().as_ref(), owner.key().as_ref()],
        bump = voter.bump,
        has_one = model,
        has_one = owner,
    )]
    pub voter: Box<Account<'info, Voter>>,

    #[account(
        mut,
        seeds = [seeds::DEPOSIT_VAULT, model.key().as_ref()],
        bump = model.vault_bumps.deposit,
    )]
    pub deposit_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any MT account; the owner chooses where the MT goes.
    #[account(mut, token::mint = mt_mint, token::token_program = mt_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,
    pub mt_token_program: Program<'info, Token2022>,
}

impl WithdrawMt<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TreasuryError::ZeroAmount);
        require!(amount <= self.voter.deposited, TreasuryError::InsufficientDeposit);
        let now = Clock::get()?.unix_timestamp;
        require!(!self.voter.is_locked(now), TreasuryError::DepositLocked);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(amount))]
    pub fn withdraw_mt(ctx: Context<Self>, amount: u64) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        {
            let a = &mut *ctx.accounts;
            a.model.revenue.withdraw(&mut a.voter, amount, now)?;
            a.voter.remove_votes(amount);
        }
        let a = &ctx.accounts;
        pay_from_model(
            &a.mt_token_program.to_account_info(),
            &a.model,
            a.deposit_vault.to_account_info(),
            a.mt_mint.to_account_info(),
            a.destination.to_account_info(),
            amount,
            MT_DECIMALS,
        )?;
        emit_cpi!(MtWithdrawn {
            model: a.model.key(),
            owner: a.owner.key(),
            voter: a.voter.key(),
            destination: a.destination.key(),
            amount,
            deposited: a.voter.deposited,
        });
        Ok(())
    }
}
