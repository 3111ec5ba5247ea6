use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::KeyRotated;
use crate::state::{seeds, Escrow};

#[event_cpi]
#[derive(Accounts)]
pub struct RotateKey<'info> {
    /// Pays the new escrow's rent.
    #[account(mut)]
    pub owner: Signer<'info>,

    #[account(mut, seeds = [seeds::ESCROW, escrow.key_hash.as_ref()], bump = escrow.bump, has_one = owner)]
    pub escrow: Box<Account<'info, Escrow>>,

    /// The new API key's id; its signature proves the owner holds the new
    /// key, so nobody who saw the id can open an escrow there first and make
    /// the rotation fail.
    pub new_key: Signer<'info>,

    #[account(
        init,
        payer = owner,
        space = 8 + Escrow::INIT_SPACE,
        seeds = [seeds::ESCROW, new_key.key().as_ref()],
        bump,
    )]
    pub new_escrow: Box<Account<'info, Escrow>>,

    pub system_program: Program<'info, System>,
}

impl RotateKey<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.escrow.rotated_to.is_none(), MeterError::EscrowRotated);
        Ok(())
    }
}

impl RotateKey<'_> {
    /// Retires the escrow's API key: the balance, lanes, rules, spend history
    /// and any pending withdrawal move to a new escrow for `new_key`. The
    /// old escrow stays behind pointing at the new one, so keepers settle
    /// runs already served under the old key against the new escrow.
    #[access_control(ctx.accounts.validate())]
    pub fn rotate_key(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let new_key_hash = ctx.accounts.new_key.key().to_bytes();
        let new_key = ctx.accounts.new_escrow.key();
        let old = &mut ctx.accounts.escrow;
        let moved = Escrow {
            owner: old.owner,
            key_hash: new_key_hash,
            balance: old.balance,
            lanes: std::mem::take(&mut old.lanes),
            spent: old.spent,
            unpaid: old.unpaid,
            spend_limit: old.spend_limit,
            allowed_models: old.allowed_models.clone(),
            withdrawal_amount: old.withdrawal_amount,
            withdrawal_requested_at: old.withdrawal_requested_at,
            rotated_to: None,
            rotated_at: 0,
            opened_at: now,
            bump: ctx.bumps.new_escrow,
        };
        old.balance = 0;
        old.withdrawal_amount = 0;
        old.withdrawal_requested_at = 0;
        old.rotated_to = Some(new_key);
        old.rotated_at = now;
        let balance = moved.balance;
        ctx.accounts.new_escrow.set_inner(moved);
        emit_cpi!(KeyRotated { from: ctx.accounts.escrow.key(), to: new_key, balance });
        Ok(())
    }
}
