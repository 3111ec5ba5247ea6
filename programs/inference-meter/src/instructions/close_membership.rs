use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::MembershipClosed;
use crate::state::{seeds, Domain, Membership, Node};

#[event_cpi]
#[derive(Accounts)]
pub struct CloseMembership<'info> {
    /// Anyone may close an ended membership once its notice is over (the
    /// domain operator does, to close the domain); the rent goes back to the
    /// node operator who paid it.
    pub closer: Signer<'info>,

    /// CHECK: receives the rent; fixed to the node's operator by `address`.
    #[account(mut, address = node.operator)]
    pub node_operator: UncheckedAccount<'info>,

    #[account(seeds = [seeds::NODE, node.operator.as_ref()], bump = node.bump)]
    pub node: Box<Account<'info, Node>>,

    #[account(mut, seeds = [seeds::DOMAIN, domain.operator.as_ref(), domain.name.as_bytes()], bump = domain.bump)]
    pub domain: Box<Account<'info, Domain>>,

    #[account(
        mut,
        close = node_operator,
        seeds = [seeds::MEMBER, domain.key().as_ref(), node.key().as_ref()],
        bump = membership.bump,
    )]
    pub membership: Box<Account<'info, Membership>>,
}

impl CloseMembership<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.membership.is_ended(), MeterError::InvalidMembershipStatus);
        // The node may settle up to settle_until inclusive.
        require!(Clock::get()?.unix_timestamp > self.membership.settle_until, MeterError::MembershipNoticeNotElapsed);
        Ok(())
    }
}

impl CloseMembership<'_> {
    /// Closes an ended membership after its settlement notice; the node may
    /// then ask to join again.
    #[access_control(ctx.accounts.validate())]
    pub fn close_membership(ctx: Context<Self>) -> Result<()> {
        let domain = &mut ctx.accounts.domain;
        domain.memberships = domain.memberships.checked_sub(1).ok_or(MeterError::MathOverflow)?;
        emit_cpi!(MembershipClosed { domain: ctx.accounts.domain.key(), node: ctx.accounts.node.key() });
        Ok(())
    }
}
