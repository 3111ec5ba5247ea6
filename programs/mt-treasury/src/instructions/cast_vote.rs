use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::VoteCast;
use crate::state::*;

/// Votes yes, no or abstain on a proposal, once per record and proposal,
/// with the record's snapshot weight: the MT it holds that was deposited and
/// warmed up before the proposal was created (`Voter::vote_weight`), so MT
/// bought or deposited once a proposal exists adds nothing to it. The
/// record's MT stays locked until the proposal's voting ends, so the same MT
/// cannot vote again through another record.
#[event_cpi]
#[derive(Accounts)]
pub struct CastVote<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::PROPOSAL, model.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
        has_one = model @ TreasuryError::WrongProposalModel,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    #[account(
        mut,
        seeds = [seeds::VOTER, model.key().as_ref(), owner.key().as_ref()],
        bump = voter.bump,
        has_one = model,
        has_one = owner,
    )]
    pub voter: Box<Account<'info, Voter>>,

    #[account(
        init_if_needed,
        payer = owner,
        space = VoteRecord::SPACE,
        seeds = [seeds::VOTE, proposal.key().as_ref(), voter.key().as_ref()],
        bump,
    )]
    pub vote_record: Box<Account<'info, VoteRecord>>,

    pub system_program: Program<'info, System>,
}

impl CastVote<'_> {
    fn validate(&self) -> Result<()> {
        let p = &self.proposal;
        require!(p.state == ProposalState::Voting, TreasuryError::ProposalNotVoting);
        let now = Clock::get()?.unix_timestamp;
        require!(now < p.voting_ends, TreasuryError::VotingEnded);
        require!(self.vote_record.weight == 0, TreasuryError::AlreadyVoted);
        require!(self.voter.deposited > 0, TreasuryError::NoVotingPower);
        require!(self.voter.vote_weight(p.created_at) > 0, TreasuryError::NoEligibleWeight);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn cast_vote(ctx: Context<Self>, choice: VoteChoice) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let (proposal_key, voter_key) = (ctx.accounts.proposal.key(), ctx.accounts.voter.key());
        let weight = ctx.accounts.voter.vote_weight(ctx.accounts.proposal.created_at);

        let p = &mut ctx.accounts.proposal;
        let tally = match choice {
            VoteChoice::Yes => &mut p.yes,
            VoteChoice::No => &mut p.no,
            VoteChoice::Abstain => &mut p.abstain,
        };
        *tally = tally.checked_add(weight).ok_or(TreasuryError::MathOverflow)?;
        p.votes = p.votes.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        let voting_ends = p.voting_ends;

        let voter = &mut ctx.accounts.voter;
        voter.locked_until = voter.locked_until.max(voting_ends);

        ctx.accounts.vote_record.set_inner(VoteRecord {
            proposal: proposal_key,
            voter: voter_key,
            choice,
            weight,
            voted_at: now,
            bump: ctx.bumps.vote_record,
        });
        let p = &ctx.accounts.proposal;
        emit_cpi!(VoteCast {
            model: p.model,
            proposal: proposal_key,
            voter: voter_key,
            owner: ctx.accounts.owner.key(),
            choice,
            weight,
            yes: p.yes,
            no: p.no,
            abstain: p.abstain,
        });
        Ok(())
    }
}
