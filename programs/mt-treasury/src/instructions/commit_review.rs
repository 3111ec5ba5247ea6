use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::ReviewCommitted;
use crate::state::*;
use crate::vault::pay_from_signer;

/// Commits a hidden review of a submission (see `review_commitment`) until
/// the bounty's commit window ends, posting the review bond. The reviewer's
/// weight is their voter record's snapshot at the bounty's creation
/// (`Voter::vote_weight`, the rule votes use: MT deposited and warmed up
/// before the bounty existed), and the record stays locked until the reveal
/// window ends, so the same MT cannot review again from another wallet.
#[event_cpi]
#[derive(Accounts)]
pub struct CommitReview<'info> {
    #[account(mut)]
    pub reviewer: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

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
        seeds = [seeds::VOTER, model.key().as_ref(), reviewer.key().as_ref()],
        bump = voter.bump,
        has_one = model,
        constraint = voter.owner == reviewer.key(),
    )]
    pub voter: Box<Account<'info, Voter>>,

    #[account(
        init_if_needed,
        payer = reviewer,
        space = Review::SPACE,
        seeds = [seeds::REVIEW, submission.key().as_ref(), reviewer.key().as_ref()],
        bump,
    )]
    pub review: Box<Account<'info, Review>>,

    #[account(
        init_if_needed,
        payer = reviewer,
        space = Reputation::SPACE,
        seeds = [seeds::REPUTATION, model.key().as_ref(), reviewer.key().as_ref()],
        bump,
    )]
    pub reputation: Box<Account<'info, Reputation>>,

    #[account(mut, seeds = [seeds::BOUNTY_POOL, model.key().as_ref()], bump = bounty_pool.bump, has_one = model)]
    pub bounty_pool: Box<Account<'info, BountyPool>>,
    #[account(mut, seeds = [seeds::BOUNTY_VAULT, model.key().as_ref()], bump = bounty_pool.vault_bump)]
    pub bounty_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The reviewer's native-token account the bond comes from.
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl CommitReview<'_> {
    fn validate(&self, commitment: &[u8; 32]) -> Result<()> {
        require!(Clock::get()?.unix_timestamp < self.bounty.commit_ends, TreasuryError::CommitWindowClosed);
        require_keys_neq!(self.submission.contributor, self.reviewer.key(), TreasuryError::SelfReview);
        require!(self.review.reviewer == Pubkey::default(), TreasuryError::AlreadyReviewed);
        require!(*commitment != [0; 32], TreasuryError::MissingContent);
        require!(self.voter.deposited > 0, TreasuryError::NoVotingPower);
        require!(self.voter.vote_weight(self.bounty.created_at) > 0, TreasuryError::NoEligibleWeight);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&commitment))]
    pub fn commit_review(ctx: Context<Self>, commitment: [u8; 32]) -> Result<()> {
        let a = &ctx.accounts;
        let bond = a.bounty.terms.review_bond;
        pay_from_signer(
            &a.native_token_program.to_account_info(),
            a.reviewer.to_account_info(),
            a.source.to_account_info(),
            a.native_mint.to_account_info(),
            a.bounty_vault.to_account_info(),
            bond,
            a.native_mint.decimals,
        )?;
        let weight = a.voter.vote_weight(a.bounty.created_at);
        let (model_key, submission_key, reviewer, reveal_ends) =
            (a.model.key(), a.submission.key(), a.reviewer.key(), a.bounty.reveal_ends);

        let pool = &mut ctx.accounts.bounty_pool;
        pool.held = pool.held.checked_add(bond).ok_or(TreasuryError::MathOverflow)?;
        let tally = &mut ctx.accounts.submission.tally;
        tally.commits = tally.commits.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        let voter = &mut ctx.accounts.voter;
        voter.locked_until = voter.locked_until.max(reveal_ends);

        ctx.accounts.review.set_inner(Review {
            submission: submission_key,
            reviewer,
            commitment,
            weight,
            bond,
            revealed: false,
            choice: ReviewChoice::Approve,
            claimed: false,
            bump: ctx.bumps.review,
        });
        let rep = &mut ctx.accounts.reputation;
        if rep.wallet == Pubkey::default() {
            rep.model = model_key;
            rep.wallet = reviewer;
            rep.bump = ctx.bumps.reputation;
        }
        rep.reviews_committed = rep.reviews_committed.saturating_add(1);
        emit_cpi!(ReviewCommitted { submission: submission_key, reviewer, weight, bond });
        Ok(())
    }
}
