use anchor_lang::prelude::*;

use crate::events::MemberDeparted;
use crate::state::{seeds, Domain, Membership, MembershipStatus};

#[event_cpi]
#[derive(Accounts)]
pub struct RemoveMember<'info> {
    /// The domain's operator.
    pub operator: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::DOMAIN, operator.key().as_ref(), domain.name.as_bytes()],
        bump = domain.bump,
        has_one = operator,
    )]
    pub domain: Box<Account<'info, Domain>>,

    #[account(mut, seeds = [seeds::MEMBER, domain.key().as_ref(), membership.node.as_ref()], bump = membership.bump, has_one = domain)]
    pub membership: Box<Account<'info, Membership>>,
}

impl RemoveMember<'_> {
    /// Removes a member (or refuses a request) at once: it serves no new
    /// runs for the domain, and may settle those it served before now until
    /// the domain's notice ends.
    pub fn remove_member(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let a = &mut *ctx.accounts;
        a.membership.end(&mut a.domain, MembershipStatus::Removed, now)?;
        let m = &a.membership;
        let event = MemberDeparted {
            domain: m.domain,
            node: m.node,
            removed: true,
            ended_at: m.ended_at,
            settle_until: m.settle_until,
            members: a.domain.members,
        };
        emit_cpi!(event);
        Ok(())
    }
}
