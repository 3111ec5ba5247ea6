use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use mt_treasury::state::{seeds as treasury_seeds, Protocol};

use crate::errors::MeterError;
use crate::events::NodeSlashed;
use crate::state::{seeds, MeterConfig, Node};
use crate::vault::pay_out;

#[event_cpi]
#[derive(Accounts)]
pub struct SlashNode<'info> {
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

    #[account(mut, seeds = [seeds::NODE, node.operator.as_ref()], bump = node.bump)]
    pub node: Box<Account<'info, Node>>,

    #[account(mut)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The protocol's fee vault receives slashed stake.
    #[account(mut)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = meter.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl SlashNode<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, MeterError::ZeroAmount);
        require!(amount <= self.node.stake, MeterError::SlashExceedsStake);
        Ok(())
    }
}

impl SlashNode<'_> {
    /// Takes `amount` of the node's stake (active, inactive or unbonding) to
    /// the protocol fee vault, recording `reason` and a dispute on the node.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn slash_node(ctx: Context<Self>, amount: u64, reason: u16) -> Result<()> {
        let a = &ctx.accounts;
        pay_out(&a.meter, &a.token_program, &a.native_mint, a.stake_vault.to_account_info(), a.fee_vault.to_account_info(), amount)?;
        let node = &mut ctx.accounts.node;
        node.stake -= amount;
        node.last_slash_reason = reason;
        node.counters.disputes = node.counters.disputes.checked_add(1).ok_or(MeterError::MathOverflow)?;
        node.counters.slashed = node.counters.slashed.checked_add(amount).ok_or(MeterError::MathOverflow)?;
        let stake = node.stake;
        emit_cpi!(NodeSlashed { node: ctx.accounts.node.key(), amount, reason, stake });
        Ok(())
    }
}
