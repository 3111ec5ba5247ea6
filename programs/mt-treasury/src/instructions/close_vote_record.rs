use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::VoteRecordClosed;
use crate::state::*;

/// Returns a vote record's rent to its voter once the proposal takes no
/// more votes (its voting window has ended, or it was finalised or
/// cancelled): from then on the record can no longer stop a second vote
/// because no vote is possible. The proposal keeps the tally.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseVoteRecord<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        seeds = [seeds::PROPOSAL, model.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
        has_one = model @ TreasuryError::WrongProposalModel,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    #[account(
        seeds = [seeds::VOTER, model.key().as_ref(), owner.key().as_ref()],
        bump = voter.bump,
        has_one = model,
        has_one = owner,
    )]
    pub voter: Box<Account<'info, Voter>>,

    #[account(
        mut,
        close = owner,
        seeds = [seeds::VOTE, proposal.key().as_ref(), voter.key().as_ref()],
        bump = vote_record.bump,
    )]
    pub vote_record: Box<Account<'info, VoteRecord>>,
}

impl CloseVoteRecord<'_> {
    fn validate(&self) -> Result<()> {
        let p = &self.proposal;
        let open = p.state == ProposalState::Voting && Clock::get()?.unix_timestamp < p.voting_ends;
        require!(!open, TreasuryError::VotingStillOpen);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn close_vote_record(ctx: Context<Self>) -> Result<()> {
        emit_cpi!(VoteRecordClosed { proposal: ctx.accounts.proposal.key(), voter: ctx.accounts.voter.key(), owner: ctx.accounts.owner.key() });
        Ok(())
    }
}
