use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::state::Domain;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum MembershipStatus {
    /// The node operator asked to join; the domain operator has not admitted it.
    Requested,
    /// A member: may serve the domain's users and settle against its lanes.
    Admitted,
    /// The node operator left.
    Left,
    /// The domain operator removed the node.
    Removed,
}

/// One node's membership of one domain, at
/// [`seeds::MEMBER`](super::seeds::MEMBER) + domain + node. A node may hold
/// one in each of several domains.
#[account]
#[derive(InitSpace)]
pub struct Membership {
    pub domain: Pubkey,
    pub node: Pubkey,
    pub status: MembershipStatus,
    pub requested_at: i64,
    /// When the node was admitted; 0 while `Requested`. Runs served before it
    /// are not the domain's.
    pub admitted_at: i64,
    /// When the node left or was removed; 0 while `Requested` or `Admitted`.
    /// Runs served at or after it are not the domain's.
    pub ended_at: i64,
    /// Last moment (inclusive) an ended membership may settle: `ended_at` +
    /// the domain's notice when it ended (just `ended_at` if never admitted).
    pub settle_until: i64,
    pub bump: u8,
}

impl Membership {
    pub fn is_ended(&self) -> bool {
        matches!(self.status, MembershipStatus::Left | MembershipStatus::Removed)
    }

    /// Whether the node may settle against the domain's lanes at `now`:
    /// while admitted, or after it ended until `settle_until`.
    pub fn check_may_settle(&self, now: i64) -> Result<()> {
        match self.status {
            MembershipStatus::Admitted => Ok(()),
            MembershipStatus::Requested => err!(MeterError::NotDomainMember),
            MembershipStatus::Left | MembershipStatus::Removed => {
                require!(now <= self.settle_until, MeterError::MembershipEnded);
                Ok(())
            }
        }
    }

    /// Whether a run served at `served_at` was served while a member:
    /// `admitted_at ≤ served_at`, and `served_at < ended_at` once ended.
    pub fn check_served(&self, served_at: i64) -> Result<()> {
        require!(self.admitted_at != 0 && served_at >= self.admitted_at, MeterError::ServedOutsideMembership);
        if self.is_ended() {
            require!(served_at < self.ended_at, MeterError::ServedOutsideMembership);
        }
        Ok(())
    }

    /// Ends a requested or admitted membership at `now` with `status` (`Left`
    /// or `Removed`); an admitted member keeps the domain's notice to settle
    /// what it served, and stops counting as a member at once.
    pub fn end(&mut self, domain: &mut Domain, status: MembershipStatus, now: i64) -> Result<()> {
        let notice = match self.status {
            MembershipStatus::Admitted => {
                domain.members = domain.members.checked_sub(1).ok_or(MeterError::MathOverflow)?;
                domain.notice_secs
            }
            MembershipStatus::Requested => 0,
            MembershipStatus::Left | MembershipStatus::Removed => return err!(MeterError::InvalidMembershipStatus),
        };
        self.settle_until = now.checked_add(notice).ok_or(MeterError::MathOverflow)?;
        self.status = status;
        self.ended_at = now;
        Ok(())
    }
}
