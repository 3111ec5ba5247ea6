use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::RevenueDeposited;
use crate::state::{seeds, Model, Protocol, Stage};
use crate::vault::pay_from_signer;

/// Revenue enters a model only through here: from anyone (a sponsor, or the
/// inference meter by CPI) — swap fees take the same internal path
/// (`RevenueState::credit`). The depositors' share (`depositor_share_bps`,
/// rounded down) goes to the revenue vault and raises the reward-per-share
/// accumulator over earning MT; the rest goes to the model's treasury. With
/// no MT earning (nothing deposited, or all of it still warming up), all of
/// it goes to the treasury. See `state::revenue`.
///
/// The inference meter calls this by CPI with exactly these arguments and
/// accounts: they are part of its interface.
#[event_cpi]
#[derive(Accounts)]
pub struct DepositRevenue<'info> {
    /// Owner (or delegate) of `source`.
    pub payer: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump, has_one = native_mint)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(
        mut,
        seeds = [seeds::MODEL, &model.id.to_le_bytes()],
        bump = model.bump,
    )]
    pub model: Box<Account<'info, Model>>,

    #[account(mut, token::mint = native_mint, token::token_program = token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        seeds = [seeds::REVENUE_VAULT, model.key().as_ref()],
        bump = model.vault_bumps.revenue,
        token::mint = native_mint,
        token::authority = model,
        token::token_program = token_program,
    )]
    pub revenue_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        seeds = [seeds::TREASURY_VAULT, model.key().as_ref()],
        bump = model.vault_bumps.treasury,
        token::mint = native_mint,
        token::authority = model,
        token::token_program = token_program,
    )]
    pub treasury_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl DepositRevenue<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TreasuryError::ZeroAmount);
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(amount))]
    pub fn deposit_revenue(ctx: Context<Self>, amount: u64) -> Result<()> {
        let split = ctx.accounts.model.revenue.credit(amount)?;
        let a = &ctx.accounts;
        let (program, payer, source, mint, decimals) = (
            a.token_program.to_account_info(),
            a.payer.to_account_info(),
            a.source.to_account_info(),
            a.native_mint.to_account_info(),
            a.native_mint.decimals,
        );
        pay_from_signer(&program, payer.clone(), source.clone(), mint.clone(), a.revenue_vault.to_account_info(), split.to_depositors, decimals)?;
        pay_from_signer(&program, payer, source, mint, a.treasury_vault.to_account_info(), split.to_treasury, decimals)?;

        let model = &ctx.accounts.model;
        emit_cpi!(RevenueDeposited {
            model: model.key(),
            payer: ctx.accounts.payer.key(),
            amount,
            to_depositors: split.to_depositors,
            to_treasury: split.to_treasury,
            acc_per_share: model.revenue.acc_per_share,
            earning_mt: model.revenue.total_deposited,
        });
        Ok(())
    }
}
