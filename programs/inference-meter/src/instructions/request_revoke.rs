use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::LaneRevokeRequested;
use crate::state::{seeds, Escrow, MeterConfig};

#[event_cpi]
#[derive(Accounts)]
pub struct RequestRevoke<'info> {
    pub owner: Signer<'info>,

    #[account(mut, seeds = [seeds::ESCROW, escrow.key_hash.as_ref()], bump = escrow.bump, has_one = owner)]
    pub escrow: Box<Account<'info, Escrow>>,

    #[account(seeds = [seeds::METER], bump = meter.bump)]
    pub meter: Box<Account<'info, MeterConfig>>,
}

impl RequestRevoke<'_> {
    fn validate(&self, node: &Pubkey) -> Result<()> {
        require!(self.escrow.lane_index(node).is_some(), MeterError::LaneNotFound);
        Ok(())
    }
}

impl RequestRevoke<'_> {
    /// Starts the withdrawal notice on `node`'s lane. The node may still
    /// settle runs it served until `revoke_node` closes the lane, so a node
    /// is never left with work it cannot be paid for; keepers stop admitting
    /// new requests on a lane being revoked. Requesting again restarts the
    /// notice.
    #[access_control(ctx.accounts.validate(&node))]
    pub fn request_revoke(ctx: Context<Self>, node: Pubkey) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let revocable_at = now.checked_add(ctx.accounts.meter.withdrawal_notice_secs).ok_or(MeterError::MathOverflow)?;
        let escrow = &mut ctx.accounts.escrow;
        let index = escrow.lane_index(&node).ok_or(MeterError::LaneNotFound)?;
        escrow.lanes[index].revoke_requested_at = now;
        emit_cpi!(LaneRevokeRequested { escrow: ctx.accounts.escrow.key(), node, revocable_at });
        Ok(())
    }
}
