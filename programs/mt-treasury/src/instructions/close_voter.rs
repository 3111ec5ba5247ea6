use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::VoterClosed;
use crate::state::*;

/// Returns an empty voter record's rent to its owner: no MT deposited,
/// nothing owed (claim first), no lock. A later deposit opens a new record
/// at the same address; the vote records it left stay tied to that address.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseVoter<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        close = owner,
        seeds = [seeds::VOTER, model.key().as_ref(), owner.key().as_ref()],
        bump = voter.bump,
        has_one = model,
        has_one = owner,
    )]
    pub voter: Box<Account<'info, Voter>>,
}

impl CloseVoter<'_> {
    fn validate(&self) -> Result<()> {
        let v = &self.voter;
        let owed = v.rewards_owed.checked_add(self.model.revenue.pending(v)?).ok_or(TreasuryError::MathOverflow)?;
        require!(v.deposited == 0 && owed == 0, TreasuryError::VoterNotEmpty);
        require!(!v.is_locked(Clock::get()?.unix_timestamp), TreasuryError::DepositLocked);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn close_voter(ctx: Context<Self>) -> Result<()> {
        emit_cpi!(VoterClosed { model: ctx.accounts.model.key(), voter: ctx.accounts.voter.key(), owner: ctx.accounts.owner.key() });
        Ok(())
    }
}
