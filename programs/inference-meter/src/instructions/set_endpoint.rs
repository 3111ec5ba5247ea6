use anchor_lang::prelude::*;

use crate::events::EndpointSet;
use crate::instructions::register_node::check_endpoint;
use crate::state::{seeds, Node};

#[event_cpi]
#[derive(Accounts)]
pub struct SetEndpoint<'info> {
    pub operator: Signer<'info>,

    #[account(mut, seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,
}

impl SetEndpoint<'_> {
    fn validate(&self, endpoint: &str) -> Result<()> {
        check_endpoint(endpoint)
    }
}

impl SetEndpoint<'_> {
    /// Publishes a new endpoint for the node.
    #[access_control(ctx.accounts.validate(&endpoint))]
    pub fn set_endpoint(ctx: Context<Self>, endpoint: String) -> Result<()> {
        ctx.accounts.node.endpoint = endpoint.clone();
        emit_cpi!(EndpointSet { node: ctx.accounts.node.key(), endpoint });
        Ok(())
    }
}
