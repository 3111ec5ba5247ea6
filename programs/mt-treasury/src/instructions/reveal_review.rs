use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::ReviewRevealed;
use crate::state::*;

/// Reveals a committed review in the bounty's reveal window: the choice and
/// salt must hash to the commitment. Its weight then counts in the tally.
#[event_cpi]
#[derive(Accounts)]
pub struct RevealReview<'info> {
    pub reviewer: Signer<'info>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(seeds = [seeds::BOUNTY, model.key().as_ref(), &bounty.id.to_le_bytes()], bump = bounty.bump, has_one = model)]
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
        seeds = [seeds::REVIEW, submission.key().as_ref(), reviewer.key().as_ref()],
        bump = review.bump,
        has_one = submission,
        has_one = reviewer,
    )]
    pub review: Box<Account<'info, Review>>,

    #[account(
        mut,
        seeds = [seeds::REPUTATION, model.key().as_ref(), reviewer.key().as_ref()],
        bump = reputation.bump,
    )]
    pub reputation: Box<Account<'info, Reputation>>,
}

impl RevealReview<'_> {
    fn validate(&self, choice: ReviewChoice, salt: &[u8; 32]) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        require!(now >= self.bounty.commit_ends, TreasuryError::RevealNotOpen);
        require!(now < self.bounty.reveal_ends, TreasuryError::RevealWindowClosed);
        require!(!self.review.revealed, TreasuryError::AlreadyRevealed);
        let expected = review_commitment(choice, salt, &self.submission.key(), &self.reviewer.key());
        require!(expected == self.review.commitment, TreasuryError::CommitmentMismatch);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(choice, &salt))]
    pub fn reveal_review(ctx: Context<Self>, choice: ReviewChoice, salt: [u8; 32]) -> Result<()> {
        let weight = ctx.accounts.review.weight;
        ctx.accounts.submission.tally.record(choice, weight)?;
        let review = &mut ctx.accounts.review;
        review.revealed = true;
        review.choice = choice;
        let rep = &mut ctx.accounts.reputation;
        rep.reviews_revealed = rep.reviews_revealed.saturating_add(1);
        emit_cpi!(ReviewRevealed {
            submission: ctx.accounts.submission.key(),
            reviewer: ctx.accounts.reviewer.key(),
            choice,
            weight,
        });
        Ok(())
    }
}
