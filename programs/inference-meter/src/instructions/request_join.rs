use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::JoinRequested;
use crate::state::{seeds, Domain, Membership, MembershipStatus, Node, NodeStatus};

#[event_cpi]
#[derive(Accounts)]
pub struct RequestJoin<'info> {
    /// The node's operator; pays the membership's rent.
    #[account(mut)]
    pub operator: Signer<'info>,

    #[account(seeds = [seeds::NODE, operator.key().as_ref()], bump = node.bump, has_one = operator)]
    pub node: Box<Account<'info, Node>>,

    #[account(mut, seeds = [seeds::DOMAIN, domain.operator.as_ref(), domain.name.as_bytes()], bump = domain.bump)]
    pub domain: Box<Account<'info, Domain>>,

    /// `init_if_needed` only so that an existing membership fails with
    /// `MembershipExists` (checked in `validate` before anything is written)
    /// rather than the system program's "already in use".
    #[account(
        init_if_needed,
        payer = operator,
        space = 8 + Membership::INIT_SPACE,
        seeds = [seeds::MEMBER, domain.key().as_ref(), node.key().as_ref()],
        bump,
    )]
    pub membership: Box<Account<'info, Membership>>,

    pub system_program: Program<'info, System>,
}

/// A node may join or be admitted only while active and staked at least the
/// domain's minimum.
pub fn check_node_eligible(node: &Node, domain: &Domain) -> Result<()> {
    match node.status {
        NodeStatus::Active => {}
        NodeStatus::Inactive => return err!(MeterError::NodeInactive),
        NodeStatus::Unbonding => return err!(MeterError::NodeUnbonding),
    }
    require!(node.stake >= domain.min_node_stake, MeterError::BelowDomainMinStake);
    Ok(())
}

impl RequestJoin<'_> {
    fn validate(&self) -> Result<()> {
        // A membership created just now is all zeroes; an existing one names its domain.
        require!(self.membership.domain == Pubkey::default(), MeterError::MembershipExists);
        check_node_eligible(&self.node, &self.domain)
    }
}

impl RequestJoin<'_> {
    /// Asks to join the domain; the domain operator admits (or removes) the
    /// node. A node that left must close its old membership (after the
    /// notice) before asking again.
    #[access_control(ctx.accounts.validate())]
    pub fn request_join(ctx: Context<Self>) -> Result<()> {
        let (domain, node) = (ctx.accounts.domain.key(), ctx.accounts.node.key());
        ctx.accounts.membership.set_inner(Membership {
            domain,
            node,
            status: MembershipStatus::Requested,
            requested_at: Clock::get()?.unix_timestamp,
            admitted_at: 0,
            ended_at: 0,
            settle_until: 0,
            bump: ctx.bumps.membership,
        });
        let d = &mut ctx.accounts.domain;
        d.memberships = d.memberships.checked_add(1).ok_or(MeterError::MathOverflow)?;
        emit_cpi!(JoinRequested { domain, node, membership: ctx.accounts.membership.key() });
        Ok(())
    }
}
