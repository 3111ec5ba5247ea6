use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::WorkSubmitted;
use crate::state::*;
use crate::vault::pay_from_signer;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SubmitWorkArgs {
    /// sha256 of the work (which lives off chain at `uri`).
    pub content_hash: [u8; 32],
    /// Where reviewers read the work, 1 to 200 bytes.
    pub uri: String,
}

/// Submits work to a bounty while it takes submissions, posting the
/// bounty's submission bond: one submission per wallet per bounty, and one
/// claim per content hash in the model (its `WorkClaim`), so the same work
/// cannot be paid twice across bounties. The contributor needs the bounty's
/// minimum reputation (accepted submissions in this model).
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: SubmitWorkArgs)]
pub struct SubmitWork<'info> {
    #[account(mut)]
    pub contributor: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(mut, seeds = [seeds::BOUNTY, model.key().as_ref(), &bounty.id.to_le_bytes()], bump = bounty.bump, has_one = model)]
    pub bounty: Box<Account<'info, Bounty>>,

    #[account(
        init_if_needed,
        payer = contributor,
        space = Submission::SPACE,
        seeds = [seeds::SUBMISSION, bounty.key().as_ref(), contributor.key().as_ref()],
        bump,
    )]
    pub submission: Box<Account<'info, Submission>>,

    #[account(
        init_if_needed,
        payer = contributor,
        space = WorkClaim::SPACE,
        seeds = [seeds::WORK, model.key().as_ref(), args.content_hash.as_ref()],
        bump,
    )]
    pub work_claim: Box<Account<'info, WorkClaim>>,

    #[account(
        init_if_needed,
        payer = contributor,
        space = Reputation::SPACE,
        seeds = [seeds::REPUTATION, model.key().as_ref(), contributor.key().as_ref()],
        bump,
    )]
    pub reputation: Box<Account<'info, Reputation>>,

    #[account(mut, seeds = [seeds::BOUNTY_POOL, model.key().as_ref()], bump = bounty_pool.bump, has_one = model)]
    pub bounty_pool: Box<Account<'info, BountyPool>>,
    #[account(mut, seeds = [seeds::BOUNTY_VAULT, model.key().as_ref()], bump = bounty_pool.vault_bump)]
    pub bounty_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The contributor's native-token account the bond comes from.
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl SubmitWork<'_> {
    fn validate(&self, args: &SubmitWorkArgs) -> Result<()> {
        let b = &self.bounty;
        require!(Clock::get()?.unix_timestamp < b.submit_ends, TreasuryError::SubmissionsClosed);
        require!(b.submissions < b.terms.max_submissions, TreasuryError::BountyFull);
        require!(self.submission.contributor == Pubkey::default(), TreasuryError::AlreadySubmitted);
        require!(self.work_claim.bounty == Pubkey::default(), TreasuryError::WorkAlreadyClaimed);
        require!(args.content_hash != [0; 32] && !args.uri.is_empty(), TreasuryError::MissingContent);
        require!(args.uri.len() <= MAX_SUBMISSION_URI_LEN as usize, TreasuryError::UriTooLong);
        require!(self.reputation.accepted >= b.terms.min_reputation, TreasuryError::ReputationTooLow);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn submit_work(ctx: Context<Self>, args: SubmitWorkArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let a = &ctx.accounts;
        let bond = a.bounty.terms.submission_bond;
        pay_from_signer(
            &a.native_token_program.to_account_info(),
            a.contributor.to_account_info(),
            a.source.to_account_info(),
            a.native_mint.to_account_info(),
            a.bounty_vault.to_account_info(),
            bond,
            a.native_mint.decimals,
        )?;
        let (model_key, bounty_key, submission_key, contributor) =
            (a.model.key(), a.bounty.key(), a.submission.key(), a.contributor.key());

        let pool = &mut ctx.accounts.bounty_pool;
        pool.held = pool.held.checked_add(bond).ok_or(TreasuryError::MathOverflow)?;
        let bounty = &mut ctx.accounts.bounty;
        bounty.submissions = bounty.submissions.checked_add(1).ok_or(TreasuryError::MathOverflow)?;

        ctx.accounts.work_claim.set_inner(WorkClaim {
            model: model_key,
            content_hash: args.content_hash,
            bounty: bounty_key,
            submission: submission_key,
            bump: ctx.bumps.work_claim,
        });
        let rep = &mut ctx.accounts.reputation;
        if rep.wallet == Pubkey::default() {
            rep.model = model_key;
            rep.wallet = contributor;
            rep.bump = ctx.bumps.reputation;
        }
        rep.submitted = rep.submitted.saturating_add(1);

        ctx.accounts.submission.set_inner(Submission {
            bounty: bounty_key,
            contributor,
            content_hash: args.content_hash,
            uri: args.uri,
            bond,
            submitted_at: now,
            tally: ReviewTally::default(),
            outcome: SubmissionOutcome::Pending,
            fee_pool: 0,
            winning_weight: 0,
            winners: 0,
            clear: false,
            slash: 0,
            fee_paid: 0,
            winner_claims: 0,
            claimed: false,
            bump: ctx.bumps.submission,
        });
        let s = &ctx.accounts.submission;
        emit_cpi!(WorkSubmitted {
            bounty: bounty_key,
            submission: submission_key,
            contributor,
            content_hash: s.content_hash,
            uri: s.uri.clone(),
            bond,
        });
        Ok(())
    }
}
