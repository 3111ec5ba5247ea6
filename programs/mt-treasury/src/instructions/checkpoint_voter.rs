use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::VoterCheckpointed;
use crate::state::*;

/// Settles a voter record's pending rewards and, once its warm-up is over,
/// starts its warming MT earning. Anyone may call it (a crank, a keeper):
/// it moves no tokens and can only make the record earn sooner. The owner's
/// own deposits, withdrawals and claims do the same.
#[event_cpi]
#[derive(Accounts)]
pub struct CheckpointVoter<'info> {
    #[account(mut, seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::VOTER, model.key().as_ref(), voter.owner.as_ref()],
        bump = voter.bump,
        has_one = model,
    )]
    pub voter: Box<Account<'info, Voter>>,
}

impl CheckpointVoter<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn checkpoint_voter(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let activated = {
            let a = &mut *ctx.accounts;
            a.model.revenue.checkpoint(&mut a.voter, now)?
        };
        let a = &ctx.accounts;
        emit_cpi!(VoterCheckpointed {
            model: a.model.key(),
            voter: a.voter.key(),
            activated,
            earning: a.voter.earning(),
            warming: a.voter.warming,
            rewards_owed: a.voter.rewards_owed,
        });
        Ok(())
    }
}
