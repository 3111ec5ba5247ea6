use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::ProposalFinalized;
use crate::state::*;

/// Closes a proposal's voting, by anyone: after `voting_ends`, or earlier
/// once no remaining vote could change the outcome (`Tally::decided`). It
/// passes when turnout (yes + no + abstain) reaches `quorum_bps` of the
/// circulating supply recorded at creation and yes reaches `threshold_bps`
/// of yes + no; a passed proposal may execute one hold-up period after this.
#[event_cpi]
#[derive(Accounts)]
pub struct FinalizeProposal<'info> {
    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::PROPOSAL, model.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
        has_one = model @ TreasuryError::WrongProposalModel,
    )]
    pub proposal: Box<Account<'info, Proposal>>,
}

impl FinalizeProposal<'_> {
    /// The outcome, and whether it is final before the window ends.
    fn outcome(&self, now: i64) -> Result<Option<(Outcome, bool)>> {
        self.proposal.finalize_outcome(now)
    }

    fn validate(&self) -> Result<()> {
        require!(self.proposal.state == ProposalState::Voting, TreasuryError::ProposalNotVoting);
        require!(self.outcome(Clock::get()?.unix_timestamp)?.is_some(), TreasuryError::VotingNotOver);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn finalize_proposal(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let (outcome, early) = ctx.accounts.outcome(now)?.ok_or(TreasuryError::VotingNotOver)?;
        let tally = ctx.accounts.proposal.tally()?;
        let p = &mut ctx.accounts.proposal;
        p.finalized_at = now;
        if outcome == Outcome::Passed {
            p.state = ProposalState::Passed;
            p.execute_after = now.checked_add(p.hold_up_secs).ok_or(TreasuryError::MathOverflow)?;
        } else {
            p.state = ProposalState::Failed;
        }
        emit_cpi!(ProposalFinalized {
            model: p.model,
            proposal: p.key(),
            state: p.state,
            quorum_met: tally.quorum_met(),
            threshold_met: tally.threshold_met(),
            early,
            yes: p.yes,
            no: p.no,
            abstain: p.abstain,
            circulating_supply: p.circulating_supply,
            execute_after: p.execute_after,
        });
        Ok(())
    }
}
