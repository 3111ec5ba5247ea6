use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::ProposalCancelled;
use crate::state::*;

/// Withdraws a proposal, by its proposer, while no vote has been cast. The
/// proposer's deposit stays locked until the cancelled proposal's voting
/// window would have ended.
#[event_cpi]
#[derive(Accounts)]
pub struct CancelProposal<'info> {
    pub proposer: Signer<'info>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::PROPOSAL, model.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
        has_one = model @ TreasuryError::WrongProposalModel,
        has_one = proposer @ TreasuryError::NotProposer,
    )]
    pub proposal: Box<Account<'info, Proposal>>,
}

impl CancelProposal<'_> {
    fn validate(&self) -> Result<()> {
        let p = &self.proposal;
        require!(p.state == ProposalState::Voting, TreasuryError::ProposalNotVoting);
        require!(p.votes == 0, TreasuryError::ProposalHasVotes);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn cancel_proposal(ctx: Context<Self>) -> Result<()> {
        let p = &mut ctx.accounts.proposal;
        p.state = ProposalState::Cancelled;
        p.finalized_at = Clock::get()?.unix_timestamp;
        emit_cpi!(ProposalCancelled { model: p.model, proposal: p.key(), proposer: p.proposer });
        Ok(())
    }
}
