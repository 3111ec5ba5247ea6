use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MeterError;
use crate::events::StakeAdded;
use crate::state::{seeds, MeterConfig, Node, NodeStatus};
use crate::vault::pay_in;

#[event_cpi]
#[derive(Accounts)]
pub struct AddStake<'info> {
    pub operator: Signer<'info>,

    #[account(mut, seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,

    #[account(seeds = [seeds::METER], bump = meter.bump, has_one = stake_vault, has_one = native_mint)]
    pub meter: Box<Account<'info, MeterConfig>>,

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
}

impl AddStake<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, MeterError::ZeroAmount);
        require!(self.node.status != NodeStatus::Unbonding, MeterError::NodeUnbonding);
        Ok(())
    }
}

impl AddStake<'_> {
    /// Adds `amount` to the node's stake.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn add_stake(ctx: Context<Self>, amount: u64) -> Result<()> {
        let a = &ctx.accounts;
        pay_in(&a.token_program, &a.native_mint, a.source.to_account_info(), a.operator.to_account_info(), a.stake_vault.to_account_info(), amount)?;
        let node = &mut ctx.accounts.node;
        node.stake = node.stake.checked_add(amount).ok_or(MeterError::MathOverflow)?;
        let stake = node.stake;
        emit_cpi!(StakeAdded { node: ctx.accounts.node.key(), amount, stake });
        Ok(())
    }
}
