use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount};

use crate::errors::TreasuryError;
use crate::events::MtDeposited;
use crate::state::*;
use crate::vault::pay_from_signer;

/// Deposits MT into the owner's voter record (created on first use) for
/// votes and revenue. The MT sits in the model's deposit vault (created by
/// the first deposit). After its warm-up (`revenue.warmup_secs`) it earns
/// revenue (see `state::revenue`) and votes on proposals created from then
/// on — never on a proposal that already exists (see `Voter::vote_weight`).
/// Pending rewards are settled first.
#[event_cpi]
#[derive(Accounts)]
pub struct DepositMt<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::MODEL, &model.id.to_le_bytes()],
        bump = model.bump,
        has_one = mt_mint @ TreasuryError::WrongMtMint,
    )]
    pub model: Box<Account<'info, Model>>,

    #[account(
        init_if_needed,
        payer = owner,
        space = Voter::SPACE,
        seeds = [seeds::VOTER, model.key().as_ref(), owner.key().as_ref()],
        bump,
    )]
    pub voter: Box<Account<'info, Voter>>,

    /// The owner's MT account the deposit comes from.
    #[account(mut, token::mint = mt_mint, token::authority = owner, token::token_program = mt_token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        init_if_needed,
        payer = owner,
        seeds = [seeds::DEPOSIT_VAULT, model.key().as_ref()],
        bump,
        token::mint = mt_mint,
        token::authority = model,
        token::token_program = mt_token_program,
    )]
    pub deposit_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,
    pub mt_token_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
}

impl DepositMt<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TreasuryError::ZeroAmount);
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(amount))]
    pub fn deposit_mt(ctx: Context<Self>, amount: u64) -> Result<()> {
        let a = &ctx.accounts;
        pay_from_signer(
            &a.mt_token_program.to_account_info(),
            a.owner.to_account_info(),
            a.source.to_account_info(),
            a.mt_mint.to_account_info(),
            a.deposit_vault.to_account_info(),
            amount,
            MT_DECIMALS,
        )?;

        let now = Clock::get()?.unix_timestamp;
        let (model_key, owner_key, voter_key) = (a.model.key(), a.owner.key(), a.voter.key());
        let voter = &mut ctx.accounts.voter;
        if voter.owner == Pubkey::default() {
            voter.model = model_key;
            voter.owner = owner_key;
            voter.bump = ctx.bumps.voter;
        }
        let model = &mut ctx.accounts.model;
        model.vault_bumps.deposit = ctx.bumps.deposit_vault;
        // Settles what the record earned so far (a new record earns nothing
        // and starts at the current accumulator), then warms the new MT up.
        model.revenue.deposit(voter, amount, now)?;
        voter.add_votes(amount, now, model.revenue.warmup_secs)?;
        emit_cpi!(MtDeposited {
            model: model_key,
            owner: owner_key,
            voter: voter_key,
            amount,
            deposited: voter.deposited,
            warming: voter.warming,
            warm_at: voter.warm_at,
            votes_from: voter.recent_votes_from,
        });
        Ok(())
    }
}
