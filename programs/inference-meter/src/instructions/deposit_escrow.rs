use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MeterError;
use crate::events::EscrowDeposited;
use crate::state::{seeds, Escrow, MeterConfig};
use crate::vault::pay_in;

#[event_cpi]
#[derive(Accounts)]
pub struct DepositEscrow<'info> {
    /// Anyone may fund an escrow; the tokens leave this signer's account.
    pub depositor: Signer<'info>,

    #[account(mut, seeds = [seeds::ESCROW, escrow.key_hash.as_ref()], bump = escrow.bump)]
    pub escrow: Box<Account<'info, Escrow>>,

    #[account(seeds = [seeds::METER], bump = meter.bump, has_one = escrow_vault, has_one = native_mint)]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        token::mint = native_mint,
        token::authority = depositor,
        token::token_program = token_program,
    )]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = meter.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl DepositEscrow<'_> {
    fn validate(&self, amount: u64, expected_owner: Pubkey) -> Result<()> {
        require_keys_eq!(self.escrow.owner, expected_owner, MeterError::EscrowOwnerMismatch);
        require!(self.escrow.rotated_to.is_none(), MeterError::EscrowRotated);
        require!(amount > 0, MeterError::ZeroAmount);
        Ok(())
    }
}

impl DepositEscrow<'_> {
    /// Adds `amount` to the escrow, which must belong to `expected_owner`
    /// (the front-running defence: a look-alike escrow opened at the same
    /// key hash by someone else is refused).
    #[access_control(ctx.accounts.validate(amount, expected_owner))]
    pub fn deposit_escrow(ctx: Context<Self>, amount: u64, expected_owner: Pubkey) -> Result<()> {
        let a = &ctx.accounts;
        pay_in(
            &a.token_program,
            &a.native_mint,
            a.source.to_account_info(),
            a.depositor.to_account_info(),
            a.escrow_vault.to_account_info(),
            amount,
        )?;
        let escrow = &mut ctx.accounts.escrow;
        escrow.balance = escrow.balance.checked_add(amount).ok_or(MeterError::MathOverflow)?;
        let balance = escrow.balance;
        emit_cpi!(EscrowDeposited {
            escrow: ctx.accounts.escrow.key(),
            depositor: ctx.accounts.depositor.key(),
            amount,
            balance,
        });
        Ok(())
    }
}
