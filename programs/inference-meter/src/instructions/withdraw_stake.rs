use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MeterError;
use crate::events::StakeWithdrawn;
use crate::state::{seeds, MeterConfig, Node, NodeStatus};
use crate::vault::pay_out;

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawStake<'info> {
    pub operator: Signer<'info>,

    #[account(mut, seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,

    #[account(seeds = [seeds::METER], bump = meter.bump, has_one = stake_vault, has_one = native_mint)]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(mut)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The operator's token account that receives the stake.
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

impl WithdrawStake<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.node.status == NodeStatus::Unbonding, MeterError::NotUnbonding);
        let now = Clock::get()?.unix_timestamp;
        let due = self.node.unbonding_started_at.checked_add(self.meter.unbonding_secs).ok_or(MeterError::MathOverflow)?;
        // The unbonding period ends at `due`, inclusive.
        require!(now >= due, MeterError::UnbondingNotElapsed);
        Ok(())
    }
}

impl WithdrawStake<'_> {
    /// Pays the remaining stake to the operator; the node stays, inactive
    /// with no stake, keeping its history and batch sequence.
    #[access_control(ctx.accounts.validate())]
    pub fn withdraw_stake(ctx: Context<Self>) -> Result<()> {
        let amount = ctx.accounts.node.stake;
        let a = &ctx.accounts;
        pay_out(&a.meter, &a.token_program, &a.native_mint, a.stake_vault.to_account_info(), a.destination.to_account_info(), amount)?;
        let node = &mut ctx.accounts.node;
        node.stake = 0;
        node.status = NodeStatus::Inactive;
        node.unbonding_started_at = 0;
        emit_cpi!(StakeWithdrawn { node: ctx.accounts.node.key(), amount });
        Ok(())
    }
}
