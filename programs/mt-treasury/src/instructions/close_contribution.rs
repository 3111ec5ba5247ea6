use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::ContributionClosed;
use crate::state::*;

/// Returns a contribution record's rent to its contributor once the record
/// has done its job: the MT claimed after a successful raise, or the
/// payment refunded after a failed one. It cannot be re-created: only
/// `contribute` creates it, and only while the raise is funding, which a
/// model never returns to.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseContribution<'info> {
    #[account(mut)]
    pub contributor: Signer<'info>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        close = contributor,
        seeds = [seeds::CONTRIBUTION, model.key().as_ref(), contributor.key().as_ref()],
        bump = contribution.bump,
        has_one = model,
        has_one = contributor,
    )]
    pub contribution: Box<Account<'info, Contribution>>,
}

impl CloseContribution<'_> {
    fn validate(&self) -> Result<()> {
        let c = &self.contribution;
        let done = match self.model.stage {
            Stage::Active => c.claimed,
            Stage::Failed => c.refunded,
            _ => false,
        };
        require!(done, TreasuryError::ContributionStillOpen);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn close_contribution(ctx: Context<Self>) -> Result<()> {
        let c = &ctx.accounts.contribution;
        emit_cpi!(ContributionClosed { model: c.model, contributor: c.contributor, paid: c.paid, mt: c.mt });
        Ok(())
    }
}
