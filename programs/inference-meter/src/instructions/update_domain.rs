use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::DomainUpdated;
use crate::instructions::create_domain::check_domain_terms;
use crate::state::{seeds, Domain, MeterConfig};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct UpdateDomainArgs {
    pub min_node_stake: u64,
    pub fee_bps: u16,
    pub notice_secs: i64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateDomain<'info> {
    pub operator: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::DOMAIN, operator.key().as_ref(), domain.name.as_bytes()],
        bump = domain.bump,
        has_one = operator,
    )]
    pub domain: Box<Account<'info, Domain>>,

    #[account(seeds = [seeds::METER], bump = meter.bump)]
    pub meter: Box<Account<'info, MeterConfig>>,
}

impl UpdateDomain<'_> {
    fn validate(&self, args: &UpdateDomainArgs) -> Result<()> {
        check_domain_terms(&self.meter, args.fee_bps, args.notice_secs)
    }
}

impl UpdateDomain<'_> {
    /// Replaces the minimum node stake and notice at once (members already
    /// departing keep the notice they left with) and schedules the fee: it
    /// applies to runs served from `now + notice` on (the longer of the old
    /// and new notice), so a member always has the notice to leave before a
    /// higher fee reaches its runs. An unchanged fee is not rescheduled.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_domain(ctx: Context<Self>, args: UpdateDomainArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let domain = &mut ctx.accounts.domain;
        if args.fee_bps != domain.fee_bps {
            let notice = domain.notice_secs.max(args.notice_secs);
            let effective_at = now.checked_add(notice).ok_or(MeterError::MathOverflow)?;
            domain.schedule_fee(args.fee_bps, now, effective_at)?;
        }
        domain.min_node_stake = args.min_node_stake;
        domain.notice_secs = args.notice_secs;
        let event = DomainUpdated {
            domain: domain.key(),
            min_node_stake: domain.min_node_stake,
            notice_secs: domain.notice_secs,
            fee_bps: domain.fee_bps,
            previous_fee_bps: domain.previous_fee_bps,
            fee_effective_at: domain.fee_effective_at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
