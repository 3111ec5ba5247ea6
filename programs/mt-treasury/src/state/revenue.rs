//! Revenue sharing: a reward-per-share accumulator over earning MT.
//!
//! Every revenue deposit splits into the depositors' share
//! (`depositor_share_bps`, rounded down) and the treasury's (the rest). The
//! depositors' share raises `acc_per_share` by `share × ACC_SCALE /
//! total_deposited` (rounded down); a voter record earning `e` MT is owed
//! `e × (acc_per_share − its checkpoint) / ACC_SCALE` (rounded down). Both
//! roundings are in the vault's favour, so the revenue vault never owes more
//! than it received; what they leave behind is dust that stays in the vault.
//! Every deposit, withdrawal and claim first settles the voter's pending
//! rewards into `rewards_owed` (a checkpoint), so each instruction does O(1)
//! work whatever the number of holders.
//!
//! Warm-up: new MT does not earn at once. It joins the record's `warming`
//! part with `warm_at = now + warmup_secs` (adding to a record that is
//! still warming restarts the clock for all of its warming MT) and starts
//! earning at the record's first checkpoint at or after `warm_at`; until
//! then it is not in `total_deposited`, so revenue arriving meanwhile goes
//! to the MT that was already earning (or to the treasury if there is
//! none). Depositing just before a known settlement and leaving right after
//! therefore earns nothing; to earn from a settlement, MT must have been
//! deposited at least `warmup_secs` before it. Withdrawals take warming MT
//! first.
//!
//! Dust bound (tested): a holder's total rewards are at most their exact
//! pro-rata share, and less by under one base unit per checkpoint of theirs
//! plus `e × revenue deposits / ACC_SCALE`.
use anchor_lang::prelude::*;

use super::{RevenueState, Voter, ACC_SCALE};
use crate::errors::TreasuryError;
use crate::math::bps_floor;

/// How one revenue deposit is split, in native base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevenueSplit {
    pub to_depositors: u64,
    pub to_treasury: u64,
}

fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| error!(TreasuryError::MathOverflow))
}

fn sub(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b).ok_or_else(|| error!(TreasuryError::MathOverflow))
}

impl RevenueState {
    /// MT deposited in voter records, warming or earning: the DAO's voting MT.
    pub fn voting_deposited(&self) -> Result<u64> {
        add(self.total_deposited, self.warming)
    }

    /// The split of `amount` under the current rule: nothing to depositors
    /// while no MT earns.
    pub fn split(&self, amount: u64) -> Result<RevenueSplit> {
        let to_depositors = if self.total_deposited == 0 { 0 } else { bps_floor(amount, self.depositor_share_bps)? };
        Ok(RevenueSplit { to_depositors, to_treasury: sub(amount, to_depositors)? })
    }

    /// Books a revenue deposit of `amount`: the depositors' share into the
    /// accumulator, the rest as treasury revenue. The caller moves the
    /// tokens as the returned split says.
    pub fn credit(&mut self, amount: u64) -> Result<RevenueSplit> {
        let split = self.split(amount)?;
        if split.to_depositors > 0 {
            let increment = (split.to_depositors as u128)
                .checked_mul(ACC_SCALE)
                .ok_or(TreasuryError::MathOverflow)?
                / self.total_deposited as u128;
            self.acc_per_share = self.acc_per_share.checked_add(increment).ok_or(TreasuryError::MathOverflow)?;
        }
        self.total_revenue = add(self.total_revenue, amount)?;
        self.treasury_revenue = add(self.treasury_revenue, split.to_treasury)?;
        self.depositors_revenue = add(self.depositors_revenue, split.to_depositors)?;
        Ok(split)
    }

    /// Rewards `voter` has earned since its last checkpoint (rounded down).
    pub fn pending(&self, voter: &Voter) -> Result<u64> {
        let delta = self.acc_per_share.checked_sub(voter.reward_checkpoint).ok_or(TreasuryError::MathOverflow)?;
        let owed = (voter.earning() as u128).checked_mul(delta).ok_or(TreasuryError::MathOverflow)? / ACC_SCALE;
        u64::try_from(owed).map_err(|_| error!(TreasuryError::MathOverflow))
    }

