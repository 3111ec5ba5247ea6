use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::ProtocolUpdated;
use crate::math::check_bps;
use crate::state::{seeds, Protocol};

/// Settings to change; `None` keeps the current value. The native mint and
/// the fee vault never change: every model's vaults are built on them.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Default)]
pub struct UpdateProtocolArgs {
    pub setup_fee: Option<u64>,
    pub protocol_fee_bps: Option<u16>,
    pub swap_fee_bps: Option<u16>,
    pub swap_protocol_share_bps: Option<u16>,
    pub min_period_secs: Option<i64>,
    /// Pause (true) or resume (false) launches and contributions.
    pub paused: Option<bool>,
    /// Nominate a new admin, who takes over by signing `accept_admin`;
    /// nominating the current admin withdraws a nomination.
    pub new_admin: Option<Pubkey>,
}

impl UpdateProtocolArgs {
    fn is_empty(&self) -> bool {
        self.setup_fee.is_none()
            && self.protocol_fee_bps.is_none()
            && self.swap_fee_bps.is_none()
            && self.swap_protocol_share_bps.is_none()
            && self.min_period_secs.is_none()
            && self.paused.is_none()
            && self.new_admin.is_none()
    }
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateProtocol<'info> {
    pub admin: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::PROTOCOL],
        bump = protocol.bump,
        has_one = admin @ TreasuryError::NotAdmin,
    )]
    pub protocol: Box<Account<'info, Protocol>>,
}

impl UpdateProtocol<'_> {
    fn validate(&self, args: &UpdateProtocolArgs) -> Result<()> {
        require!(!args.is_empty(), TreasuryError::NothingToUpdate);
        for bps in [args.protocol_fee_bps, args.swap_fee_bps, args.swap_protocol_share_bps].into_iter().flatten() {
            check_bps(bps)?;
        }
        if let Some(secs) = args.min_period_secs {
            require!(secs > 0, TreasuryError::PeriodTooShort);
        }
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_protocol(ctx: Context<Self>, args: UpdateProtocolArgs) -> Result<()> {
        let p = &mut ctx.accounts.protocol;
        if let Some(v) = args.setup_fee {
            p.setup_fee = v;
        }
        if let Some(v) = args.protocol_fee_bps {
            p.protocol_fee_bps = v;
        }
        if let Some(v) = args.swap_fee_bps {
            p.swap_fee_bps = v;
        }
        if let Some(v) = args.swap_protocol_share_bps {
            p.swap_protocol_share_bps = v;
        }
        if let Some(v) = args.min_period_secs {
            p.min_period_secs = v;
        }
        if let Some(v) = args.paused {
            p.paused = v;
        }
        if let Some(v) = args.new_admin {
            p.pending_admin = (v != p.admin).then_some(v);
        }
        emit_cpi!(ProtocolUpdated {
            admin: p.admin,
            setup_fee: p.setup_fee,
            protocol_fee_bps: p.protocol_fee_bps,
            swap_fee_bps: p.swap_fee_bps,
            swap_protocol_share_bps: p.swap_protocol_share_bps,
            min_period_secs: p.min_period_secs,
            paused: p.paused,
            pending_admin: p.pending_admin,
        });
        Ok(())
    }
}
