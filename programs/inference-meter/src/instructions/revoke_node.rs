use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::LaneRevoked;
use crate::state::{seeds, Escrow, MeterConfig};

#[event_cpi]
#[derive(Accounts)]
pub struct RevokeNode<'info> {
    pub owner: Signer<'info>,

    #[account(mut, seeds = [seeds::ESCROW, escrow.key_hash.as_ref()], bump = escrow.bump, has_one = owner)]
    pub escrow: Box<Account<'info, Escrow>>,

    #[account(seeds = [seeds::METER], bump = meter.bump)]
    pub meter: Box<Account<'info, MeterConfig>>,
}

impl RevokeNode<'_> {
    fn validate(&self, node: &Pubkey) -> Result<()> {
        let index = self.escrow.lane_index(node).ok_or(MeterError::LaneNotFound)?;
        let requested_at = self.escrow.lanes[index].revoke_requested_at;
        require!(requested_at != 0, MeterError::RevokeNotRequested);
        let due = requested_at.checked_add(self.meter.withdrawal_notice_secs).ok_or(MeterError::MathOverflow)?;
        // The notice ends at `due`, inclusive (as for withdrawals).
        require!(Clock::get()?.unix_timestamp >= due, MeterError::RevokeNoticeNotElapsed);
        Ok(())
    }
}

impl RevokeNode<'_> {
    /// Closes `node`'s lane after the notice: what is left in it returns to
    /// the escrow's unallocated balance, and the node can no longer settle
    /// against this escrow.
    #[access_control(ctx.accounts.validate(&node))]
    pub fn revoke_node(ctx: Context<Self>, node: Pubkey) -> Result<()> {
        let escrow = &mut ctx.accounts.escrow;
        let index = escrow.lane_index(&node).ok_or(MeterError::LaneNotFound)?;
        let lane = escrow.lanes.swap_remove(index);
        escrow.balance = escrow.balance.checked_add(lane.balance).ok_or(MeterError::MathOverflow)?;
        let balance = escrow.balance;
        emit_cpi!(LaneRevoked { escrow: ctx.accounts.escrow.key(), node, returned: lane.balance, balance });
        Ok(())
    }
}
