use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::SubmissionFinalized;
use crate::state::*;

/// Decides a submission, by anyone (the keeper's crank), once, when the
/// bounty's reveal window has ended: accepted, rejected, spam or unreviewed
/// under the bounty's review rule (`ReviewTally::settle`). Its review fee
/// moves from the bounty's reservation into the reviewers' fee pool; a fee
/// pool nobody won goes back to the bounty pool. The contributor's
/// reputation records the outcome.
#[event_cpi]
#[derive(Accounts)]
pub struct FinalizeSubmission<'info> {
    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(mut, seeds = [seeds::BOUNTY, model.key().as_ref(), &bounty.id.to_le_bytes()], bump = bounty.bump, has_one = model)]
    pub bounty: Box<Account<'info, Bounty>>,

    #[account(
        mut,
        seeds = [seeds::SUBMISSION, bounty.key().as_ref(), submission.contributor.as_ref()],
        bump = submission.bump,
        has_one = bounty,
    )]
    pub submission: Box<Account<'info, Submission>>,

    #[account(
        mut,
        seeds = [seeds::REPUTATION, model.key().as_ref(), submission.contributor.as_ref()],
        bump = reputation.bump,
    )]
    pub reputation: Box<Account<'info, Reputation>>,

    #[account(mut, seeds = [seeds::BOUNTY_POOL, model.key().as_ref()], bump = bounty_pool.bump, has_one = model)]
    pub bounty_pool: Box<Account<'info, BountyPool>>,
}

impl FinalizeSubmission<'_> {
    fn validate(&self) -> Result<()> {
        require!(Clock::get()?.unix_timestamp >= self.bounty.reveal_ends, TreasuryError::ReviewsNotOver);
        require!(!self.submission.is_finalized(), TreasuryError::SubmissionAlreadyFinalized);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn finalize_submission(ctx: Context<Self>) -> Result<()> {
        let terms = ctx.accounts.bounty.terms;
        let st = ctx.accounts.submission.tally.settle(&terms)?;

        let pool = &mut ctx.accounts.bounty_pool;
        pool.hold_reserved(terms.review_fee)?;
        if st.winners == 0 {
            pool.release_held(st.fee_pool)?;
        }

        let bounty = &mut ctx.accounts.bounty;
        bounty.finalized = bounty.finalized.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        if st.outcome == SubmissionOutcome::Accepted {
            bounty.accepted = bounty.accepted.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        }

        let rep = &mut ctx.accounts.reputation;
        match st.outcome {
            SubmissionOutcome::Accepted => rep.accepted = rep.accepted.saturating_add(1),
            SubmissionOutcome::Rejected => rep.rejected = rep.rejected.saturating_add(1),
            SubmissionOutcome::Spam => rep.spam = rep.spam.saturating_add(1),
            _ => {}
        }

        let s = &mut ctx.accounts.submission;
        s.outcome = st.outcome;
        s.fee_pool = st.fee_pool;
        s.winning_weight = st.winning_weight;
        s.winners = st.winners;
        s.clear = st.clear;
        s.slash = st.slash;
        emit_cpi!(SubmissionFinalized {
            bounty: s.bounty,
            submission: s.key(),
            outcome: st.outcome,
            tally: s.tally,
            fee_pool: st.fee_pool,
            winning_weight: st.winning_weight,
            clear: st.clear,
        });
        Ok(())
    }
}
