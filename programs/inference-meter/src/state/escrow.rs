use anchor_lang::prelude::*;

use crate::errors::MeterError;

/// Most models an escrow can be restricted to.
#[constant]
pub const MAX_ALLOWED_MODELS: u32 = 8;

/// Most nodes an escrow can open lanes to at once.
#[constant]
pub const MAX_LANES: u32 = 8;

/// The part of an escrow's money one node may settle against. Only the
/// escrow's owner fills a lane (`allow_node`) or takes it back
/// (`request_revoke`, then `revoke_node` after the withdrawal notice), so a
/// node — or whoever holds its keeper key — can never take more than the
/// lanes opened to it, and keepers sharing an escrow never compete for the
/// same money.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct Lane {
    /// The node account (PDA) allowed to settle against this lane, or a
    /// domain account (PDA): then any member node may settle against it
    /// (`allow_domain`). Node and domain PDAs never collide, so a lane to a
    /// node and a lane to a domain holding that node are separate lanes.
    pub node: Pubkey,
    /// Native base units this node may still settle.
    pub balance: u64,
    /// Lifetime amount settled through this lane.
    pub spent: u64,
    /// When the owner asked to revoke the lane; 0 when no revocation is pending.
    /// Until the notice ends the node can still settle the runs it served.
    pub revoke_requested_at: i64,
    /// For a domain lane, the domain's `serial` when the lane was opened; 0
    /// for a node lane. A different serial means the domain was closed and
    /// created again since: the lane is stale (`DomainLaneStale`).
    pub domain_serial: u64,
}

/// Purpose-bound money behind one API key, at
/// [`seeds::ESCROW`](super::seeds::ESCROW) + the key's id (see `key_hash`).
/// The tokens sit in the meter's escrow vault; `balance` plus the lanes'
/// balances are this escrow's share of it.
///
/// Money is spendable by a node only once the owner moves it from `balance`
/// (unallocated) into that node's lane.
///
/// The rules (`allowed_models`, `spend_limit`) are fixed when the escrow is
/// opened and carried over by `rotate_key`: a keeper that served a run under
/// the rules it saw can always settle it.
#[account]
#[derive(InitSpace)]
pub struct Escrow {
    /// May deposit, withdraw, rotate the key and close.
    pub owner: Pubkey,
    /// The API key's public id: the ed25519 public key whose secret seed is
    /// sha256(API key). The PDA's second seed. Opening (or rotating to) an
    /// escrow needs this key's signature, so nobody who has only seen the id
    /// can open an escrow at it first.
    pub key_hash: [u8; 32],
    /// Native base units deposited and not given to any lane: no node can
    /// settle against them; the owner can withdraw them.
    pub balance: u64,
    /// Per-node allowances; settlement debits only the settling node's lane.
    #[max_len(MAX_LANES)]
    pub lanes: Vec<Lane>,
    /// Lifetime amount settled from this escrow (and the escrows it was rotated from).
    pub spent: u64,
    /// Lifetime cost of runs that could not be paid (balance or spend limit exhausted).
    pub unpaid: u64,
    /// Cap on `spent`; `None` for no cap.
    pub spend_limit: Option<u64>,
    /// Model ids this key may pay for; empty for any model.
    #[max_len(MAX_ALLOWED_MODELS)]
    pub allowed_models: Vec<u64>,
    /// Amount requested for withdrawal (capped by the balance when withdrawn).
    pub withdrawal_amount: u64,
    /// When the pending withdrawal was requested; 0 when none is pending.
    pub withdrawal_requested_at: i64,
    /// Set by `rotate_key`: the escrow of the new key, which now holds the
    /// balance. Keepers settle runs of the old key against it.
    pub rotated_to: Option<Pubkey>,
    pub rotated_at: i64,
    pub opened_at: i64,
    pub bump: u8,
}

impl Escrow {
    /// Index of `node`'s lane, if the owner opened one.
    pub fn lane_index(&self, node: &Pubkey) -> Option<usize> {
        self.lanes.iter().position(|l| l.node == *node)
    }

    /// What settlement through lane `index` may still take: the lane's
    /// balance, within the escrow's spend limit.
    pub fn available(&self, index: usize) -> u64 {
        let balance = self.lanes[index].balance;
        match self.spend_limit {
            None => balance,
            Some(limit) => balance.min(limit.saturating_sub(self.spent)),
        }
    }

    pub fn allows(&self, model_id: u64) -> bool {
        self.allowed_models.is_empty() || self.allowed_models.contains(&model_id)
    }

    /// What the lanes may still be given under the spend limit: the limit
    /// left after what was spent and what the lanes already hold. Keeping
    /// the lanes within it means the limit never cuts a lane short, so every
    /// node can be paid all its lane admitted.
    pub fn lane_room(&self) -> Option<u64> {
        let limit = self.spend_limit?;
        let in_lanes = self.lanes.iter().fold(0u64, |sum, l| sum.saturating_add(l.balance));
        Some(limit.saturating_sub(self.spent).saturating_sub(in_lanes))
    }

    /// Checks that `amount` of the unallocated balance may go into the lane
    /// of `key` (a node or a domain).
    pub fn check_fill(&self, key: &Pubkey, amount: u64) -> Result<()> {
        require!(self.rotated_to.is_none(), MeterError::EscrowRotated);
        require!(amount <= self.balance, MeterError::InsufficientBalance);
        if let Some(room) = self.lane_room() {
            require!(amount <= room, MeterError::LanesExceedSpendLimit);
        }
        if self.lane_index(key).is_none() {
            require!(self.lanes.len() < MAX_LANES as usize, MeterError::TooManyLanes);
        }
        Ok(())
    }

    /// Checks that the lane at `index`, opened to a domain, was opened to
    /// the domain of this `serial`, not to an earlier one at its address.
    pub fn check_domain_lane(&self, index: usize, serial: u64) -> Result<()> {
        require!(self.lanes[index].domain_serial == serial, MeterError::DomainLaneStale);
        Ok(())
    }

    /// Moves `amount` of the unallocated balance into `key`'s lane, opening
    /// it (stamped with `domain_serial`, 0 for a node) if needed and
    /// cancelling a pending revocation (allowing again means the owner wants
    /// it to keep serving). Returns the lane's balance.
    /// Call [`Escrow::check_fill`] first.
    pub fn fill_lane(&mut self, key: Pubkey, domain_serial: u64, amount: u64) -> Result<u64> {
        let index = match self.lane_index(&key) {
            Some(i) => i,
            None => {
                self.lanes.push(Lane { node: key, balance: 0, spent: 0, revoke_requested_at: 0, domain_serial });
                self.lanes.len() - 1
            }
        };
        self.balance = self.balance.checked_sub(amount).ok_or(MeterError::InsufficientBalance)?;
        let lane = &mut self.lanes[index];
        lane.balance = lane.balance.checked_add(amount).ok_or(MeterError::MathOverflow)?;
        lane.revoke_requested_at = 0;
        Ok(lane.balance)
    }

    pub fn withdrawal_pending(&self) -> bool {
        self.withdrawal_requested_at != 0
    }
}
