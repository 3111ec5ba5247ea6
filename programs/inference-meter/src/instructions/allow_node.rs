use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::LaneAllowed;
use crate::state::{seeds, Escrow, Lane, Node, MAX_LANES};

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
        require!(self.escrow.rotated_to.is_none(), MeterError::EscrowRotated);
        require!(amount <= self.escrow.balance, MeterError::InsufficientBalance);
        if let Some(room) = self.escrow.lane_room() {
            require!(amount <= room, MeterError::LanesExceedSpendLimit);
        }
        if self.escrow.lane_index(&self.node.key()).is_none() {
            require!(self.escrow.lanes.len() < MAX_LANES as usize, MeterError::TooManyLanes);
        }
        Ok(())
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
        let index = match escrow.lane_index(&node) {
            Some(i) => i,
            None => {
                escrow.lanes.push(Lane { node, balance: 0, spent: 0, revoke_requested_at: 0 });
                escrow.lanes.len() - 1
            }
        };
        escrow.balance -= amount;
        let lane = &mut escrow.lanes[index];
        lane.balance = lane.balance.checked_add(amount).ok_or(MeterError::MathOverflow)?;
        lane.revoke_requested_at = 0;
        let (lane_balance, balance) = (lane.balance, escrow.balance);
        emit_cpi!(LaneAllowed { escrow: ctx.accounts.escrow.key(), node, amount, lane_balance, balance });
        Ok(())
    }
}
