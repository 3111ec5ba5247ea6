use anchor_lang::prelude::*;
use mt_treasury::state::SETTLE_WINDOW_SECS;

use crate::errors::MeterError;

/// Longest domain name, in bytes (it is a PDA seed, so at most 32).
pub const MAX_DOMAIN_NAME_LEN: usize = 32;

/// A group of nodes under one operator, at
/// [`seeds::DOMAIN`](super::seeds::DOMAIN) + operator + name. Escrow owners
/// open lanes to a domain (`allow_domain`); any admitted member node may
/// settle against such a lane, and the domain takes `fee_bps` of what the
/// node operator earns there.
#[account]
#[derive(InitSpace)]
pub struct Domain {
    /// Admits and removes members, sets the fee, receives the domain share.
    pub operator: Pubkey,
    #[max_len(MAX_DOMAIN_NAME_LEN)]
    pub name: String,
    /// Native base units held in the meter's stake vault; slashable by the
    /// protocol admin like a node's stake, returned by `close_domain`.
    pub bond: u64,
    /// A node needs at least this stake to join, be admitted and settle here.
    pub min_node_stake: u64,
    /// Share of the node operator's cut that goes to the domain, for runs
    /// served at or after `fee_effective_at`.
    pub fee_bps: u16,
    /// The share for runs served before `fee_effective_at`.
    pub previous_fee_bps: u16,
    pub fee_effective_at: i64,
    /// How long a member that left or was removed may still settle the runs
    /// it served while it was a member; also the delay before a fee change
    /// takes effect.
    pub notice_secs: i64,
    /// Members in status `Admitted`.
    pub members: u32,
    /// Membership accounts that exist (any status); the domain can close only at 0.
    pub memberships: u32,
    /// Slashes recorded against the domain's bond.
    pub slashed: u64,
    pub last_slash_reason: u16,
    pub created_at: i64,
    /// This domain's number among all domains the meter ever created (from 1):
    /// a lane opened to a domain records it, so a domain closed and created
    /// again under the same name (same address) cannot spend the old lanes.
    pub serial: u64,
    pub bump: u8,
}

impl Domain {
    /// The fee share for runs served at `served_at`.
    pub fn fee_at(&self, served_at: i64) -> u16 {
        if served_at >= self.fee_effective_at {
            self.fee_bps
        } else {
            self.previous_fee_bps
        }
    }

    /// Schedules `fee_bps` for runs served from `effective_at` on. Only two
    /// fees are kept, so (as for model prices) the previous fee may be
    /// dropped only once no settleable run can have been served under it.
    pub fn schedule_fee(&mut self, fee_bps: u16, now: i64, effective_at: i64) -> Result<()> {
        let in_force = now >= self.fee_effective_at;
        if in_force && self.previous_fee_bps != self.fee_bps {
            let settled_out = self.fee_effective_at.checked_add(SETTLE_WINDOW_SECS).ok_or(MeterError::MathOverflow)?;
            require!(now >= settled_out, MeterError::FeeChangeTooSoon);
        }
        self.previous_fee_bps = self.fee_at(now);
        self.fee_bps = fee_bps;
        self.fee_effective_at = effective_at;
        Ok(())
    }
}

/// A name is 1..=32 bytes of printable ASCII without spaces.
pub fn check_domain_name(name: &str) -> Result<()> {
    require!(
        !name.is_empty() && name.len() <= MAX_DOMAIN_NAME_LEN && name.bytes().all(|b| (0x21..0x7f).contains(&b)),
        MeterError::InvalidDomainName
    );
    Ok(())
}
