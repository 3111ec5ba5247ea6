use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MeterError;
use crate::events::EscrowWithdrawn;
use crate::state::{seeds, Escrow, MeterConfig};
use crate::vault::pay_out;

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawEscrow<'info> {
    pub owner: Signer<'info>,

    #[account(mut, seeds = [seeds::ESCROW, escrow.key_hash.as_ref()], bump = escrow.bump, has_one = owner)]
    pub escrow: Box<Account<'info, Escrow>>,

    #[account(seeds = [seeds::METER], bump = meter.bump, has_one = escrow_vault, has_one = native_mint)]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The owner's token account that receives the withdrawal.
    #[account(
        mut,
        token::mint = native_mint,
        token::authority = owner,
        token::token_program = token_program,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = meter.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawEscrow<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.escrow.withdrawal_pending(), MeterError::NoWithdrawalRequested);
        let now = Clock::get()?.unix_timestamp;
        let due = self
            .escrow
            .withdrawal_requested_at
            .checked_add(self.meter.withdrawal_notice_secs)
            .ok_or(MeterError::MathOverflow)?;
        // The notice period ends at `due`, inclusive.
        require!(now >= due, MeterError::WithdrawalNoticeNotElapsed);
        Ok(())
    }
}

impl WithdrawEscrow<'_> {
    /// Pays the requested amount (at most the balance left after the runs
    /// settled meanwhile) to the owner and clears the request.
    #[access_control(ctx.accounts.validate())]
    pub fn withdraw_escrow(ctx: Context<Self>) -> Result<()> {
        let amount = ctx.accounts.escrow.withdrawal_amount.min(ctx.accounts.escrow.balance);
        let a = &ctx.accounts;
        pay_out(&a.meter, &a.token_program, &a.native_mint, a.escrow_vault.to_account_info(), a.destination.to_account_info(), amount)?;
        let escrow = &mut ctx.accounts.escrow;
        escrow.balance -= amount;
        escrow.withdrawal_amount = 0;
        escrow.withdrawal_requested_at = 0;
        let balance = escrow.balance;
        emit_cpi!(EscrowWithdrawn { escrow: ctx.accounts.escrow.key(), amount, balance });
        Ok(())
    }
}
