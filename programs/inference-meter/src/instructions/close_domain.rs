use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MeterError;
use crate::events::DomainClosed;
use crate::state::{seeds, Domain, MeterConfig};
use crate::vault::pay_out;

#[event_cpi]
#[derive(Accounts)]
pub struct CloseDomain<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,

    #[account(
        mut,
        close = operator,
        seeds = [seeds::DOMAIN, operator.key().as_ref(), domain.name.as_bytes()],
        bump = domain.bump,
        has_one = operator,
    )]
    pub domain: Box<Account<'info, Domain>>,

    #[account(seeds = [seeds::METER], bump = meter.bump, has_one = stake_vault, has_one = native_mint)]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(mut)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The operator's token account that receives the bond.
    #[account(
        mut,
        token::mint = native_mint,
        token::authority = operator,
        token::token_program = token_program,
    )]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = meter.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl CloseDomain<'_> {
    fn validate(&self) -> Result<()> {
        // Memberships close only after their settlement notice, so no member
        // can still need the domain account to settle.
        require!(self.domain.memberships == 0, MeterError::DomainHasMembers);
        Ok(())
    }
}

impl CloseDomain<'_> {
    /// Closes a domain with no memberships left, returning its bond and rent
    /// to the operator. Escrow lanes to it stay until their owners revoke them.
    #[access_control(ctx.accounts.validate())]
    pub fn close_domain(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        let bond = a.domain.bond;
        pay_out(&a.meter, &a.token_program, &a.native_mint, a.stake_vault.to_account_info(), a.destination.to_account_info(), bond)?;
        emit_cpi!(DomainClosed { domain: ctx.accounts.domain.key(), operator: ctx.accounts.operator.key(), bond });
        Ok(())
    }
}
