use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use mt_treasury::state::{seeds as treasury_seeds, Protocol};

use crate::errors::MeterError;
use crate::events::DomainSlashed;
use crate::state::{seeds, Domain, MeterConfig};
use crate::vault::pay_out;

#[event_cpi]
#[derive(Accounts)]
pub struct SlashDomain<'info> {
    pub admin: Signer<'info>,

    #[account(
        seeds = [treasury_seeds::PROTOCOL],
        bump = protocol.bump,
        seeds::program = mt_treasury::ID,
        has_one = admin,
        has_one = fee_vault,
    )]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(
        seeds = [seeds::METER],
        bump = meter.bump,
        has_one = protocol,
        has_one = stake_vault,
        has_one = native_mint,
    )]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(mut, seeds = [seeds::DOMAIN, domain.operator.as_ref(), domain.name.as_bytes()], bump = domain.bump)]
    pub domain: Box<Account<'info, Domain>>,

    #[account(mut)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The protocol's fee vault receives slashed bond.
    #[account(mut)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = meter.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl SlashDomain<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, MeterError::ZeroAmount);
        require!(amount <= self.domain.bond, MeterError::SlashExceedsBond);
        Ok(())
    }
}

impl SlashDomain<'_> {
    /// Takes `amount` of the domain's bond to the protocol fee vault, as
    /// `slash_node` does with a node's stake.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn slash_domain(ctx: Context<Self>, amount: u64, reason: u16) -> Result<()> {
        let a = &ctx.accounts;
        pay_out(&a.meter, &a.token_program, &a.native_mint, a.stake_vault.to_account_info(), a.fee_vault.to_account_info(), amount)?;
        let domain = &mut ctx.accounts.domain;
        domain.bond -= amount;
        domain.last_slash_reason = reason;
        domain.slashed = domain.slashed.checked_add(amount).ok_or(MeterError::MathOverflow)?;
        let bond = domain.bond;
        emit_cpi!(DomainSlashed { domain: ctx.accounts.domain.key(), amount, reason, bond });
        Ok(())
    }
}
