use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::NodeDeactivated;
use crate::state::{seeds, Node, NodeStatus};

#[event_cpi]
#[derive(Accounts)]
pub struct DeactivateNode<'info> {
    pub operator: Signer<'info>,

    #[account(mut, seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,
}

impl DeactivateNode<'_> {
    fn validate(&self) -> Result<()> {
        match self.node.status {
            NodeStatus::Active => Ok(()),
            NodeStatus::Inactive => err!(MeterError::NodeInactive),
            NodeStatus::Unbonding => err!(MeterError::NodeUnbonding),
        }
    }
}

impl DeactivateNode<'_> {
    /// Stops the node from settling (e.g. a suspected keeper-key leak); the
    /// stake stays until unbonded.
    #[access_control(ctx.accounts.validate())]
    pub fn deactivate_node(ctx: Context<Self>) -> Result<()> {
        ctx.accounts.node.status = NodeStatus::Inactive;
        emit_cpi!(NodeDeactivated { node: ctx.accounts.node.key() });
        Ok(())
    }
}
