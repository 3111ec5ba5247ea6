use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::MemberAdmitted;
use crate::instructions::request_join::check_node_eligible;
use crate::state::{seeds, Domain, Membership, MembershipStatus, Node};

#[event_cpi]
#[derive(Accounts)]
pub struct AdmitMember<'info> {
    /// The domain's operator.
    pub operator: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::DOMAIN, operator.key().as_ref(), domain.name.as_bytes()],
        bump = domain.bump,
        has_one = operator,
    )]
    pub domain: Box<Account<'info, Domain>>,

    #[account(seeds = [seeds::NODE, node.operator.as_ref()], bump = node.bump)]
    pub node: Box<Account<'info, Node>>,

    #[account(mut, seeds = [seeds::MEMBER, domain.key().as_ref(), node.key().as_ref()], bump = membership.bump)]
    pub membership: Box<Account<'info, Membership>>,
}

impl AdmitMember<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.membership.status == MembershipStatus::Requested, MeterError::InvalidMembershipStatus);
        check_node_eligible(&self.node, &self.domain)
    }
}

impl AdmitMember<'_> {
    /// Admits a requesting node: from now on it may serve the domain's users
    /// and settle the runs it serves against the domain's lanes.
    #[access_control(ctx.accounts.validate())]
    pub fn admit_member(ctx: Context<Self>) -> Result<()> {
        let membership = &mut ctx.accounts.membership;
        membership.status = MembershipStatus::Admitted;
        membership.admitted_at = Clock::get()?.unix_timestamp;
        let domain = &mut ctx.accounts.domain;
        domain.members = domain.members.checked_add(1).ok_or(MeterError::MathOverflow)?;
        let members = domain.members;
        emit_cpi!(MemberAdmitted { domain: ctx.accounts.domain.key(), node: ctx.accounts.node.key(), members });
        Ok(())
    }
}
