use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::ReviewClaimed;
use crate::state::*;
use crate::vault::pay_from_model;

/// Pays a reviewer, once, what their review of a finalised submission
/// earned (`review_payout`): bond plus a weight-pro-rata share of the fee
/// pool on the winning side; the bond less its slash on the losing side of
/// a clear outcome; the bond otherwise; nothing if never revealed. The last
/// winner's claim returns the fee pool's rounding dust to the bounty pool.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimReview<'info> {
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
        seeds = [seeds::REVIEW, submission.key().as_ref(), reviewer.key().as_ref()],
        bump = review.bump,
        has_one = submission,
        has_one = reviewer,
    )]
    pub review: Box<Account<'info, Review>>,

    #[account(mut, seeds = [seeds::REPUTATION, model.key().as_ref(), reviewer.key().as_ref()], bump = reputation.bump)]
    pub reputation: Box<Account<'info, Reputation>>,

    #[account(mut, seeds = [seeds::BOUNTY_POOL, model.key().as_ref()], bump = bounty_pool.bump, has_one = model)]
    pub bounty_pool: Box<Account<'info, BountyPool>>,
    #[account(mut, seeds = [seeds::BOUNTY_VAULT, model.key().as_ref()], bump = bounty_pool.vault_bump)]
    pub bounty_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any native-token account; the reviewer chooses where the money goes.
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
}

impl ClaimReview<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.submission.is_finalized(), TreasuryError::SubmissionNotFinalized);
        require!(!self.review.claimed, TreasuryError::AlreadyClaimed);
        require!(review_payout(&self.review, &self.submission)?.amount > 0, TreasuryError::NothingToClaim);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_review(ctx: Context<Self>) -> Result<()> {
        let payout = review_payout(&ctx.accounts.review, &ctx.accounts.submission)?;
        let a = &ctx.accounts;
        pay_from_model(
            &a.native_token_program.to_account_info(),
            &a.model,
            a.bounty_vault.to_account_info(),
            a.native_mint.to_account_info(),
            a.destination.to_account_info(),
            payout.amount,
            a.native_mint.decimals,
        )?;
        ctx.accounts.bounty_pool.pay(payout.amount)?;

        let mut dust = 0;
        if payout.winner {
            let s = &mut ctx.accounts.submission;
            s.fee_paid = s.fee_paid.checked_add(payout.fee).ok_or(TreasuryError::MathOverflow)?;
            s.winner_claims = s.winner_claims.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
            if s.winner_claims == s.winners {
                dust = s.fee_pool.checked_sub(s.fee_paid).ok_or(TreasuryError::MathOverflow)?;
                ctx.accounts.bounty_pool.release_held(dust)?;
            }
        }
        let rep = &mut ctx.accounts.reputation;
        if payout.winner {
            rep.reviews_agreed = rep.reviews_agreed.saturating_add(1);
        }
        if payout.slashed {
            rep.reviews_slashed = rep.reviews_slashed.saturating_add(1);
        }
        ctx.accounts.review.claimed = true;
        emit_cpi!(ReviewClaimed {
            submission: ctx.accounts.submission.key(),
            reviewer: ctx.accounts.reviewer.key(),
            amount: payout.amount,
            fee: payout.fee,
            slashed: payout.slashed,
            dust_released: dust,
        });
        Ok(())
    }
}
