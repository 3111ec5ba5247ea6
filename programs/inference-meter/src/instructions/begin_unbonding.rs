use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::UnbondingBegun;
use crate::state::{seeds, MeterConfig, Node, NodeStatus};

#[event_cpi]
#[derive(Accounts)]
pub struct BeginUnbonding<'info> {
    pub operator: Signer<'info>,

    #[account(mut, seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,

    #[account(seeds = [seeds::METER], bump = meter.bump)]
    pub meter: Box<Account<'info, MeterConfig>>,
}

impl BeginUnbonding<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.node.status != NodeStatus::Unbonding, MeterError::NodeUnbonding);
        Ok(())
    }
}

impl BeginUnbonding<'_> {
    /// Starts the node's exit: it stops settling at once, and its whole stake
    /// (still slashable meanwhile) can be withdrawn after the unbonding period.
    #[access_control(ctx.accounts.validate())]
    pub fn begin_unbonding(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let withdrawable_at = now.checked_add(ctx.accounts.meter.unbonding_secs).ok_or(MeterError::MathOverflow)?;
        let node = &mut ctx.accounts.node;
        node.status = NodeStatus::Unbonding;
        node.unbonding_started_at = now;
        let stake = node.stake;
        emit_cpi!(UnbondingBegun { node: ctx.accounts.node.key(), stake, withdrawable_at });
        Ok(())
    }
}
