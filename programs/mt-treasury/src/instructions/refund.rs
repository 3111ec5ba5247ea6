use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::TreasuryError;
use crate::events::Refunded;
use crate::state::*;

/// Returns everything a contributor paid, once, after the raise failed.
#[event_cpi]
#[derive(Accounts)]
pub struct Refund<'info> {
    pub contributor: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::CONTRIBUTION, model.key().as_ref(), contributor.key().as_ref()],
        bump = contribution.bump,
        has_one = model,
        has_one = contributor,
    )]
    pub contribution: Box<Account<'info, Contribution>>,

    #[account(mut, seeds = [seeds::RAISE_VAULT, model.key().as_ref()], bump = model.vault_bumps.raise)]
    pub raise_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any native-token account; the contributor chooses where the refund goes.
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
}

impl Refund<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.model.stage == Stage::Failed, TreasuryError::RaiseNotFailed);
        require!(!self.contribution.refunded, TreasuryError::AlreadyRefunded);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn refund(ctx: Context<Self>) -> Result<()> {
        let accounts = &ctx.accounts;
        let model = &accounts.model;
        let id = model.id.to_le_bytes();
        let bump = [model.bump];
        let signer: &[&[&[u8]]] = &[&[seeds::MODEL, &id, &bump]];
        let amount = accounts.contribution.paid;
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                accounts.native_token_program.key(),
                TransferChecked {
                    from: accounts.raise_vault.to_account_info(),
                    mint: accounts.native_mint.to_account_info(),
                    to: accounts.destination.to_account_info(),
                    authority: model.to_account_info(),
                },
                signer,
            ),
            amount,
            accounts.native_mint.decimals,
        )?;
        let destination = accounts.destination.key();
        let contribution = &mut ctx.accounts.contribution;
        contribution.refunded = true;
        emit_cpi!(Refunded {
            model: contribution.model,
            contributor: contribution.contributor,
            destination,
            amount,
        });
        Ok(())
    }
}
