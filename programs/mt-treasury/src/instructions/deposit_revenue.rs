use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::TreasuryError;
use crate::events::RevenueDeposited;
use crate::math::bps_floor;
use crate::state::{seeds, Model, Protocol, Stage, ACC_SCALE};

/// Revenue enters a model only through here: from anyone (a sponsor, a
/// swap fee, or the inference meter by CPI). The depositors' share is
/// credited to the reward-per-share accumulator; the rest goes to the
/// model's treasury. With nothing deposited, all of it goes to the treasury.
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
        bump,
        token::mint = native_mint,
        token::authority = model,
        token::token_program = token_program,
    )]
    pub revenue_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        seeds = [seeds::TREASURY_VAULT, model.key().as_ref()],
        bump,
        token::mint = native_mint,
        token::authority = model,
        token::token_program = token_program,
    )]
    pub treasury_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> DepositRevenue<'info> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TreasuryError::ZeroAmount);
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        Ok(())
    }

    fn transfer(&self, to: AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        token_interface::transfer_checked(
            CpiContext::new(
                self.token_program.key(),
                TransferChecked {
                    from: self.source.to_account_info(),
                    mint: self.native_mint.to_account_info(),
                    to,
                    authority: self.payer.to_account_info(),
                },
            ),
            amount,
            self.native_mint.decimals,
        )
    }
}

impl DepositRevenue<'_> {
    #[access_control(ctx.accounts.validate(amount))]
    pub fn deposit_revenue(ctx: Context<Self>, amount: u64) -> Result<()> {
        let accounts = &ctx.accounts;
        let revenue = accounts.model.revenue;
        let to_depositors = if revenue.total_deposited == 0 { 0 } else { bps_floor(amount, revenue.depositor_share_bps)? };
        let to_treasury = amount.checked_sub(to_depositors).ok_or(TreasuryError::MathOverflow)?;
        accounts.transfer(accounts.revenue_vault.to_account_info(), to_depositors)?;
        accounts.transfer(accounts.treasury_vault.to_account_info(), to_treasury)?;

        let model = &mut ctx.accounts.model;
        if to_depositors > 0 {
            // Rounds down: the remainder stays in the vault as dust, never owed twice.
            let increment = (to_depositors as u128)
                .checked_mul(ACC_SCALE)
                .ok_or(TreasuryError::MathOverflow)?
                / model.revenue.total_deposited as u128;
            model.revenue.acc_per_share = model.revenue.acc_per_share.checked_add(increment).ok_or(TreasuryError::MathOverflow)?;
        }
        model.revenue.total_revenue = model.revenue.total_revenue.checked_add(amount).ok_or(TreasuryError::MathOverflow)?;
        model.revenue.treasury_revenue =
            model.revenue.treasury_revenue.checked_add(to_treasury).ok_or(TreasuryError::MathOverflow)?;
        let model_key = model.key();
        let acc_per_share = model.revenue.acc_per_share;
        emit_cpi!(RevenueDeposited {
            model: model_key,
            payer: ctx.accounts.payer.key(),
            amount,
            to_depositors,
            to_treasury,
            acc_per_share,
        });
        Ok(())
    }
}
