use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MeterError;
use crate::events::DomainCreated;
use crate::math::check_bps;
use crate::state::{check_domain_name, seeds, Domain, MeterConfig};
use crate::vault::pay_in;

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct CreateDomainArgs {
    /// 1..=32 bytes; a PDA seed, so one operator cannot have two domains of one name.
    pub name: String,
    /// Native base units to bond; at least the meter's minimum node stake.
    pub bond: u64,
    pub min_node_stake: u64,
    /// Share of member node operators' cut that goes to the domain.
    pub fee_bps: u16,
    /// Settlement notice for departing members and delay of fee changes;
    /// at least the meter's withdrawal notice.
    pub notice_secs: i64,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateDomainArgs)]
pub struct CreateDomain<'info> {
    /// Runs the domain; pays its rent and bond.
    #[account(mut)]
    pub operator: Signer<'info>,

    /// Counts domains, to give each its serial.
    #[account(mut, seeds = [seeds::METER], bump = meter.bump, has_one = stake_vault, has_one = native_mint)]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(
        init,
        payer = operator,
        space = 8 + Domain::INIT_SPACE,
        seeds = [seeds::DOMAIN, operator.key().as_ref(), args.name.as_bytes()],
        bump,
    )]
    pub domain: Box<Account<'info, Domain>>,

    /// Holds the bond, alongside node stakes.
    #[account(mut)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        token::mint = native_mint,
        token::authority = operator,
        token::token_program = token_program,
    )]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = meter.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// The rules `create_domain` and `update_domain` share.
pub fn check_domain_terms(meter: &MeterConfig, fee_bps: u16, notice_secs: i64) -> Result<()> {
    check_bps(fee_bps)?;
    require!(notice_secs > 0 && notice_secs >= meter.withdrawal_notice_secs, MeterError::PeriodTooShort);
    Ok(())
}

impl CreateDomain<'_> {
    fn validate(&self, args: &CreateDomainArgs) -> Result<()> {
        check_domain_name(&args.name)?;
        require!(args.bond >= self.meter.min_node_stake && args.bond > 0, MeterError::InsufficientBond);
        check_domain_terms(&self.meter, args.fee_bps, args.notice_secs)
    }
}

impl CreateDomain<'_> {
    /// Creates the operator's domain and takes its bond into the stake vault.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn create_domain(ctx: Context<Self>, args: CreateDomainArgs) -> Result<()> {
        let a = &ctx.accounts;
        pay_in(&a.token_program, &a.native_mint, a.source.to_account_info(), a.operator.to_account_info(), a.stake_vault.to_account_info(), args.bond)?;
        let operator = ctx.accounts.operator.key();
        let meter = &mut ctx.accounts.meter;
        meter.domains_created = meter.domains_created.checked_add(1).ok_or(MeterError::MathOverflow)?;
        let serial = meter.domains_created;
        ctx.accounts.domain.set_inner(Domain {
            operator,
            name: args.name.clone(),
            bond: args.bond,
            min_node_stake: args.min_node_stake,
            fee_bps: args.fee_bps,
            previous_fee_bps: args.fee_bps,
            fee_effective_at: 0,
            notice_secs: args.notice_secs,
            members: 0,
            memberships: 0,
            slashed: 0,
            last_slash_reason: 0,
            created_at: Clock::get()?.unix_timestamp,
            serial,
            bump: ctx.bumps.domain,
        });
        emit_cpi!(DomainCreated {
            domain: ctx.accounts.domain.key(),
            operator,
            name: args.name,
            bond: args.bond,
            min_node_stake: args.min_node_stake,
            fee_bps: args.fee_bps,
            notice_secs: args.notice_secs,
        });
        Ok(())
    }
}
