use anchor_lang::prelude::*;

use crate::events::MemberDeparted;
use crate::state::{seeds, Domain, Membership, MembershipStatus, Node};

#[event_cpi]
#[derive(Accounts)]
pub struct LeaveDomain<'info> {
    /// The node's operator.
    pub operator: Signer<'info>,

    #[account(seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,

    #[account(mut, seeds = [seeds::DOMAIN, domain.operator.as_ref(), domain.name.as_bytes()], bump = domain.bump)]
    pub domain: Box<Account<'info, Domain>>,

    #[account(mut, seeds = [seeds::MEMBER, domain.key().as_ref(), node.key().as_ref()], bump = membership.bump)]
    pub membership: Box<Account<'info, Membership>>,
}

impl LeaveDomain<'_> {
    /// Leaves the domain (or withdraws a request) at once: the node serves
    /// no new runs for it, and may settle those it served before now until
    /// the domain's notice ends.
    pub fn leave_domain(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let a = &mut *ctx.accounts;
        a.membership.end(&mut a.domain, MembershipStatus::Left, now)?;
        let m = &a.membership;
        let event = MemberDeparted {
            domain: m.domain,
            node: m.node,
            removed: false,
            ended_at: m.ended_at,
            settle_until: m.settle_until,
            members: a.domain.members,
        };
        emit_cpi!(event);
        Ok(())
    }
}
