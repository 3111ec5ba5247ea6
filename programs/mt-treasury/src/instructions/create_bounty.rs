use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::BountyCreated;
use crate::state::*;

/// Executes a passed `CreateBounty` proposal, by anyone, once, in its
/// execution window: creates the bounty (the next id of the model's pool)
/// and reserves its reward and every submission's review fee from the
/// pool's available funds, so the pool can never promise more than it
/// holds. Review weights are snapshots at this moment.
#[event_cpi]
#[derive(Accounts)]
pub struct CreateBounty<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::PROPOSAL, model.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
        has_one = model @ TreasuryError::WrongProposalModel,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    #[account(mut, seeds = [seeds::BOUNTY_POOL, model.key().as_ref()], bump = bounty_pool.bump, has_one = model)]
    pub bounty_pool: Box<Account<'info, BountyPool>>,

    #[account(
        init,
        payer = payer,
        space = Bounty::SPACE,
        seeds = [seeds::BOUNTY, model.key().as_ref(), &bounty_pool.bounty_count.to_le_bytes()],
        bump,
    )]
    pub bounty: Box<Account<'info, Bounty>>,

    pub system_program: Program<'info, System>,
}

impl CreateBounty<'_> {
    fn terms(&self) -> Result<BountyTerms> {
        match self.proposal.action {
            ProposalAction::CreateBounty { terms } => Ok(terms),
            _ => err!(TreasuryError::WrongProposalAction),
        }
    }

    fn validate(&self) -> Result<()> {
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        self.proposal.check_executable(Clock::get()?.unix_timestamp)?;
        let terms = self.terms()?;
        terms.check(self.protocol.min_period_secs)?;
        require!(terms.reservation()? <= self.bounty_pool.available, TreasuryError::BountyPoolInsufficient);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn create_bounty(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let terms = ctx.accounts.terms()?;
        let (model_key, proposal_key, bounty_key) =
            (ctx.accounts.model.key(), ctx.accounts.proposal.key(), ctx.accounts.bounty.key());
        let (submit_ends, commit_ends, reveal_ends) = Bounty::windows(&terms, now)?;

        let pool = &mut ctx.accounts.bounty_pool;
        let id = pool.bounty_count;
        pool.reserve(terms.reservation()?)?;
        pool.bounty_count = id.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        let available = pool.available;

        ctx.accounts.bounty.set_inner(Bounty {
            model: model_key,
            id,
            proposal: proposal_key,
            terms,
            created_at: now,
            submit_ends,
            commit_ends,
            reveal_ends,
            submissions: 0,
            finalized: 0,
            accepted: 0,
            settled: false,
            award: 0,
            bump: ctx.bumps.bounty,
        });
        ctx.accounts.proposal.mark_executed(now);
        emit_cpi!(BountyCreated {
            model: model_key,
            bounty: bounty_key,
            id,
            proposal: proposal_key,
            terms,
            submit_ends,
            commit_ends,
            reveal_ends,
            pool_available: available,
        });
        Ok(())
    }
}
