use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::EscrowClosed;
use crate::state::{seeds, Escrow, MeterConfig};

#[event_cpi]
#[derive(Accounts)]
pub struct CloseEscrow<'info> {
    /// Receives the escrow's rent.
    #[account(mut)]
    pub owner: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::ESCROW, escrow.key_hash.as_ref()],
        bump = escrow.bump,
        has_one = owner,
        close = owner,
    )]
    pub escrow: Box<Account<'info, Escrow>>,

    #[account(seeds = [seeds::METER], bump = meter.bump)]
    pub meter: Box<Account<'info, MeterConfig>>,
}

impl CloseEscrow<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.escrow.balance == 0, MeterError::EscrowNotEmpty);
        require!(self.escrow.lanes.is_empty(), MeterError::LanesStillOpen);
        if self.escrow.rotated_to.is_some() {
            let now = Clock::get()?.unix_timestamp;
            let due = self.escrow.rotated_at.checked_add(self.meter.withdrawal_notice_secs).ok_or(MeterError::MathOverflow)?;
            require!(now >= due, MeterError::RotationNoticeNotElapsed);
        }
        Ok(())
    }
}

impl CloseEscrow<'_> {
    /// Closes an empty escrow and returns its rent. A rotated escrow stays
    /// for one notice period so keepers can still follow it to the new key.
    #[access_control(ctx.accounts.validate())]
    pub fn close_escrow(ctx: Context<Self>) -> Result<()> {
        emit_cpi!(EscrowClosed { escrow: ctx.accounts.escrow.key(), owner: ctx.accounts.owner.key() });
        Ok(())
    }
}
