use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use mt_treasury::state::{seeds as treasury_seeds, Protocol};

use crate::errors::MeterError;
use crate::events::MeterInitialized;
use crate::math::{check_bps, BPS_DENOMINATOR};
use crate::state::{seeds, MeterConfig};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct InitMeterArgs {
    pub settlement_fee_bps: u16,
    pub operator_share_bps: u16,
    pub min_node_stake: u64,
    pub unbonding_secs: i64,
    pub withdrawal_notice_secs: i64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitMeter<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,

    #[account(
        seeds = [treasury_seeds::PROTOCOL],
        bump = protocol.bump,
        seeds::program = mt_treasury::ID,
        has_one = admin,
        has_one = native_mint,
    )]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(
        init,
        payer = admin,
        space = 8 + MeterConfig::INIT_SPACE,
        seeds = [seeds::METER],
        bump,
    )]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(mint::token_program = token_program)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        init,
        payer = admin,
        seeds = [seeds::ESCROW_VAULT],
        bump,
        token::mint = native_mint,
        token::authority = meter,
        token::token_program = token_program,
    )]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        init,
        payer = admin,
        seeds = [seeds::STAKE_VAULT],
        bump,
        token::mint = native_mint,
        token::authority = meter,
        token::token_program = token_program,
    )]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitMeter<'_> {
    fn validate(&self, args: &InitMeterArgs) -> Result<()> {
        check_params(args, self.protocol.min_period_secs)
    }
}

/// The meter's parameter rules, shared with `update_meter`: each bps value
/// and their sum at most 100%, periods at least the protocol's minimum.
pub fn check_params(args: &InitMeterArgs, min_period_secs: i64) -> Result<()> {
    check_bps(args.settlement_fee_bps)?;
    check_bps(args.operator_share_bps)?;
    require!(
        args.settlement_fee_bps as u64 + args.operator_share_bps as u64 <= BPS_DENOMINATOR,
        MeterError::InvalidBps
    );
    require!(
        args.unbonding_secs >= min_period_secs && args.withdrawal_notice_secs >= min_period_secs,
        MeterError::PeriodTooShort
    );
    Ok(())
}

impl InitMeter<'_> {
    #[access_control(ctx.accounts.validate(&args))]
    pub fn init_meter(ctx: Context<Self>, args: InitMeterArgs) -> Result<()> {
        ctx.accounts.meter.set_inner(MeterConfig {
            protocol: ctx.accounts.protocol.key(),
            native_mint: ctx.accounts.native_mint.key(),
            native_token_program: ctx.accounts.token_program.key(),
            escrow_vault: ctx.accounts.escrow_vault.key(),
            stake_vault: ctx.accounts.stake_vault.key(),
            settlement_fee_bps: args.settlement_fee_bps,
            operator_share_bps: args.operator_share_bps,
            min_node_stake: args.min_node_stake,
            unbonding_secs: args.unbonding_secs,
            withdrawal_notice_secs: args.withdrawal_notice_secs,
            bump: ctx.bumps.meter,
            escrow_vault_bump: ctx.bumps.escrow_vault,
            stake_vault_bump: ctx.bumps.stake_vault,
            domains_created: 0,
        });
        emit_cpi!(MeterInitialized {
            admin: ctx.accounts.admin.key(),
            settlement_fee_bps: args.settlement_fee_bps,
            operator_share_bps: args.operator_share_bps,
            min_node_stake: args.min_node_stake,
            unbonding_secs: args.unbonding_secs,
            withdrawal_notice_secs: args.withdrawal_notice_secs,
        });
        Ok(())
    }
}
