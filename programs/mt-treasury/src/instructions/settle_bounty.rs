use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::BountySettled;
use crate::state::*;

/// Closes a bounty's books, by anyone (the keeper's crank), once, after
/// its reveal window when every submission is finalised: each accepted
/// submission's award is the reward split equally (rounded down); the
/// rounding remainder, the whole reward if nothing was accepted, and the
/// review fees of submissions never made go back to the bounty pool.
#[event_cpi]
#[derive(Accounts)]
pub struct SettleBounty<'info> {
    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(mut, seeds = [seeds::BOUNTY, model.key().as_ref(), &bounty.id.to_le_bytes()], bump = bounty.bump, has_one = model)]
    pub bounty: Box<Account<'info, Bounty>>,

    #[account(mut, seeds = [seeds::BOUNTY_POOL, model.key().as_ref()], bump = bounty_pool.bump, has_one = model)]
    pub bounty_pool: Box<Account<'info, BountyPool>>,
}

impl SettleBounty<'_> {
    fn validate(&self) -> Result<()> {
        let b = &self.bounty;
        require!(!b.settled, TreasuryError::BountyAlreadySettled);
        require!(Clock::get()?.unix_timestamp >= b.reveal_ends, TreasuryError::ReviewsNotOver);
        require!(b.finalized == b.submissions, TreasuryError::SubmissionsNotFinalized);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn settle_bounty(ctx: Context<Self>) -> Result<()> {
        let (award, owed, released) = ctx.accounts.bounty.settlement()?;
        let pool = &mut ctx.accounts.bounty_pool;
        pool.hold_reserved(owed)?;
        pool.release_reserved(released)?;
        let b = &mut ctx.accounts.bounty;
        b.settled = true;
        b.award = award;
        emit_cpi!(BountySettled { bounty: b.key(), accepted: b.accepted, award, released });
        Ok(())
    }
}
