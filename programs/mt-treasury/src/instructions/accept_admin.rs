use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::AdminAccepted;
use crate::state::{seeds, Protocol};

/// Second step of an admin handover: the nominated key signs, proving it
/// is held, and becomes the admin.
#[event_cpi]
#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    pub new_admin: Signer<'info>,

    #[account(mut, seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,
}

impl AcceptAdmin<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.protocol.pending_admin == Some(self.new_admin.key()), TreasuryError::NotPendingAdmin);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn accept_admin(ctx: Context<Self>) -> Result<()> {
        let p = &mut ctx.accounts.protocol;
        let previous_admin = p.admin;
        p.admin = ctx.accounts.new_admin.key();
        p.pending_admin = None;
        emit_cpi!(AdminAccepted { previous_admin, admin: p.admin });
        Ok(())
    }
}
