use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TransferChecked};

use crate::errors::TreasuryError;
use crate::events::MtClaimed;
use crate::state::*;

/// Moves the MT a contributor bought from the sale vault to a token account
/// of theirs, once, after the raise succeeded.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimMt<'info> {
    pub contributor: Signer<'info>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump, has_one = mt_mint @ TreasuryError::WrongMtMint)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::CONTRIBUTION, model.key().as_ref(), contributor.key().as_ref()],
        bump = contribution.bump,
        has_one = model,
        has_one = contributor,
    )]
    pub contribution: Box<Account<'info, Contribution>>,

    #[account(
        mut,
        seeds = [seeds::SALE_VAULT, model.key().as_ref()],
        bump = model.vault_bumps.sale,
    )]
    pub sale_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any MT account; the contributor chooses where their MT goes.
    #[account(mut, token::mint = mt_mint, token::token_program = mt_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,
    pub mt_token_program: Program<'info, Token2022>,
}

impl ClaimMt<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        require!(!self.contribution.claimed, TreasuryError::AlreadyClaimed);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_mt(ctx: Context<Self>) -> Result<()> {
        let accounts = &ctx.accounts;
        let model = &accounts.model;
        let id = model.id.to_le_bytes();
        let bump = [model.bump];
        let signer: &[&[&[u8]]] = &[&[seeds::MODEL, &id, &bump]];
        let amount = accounts.contribution.mt;
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                accounts.mt_token_program.key(),
                TransferChecked {
                    from: accounts.sale_vault.to_account_info(),
                    mint: accounts.mt_mint.to_account_info(),
                    to: accounts.destination.to_account_info(),
                    authority: model.to_account_info(),
                },
                signer,
            ),
            amount,
            MT_DECIMALS,
        )?;
        let destination = accounts.destination.key();
        let contribution = &mut ctx.accounts.contribution;
        contribution.claimed = true;
        emit_cpi!(MtClaimed {
            model: contribution.model,
            contributor: contribution.contributor,
            destination,
            mt: amount,
        });
        Ok(())
    }
}