    /// Settles `voter`'s pending rewards into `rewards_owed`, then starts its
    /// warmed-up MT earning if `now >= warm_at`. Returns the MT activated.
    pub fn checkpoint(&mut self, voter: &mut Voter, now: i64) -> Result<u64> {
        let pending = self.pending(voter)?;
        voter.rewards_owed = add(voter.rewards_owed, pending)?;
        voter.reward_checkpoint = self.acc_per_share;
        if voter.warming > 0 && now >= voter.warm_at {
            let activated = voter.warming;
            self.warming = sub(self.warming, activated)?;
            self.total_deposited = add(self.total_deposited, activated)?;
            voter.warming = 0;
            return Ok(activated);
        }
        Ok(0)
    }

    /// Adds `amount` MT to `voter` (after a checkpoint): it warms up from now.
    pub fn deposit(&mut self, voter: &mut Voter, amount: u64, now: i64) -> Result<()> {
        self.checkpoint(voter, now)?;
        voter.deposited = add(voter.deposited, amount)?;
        voter.warming = add(voter.warming, amount)?;
        voter.warm_at = now.checked_add(self.warmup_secs).ok_or(TreasuryError::MathOverflow)?;
        self.warming = add(self.warming, amount)?;
        Ok(())
    }

    /// Takes `amount` MT out of `voter` (after a checkpoint), warming MT first.
    pub fn withdraw(&mut self, voter: &mut Voter, amount: u64, now: i64) -> Result<()> {
        self.checkpoint(voter, now)?;
        require!(amount <= voter.deposited, TreasuryError::InsufficientDeposit);
        let from_warming = amount.min(voter.warming);
        let from_earning = amount - from_warming;
        voter.warming -= from_warming;
        voter.deposited -= amount;
        self.warming = sub(self.warming, from_warming)?;
        self.total_deposited = sub(self.total_deposited, from_earning)?;
        Ok(())
    }

    /// Takes everything `voter` is owed (after a checkpoint) off its books.
    pub fn take_rewards(&mut self, voter: &mut Voter, now: i64) -> Result<u64> {
        self.checkpoint(voter, now)?;
        let amount = voter.rewards_owed;
        voter.rewards_owed = 0;
        voter.rewards_claimed = add(voter.rewards_claimed, amount)?;
        self.rewards_claimed = add(self.rewards_claimed, amount)?;
        Ok(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> RevenueState {
        RevenueState {
            depositor_share_bps: 10_000,
            acc_per_share: 0,
            total_deposited: 0,
            total_revenue: 0,
            treasury_revenue: 0,
            warming: 0,
            warmup_secs: 100,
            depositors_revenue: 0,
            rewards_claimed: 0,
        }
    }

    fn voter() -> Voter {
        Voter {
            model: Pubkey::default(),
            owner: Pubkey::default(),
            deposited: 0,
            warming: 0,
            warm_at: 0,
            locked_until: 0,
            reward_checkpoint: 0,
            rewards_owed: 0,
            rewards_claimed: 0,
            bump: 0,
            recent: 0,
            recent_votes_from: 0,
            settled_votes_from: 0,
        }
    }

    #[test]
    fn warming_mt_earns_nothing_until_its_checkpoint_after_warm_at() {
        let mut r = state();
        let (mut a, mut b) = (voter(), voter());
        r.deposit(&mut a, 100, 0).unwrap();
        assert_eq!(r.credit(50).unwrap(), RevenueSplit { to_depositors: 0, to_treasury: 50 }, "nothing earns yet");
        r.checkpoint(&mut a, 100).unwrap();
        assert_eq!(r.total_deposited, 100);
        r.deposit(&mut b, 100, 150).unwrap();
        r.credit(30).unwrap();
        assert_eq!(r.take_rewards(&mut a, 151).unwrap(), 30);
        assert_eq!(r.take_rewards(&mut b, 151).unwrap(), 0, "b is still warming");
        r.withdraw(&mut b, 100, 151).unwrap();
        assert_eq!((r.total_deposited, r.warming), (100, 0));
    }

    #[test]
    fn rounding_never_owes_more_than_was_credited() {
        let mut r = state();
        let mut v: Vec<Voter> = (0..3).map(|_| voter()).collect();
        for x in v.iter_mut() {
            r.deposit(x, 1, 0).unwrap();
            r.checkpoint(x, 100).unwrap();
        }
        for _ in 0..10 {
            r.credit(1).unwrap();
        }
        let paid: u64 = v.iter_mut().map(|x| r.take_rewards(x, 100).unwrap()).sum();
        assert!(paid <= 10);
        assert_eq!(paid, 9, "each is owed floor(10/3)");
    }
}
