use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TransferChecked};

use crate::errors::TreasuryError;
use crate::events::VestedClaimed;
use crate::state::*;

/// Pays the creator the part of their allocation that has vested and not
/// been claimed yet: nothing before the cliff, then linearly until the end
/// of the vesting period, counted from finalisation.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimVested<'info> {
    pub creator: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::MODEL, &model.id.to_le_bytes()],
        bump = model.bump,
        has_one = creator @ TreasuryError::NotCreator,
        has_one = mt_mint @ TreasuryError::WrongMtMint,
    )]
    pub model: Box<Account<'info, Model>>,

    #[account(mut, seeds = [seeds::CREATOR_VAULT, model.key().as_ref()], bump = model.vault_bumps.creator)]
    pub creator_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any MT account; the creator chooses where their MT goes.
    #[account(mut, token::mint = mt_mint, token::token_program = mt_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,
    pub mt_token_program: Program<'info, Token2022>,
}

impl ClaimVested<'_> {
    fn claimable(&self) -> Result<u64> {
        self.model.vesting.claimable(self.model.supply.creator, Clock::get()?.unix_timestamp)
    }

    fn validate(&self) -> Result<()> {
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        require!(self.claimable()? > 0, TreasuryError::NothingVested);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_vested(ctx: Context<Self>) -> Result<()> {
        let amount = ctx.accounts.claimable()?;
        let accounts = &ctx.accounts;
        let model = &accounts.model;
        let id = model.id.to_le_bytes();
        let bump = [model.bump];
        let signer: &[&[&[u8]]] = &[&[seeds::MODEL, &id, &bump]];
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                accounts.mt_token_program.key(),
                TransferChecked {
                    from: accounts.creator_vault.to_account_info(),
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
        let model = &mut ctx.accounts.model;
        model.vesting.claimed = model.vesting.claimed.checked_add(amount).ok_or(TreasuryError::MathOverflow)?;
        emit_cpi!(VestedClaimed {
            model: model.key(),
            creator: model.creator,
            destination,
            amount,
            claimed_total: model.vesting.claimed,
            allocation: model.supply.creator,
        });
        Ok(())
    }
}
