use anchor_lang::prelude::*;

use crate::events::LaneAllowed;
use crate::state::{seeds, Escrow, Node};

#[event_cpi]
#[derive(Accounts)]
pub struct AllowNode<'info> {
    pub owner: Signer<'info>,

    #[account(mut, seeds = [seeds::ESCROW, escrow.key_hash.as_ref()], bump = escrow.bump, has_one = owner)]
    pub escrow: Box<Account<'info, Escrow>>,

    /// The node the lane is for; must be a registered node, so money is never
    /// parked in a lane nobody can serve.
    #[account(seeds = [seeds::NODE, node.operator.as_ref()], bump = node.bump)]
    pub node: Box<Account<'info, Node>>,
}

impl AllowNode<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        self.escrow.check_fill(&self.node.key(), amount)
    }
}

impl AllowNode<'_> {
    /// Moves `amount` of the escrow's unallocated balance into the node's
    /// lane, opening the lane if there is none. A pending revocation of the
    /// lane is cancelled: allowing a node again means the owner wants it to
    /// keep serving. `amount` may be 0 to open (or keep) a lane without
    /// funding it.
    #[access_control(ctx.accounts.validate(amount))]
    pub fn allow_node(ctx: Context<Self>, amount: u64) -> Result<()> {
        let node = ctx.accounts.node.key();
        let escrow = &mut ctx.accounts.escrow;
        let lane_balance = escrow.fill_lane(node, 0, amount)?;
        let balance = escrow.balance;
        emit_cpi!(LaneAllowed { escrow: ctx.accounts.escrow.key(), node, amount, lane_balance, balance });
        Ok(())
    }
}
