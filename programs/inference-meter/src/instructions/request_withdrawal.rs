use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::WithdrawalRequested;
use crate::state::{seeds, Escrow, MeterConfig};

#[event_cpi]
#[derive(Accounts)]
pub struct RequestWithdrawal<'info> {
    pub owner: Signer<'info>,

    #[account(mut, seeds = [seeds::ESCROW, escrow.key_hash.as_ref()], bump = escrow.bump, has_one = owner)]
    pub escrow: Box<Account<'info, Escrow>>,

    #[account(seeds = [seeds::METER], bump = meter.bump)]
    pub meter: Box<Account<'info, MeterConfig>>,
}

impl RequestWithdrawal<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, MeterError::ZeroAmount);
        require!(self.escrow.rotated_to.is_none(), MeterError::EscrowRotated);
        Ok(())
    }
}

impl RequestWithdrawal<'_> {
    /// Announces a withdrawal of up to `amount` (u64::MAX for everything);
    /// `withdraw_escrow` pays it after the notice period. A new request
    /// replaces a pending one and restarts the notice period.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn request_withdrawal(ctx: Context<Self>, amount: u64) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let withdrawable_at = now.checked_add(ctx.accounts.meter.withdrawal_notice_secs).ok_or(MeterError::MathOverflow)?;
        let escrow = &mut ctx.accounts.escrow;
        escrow.withdrawal_amount = amount;
        escrow.withdrawal_requested_at = now;
        emit_cpi!(WithdrawalRequested { escrow: ctx.accounts.escrow.key(), amount, withdrawable_at });
        Ok(())
    }
}
