use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::NodeActivated;
use crate::state::{seeds, MeterConfig, Node, NodeStatus};

#[event_cpi]
#[derive(Accounts)]
pub struct ActivateNode<'info> {
    pub operator: Signer<'info>,

    #[account(mut, seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,

    #[account(seeds = [seeds::METER], bump = meter.bump)]
    pub meter: Box<Account<'info, MeterConfig>>,
}

impl ActivateNode<'_> {
    fn validate(&self) -> Result<()> {
        match self.node.status {
            NodeStatus::Inactive => {}
            NodeStatus::Active => return err!(MeterError::NodeAlreadyActive),
            NodeStatus::Unbonding => return err!(MeterError::NodeUnbonding),
        }
        require!(self.node.stake >= self.meter.min_node_stake && self.node.stake > 0, MeterError::InsufficientStake);
        Ok(())
    }
}

impl ActivateNode<'_> {
    /// Lets an inactive node settle again, if its stake meets the minimum.
    #[access_control(ctx.accounts.validate())]
    pub fn activate_node(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.node.status = NodeStatus::Active;
        emit_cpi!(NodeActivated { node: ctx.accounts.node.key() });
        Ok(())
    }
}
