use anchor_lang::prelude::*;

use super::{BountyTerms, GovernanceRules, Model};
use crate::errors::TreasuryError;
use crate::math::BPS_DENOMINATOR;

/// Longest `uri` a proposal may carry, in bytes.
#[constant]
pub const MAX_PROPOSAL_URI_LEN: u32 = 200;

/// What a proposal does when executed.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ProposalAction {
    /// Pays `amount` native base units from the model's treasury vault to
    /// the native-token account `destination`.
    TransferNative { destination: Pubkey, amount: u64 },
    /// Pays `amount` MT base units from the model's rewards vault (its MT
    /// treasury: the contributor-rewards pool plus unsold sale MT) to the MT
    /// account `destination`.
    TransferMt { destination: Pubkey, amount: u64 },
    /// Replaces the model's governance rules. Proposals already created keep
    /// the rules they were created under.
    SetGovernance { rules: GovernanceRules },
    /// Changes the depositors' share of revenue (from the next revenue
    /// deposit on) and the warm-up of deposits made from now on.
    SetRevenueRules { depositor_share_bps: u16, warmup_secs: i64 },
    /// Changes the per-query price, effective one hold-up period after
    /// execution (never retroactive: runs served before pay the old price).
    SetPrice { input_per_1k: u64, output_per_1k: u64 },
    /// Changes nothing on chain: a recorded decision about the document at
    /// the proposal's `uri` with the proposal's `content_hash`.
    Signal,
    /// Moves `amount` native base units from the treasury vault into the
    /// model's bounty pool (executed by `fund_bounty_pool`).
    FundBountyPool { amount: u64 },
    /// Creates a bounty with these terms, reserving its reward and review
    /// fees from the bounty pool (executed by `create_bounty`).
    CreateBounty { terms: BountyTerms },
}

impl ProposalAction {
    /// Bounty actions are executed by their own instructions
    /// (`fund_bounty_pool`, `create_bounty`), which take the bounty accounts.
    pub fn is_bounty_action(&self) -> bool {
        matches!(self, ProposalAction::FundBountyPool { .. } | ProposalAction::CreateBounty { .. })
    }
}

/// Where a proposal is in its life.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ProposalState {
    /// Open for votes until `voting_ends` (exclusive).
    Voting,
    /// Passed: executable from `execute_after`, once, until
    /// `execute_after + EXECUTION_WINDOW_SECS`.
    Passed,
    /// Missed its quorum or its approval threshold.
    Failed,
    Executed,
    /// Withdrawn by its proposer before any vote.
    Cancelled,
}

/// How long a passed proposal stays executable after its hold-up. A
/// proposal nobody executes in time expires: the treasury, prices and
/// holders it was voted under may have changed since, so an old approval
/// must not be spendable at any later date.
#[constant]
pub const EXECUTION_WINDOW_SECS: i64 = 14 * 24 * 60 * 60;

/// A proposal of a model's mini-DAO, at [`seeds::PROPOSAL`](super::seeds::PROPOSAL)
/// + model + index (u64 LE). Never closed: it is the record of the decision.
#[account]
#[derive(InitSpace)]
pub struct Proposal {
    pub model: Pubkey,
    pub index: u64,
    pub proposer: Pubkey,
    pub action: ProposalAction,
    /// Hash of the proposal's document (its rationale; for a signal, the
    /// decision itself) and where to read it. Both may be empty except for a signal.
    pub content_hash: [u8; 32],
    #[max_len(MAX_PROPOSAL_URI_LEN)]
    pub uri: String,
    pub state: ProposalState,
    pub created_at: i64,
    /// Votes are accepted while `now < voting_ends`.
    pub voting_ends: i64,
    /// The model's rules when the proposal was created; they apply to it
    /// even if governance changes them meanwhile.
    pub quorum_bps: u16,
    pub threshold_bps: u16,
    pub hold_up_secs: i64,
    /// Circulating MT when the proposal was created (see [`circulating_supply`]).
    pub circulating_supply: u64,
    /// The model's hard supply: no more MT than this can ever vote.
    pub max_vote_weight: u64,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub votes: u32,
    pub finalized_at: i64,
    /// A passed proposal executes at or after this.
    pub execute_after: i64,
    pub executed_at: i64,
    pub bump: u8,
}

impl Proposal {
    /// Account size for a proposal whose uri is `uri_len` bytes (rent is
    /// paid for what the proposal uses, not for the longest uri).
    pub fn space(uri_len: usize) -> usize {
        8 + Self::INIT_SPACE - MAX_PROPOSAL_URI_LEN as usize + uri_len
    }

    /// A proposal may execute once, after it passed, from its hold-up's end
    /// until `EXECUTION_WINDOW_SECS` later.
    pub fn check_executable(&self, now: i64) -> Result<()> {
        match self.state {
            ProposalState::Passed => {}
            ProposalState::Executed => return err!(TreasuryError::ProposalAlreadyExecuted),
            _ => return err!(TreasuryError::ProposalNotPassed),
        }
        require!(now >= self.execute_after, TreasuryError::HoldUpNotOver);
        require!(now < self.execute_after.saturating_add(EXECUTION_WINDOW_SECS), TreasuryError::ProposalExpired);
        Ok(())
    }

    /// Books the execution.
    pub fn mark_executed(&mut self, now: i64) {
        self.state = ProposalState::Executed;
        self.executed_at = now;
    }

    pub fn turnout(&self) -> Result<u64> {
        self.yes
            .checked_add(self.no)
            .and_then(|v| v.checked_add(self.abstain))
            .ok_or_else(|| error!(TreasuryError::MathOverflow))
    }

    /// What `finalize_proposal` would decide at `now`: the outcome, and
    /// whether it is final before the window ends; None while voting must
    /// go on (the window is open and the rest of the MT could still change it).
    pub fn finalize_outcome(&self, now: i64) -> Result<Option<(Outcome, bool)>> {
        let tally = self.tally()?;
        if now >= self.voting_ends {
            return Ok(Some((tally.outcome(), false)));
        }
        Ok(tally.decided().map(|o| (o, true)))
    }

    pub fn tally(&self) -> Result<Tally> {
        Ok(Tally {
            yes: self.yes,
            no: self.no,
            abstain: self.abstain,
            circulating: self.circulating_supply,
            max_weight: self.max_vote_weight,
            quorum_bps: self.quorum_bps,
            threshold_bps: self.threshold_bps,
        })
    }
}

/// The numbers a proposal's outcome depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub circulating: u64,
    /// No more MT than this can ever have voted in total.
    pub max_weight: u64,
    pub quorum_bps: u16,
    pub threshold_bps: u16,
}

/// The outcome of a tally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    FailedQuorum,
    FailedThreshold,
}

impl Tally {
    /// Turnout (yes + no + abstain) reaches `quorum_bps` of the circulating
    /// supply. Exact (no rounding): turnout × 10 000 ≥ quorum_bps × circulating.
    pub fn quorum_met(&self) -> bool {
        let turnout = self.yes as u128 + self.no as u128 + self.abstain as u128;
        turnout * BPS_DENOMINATOR as u128 >= self.quorum_bps as u128 * self.circulating as u128
    }

    /// Yes reaches `threshold_bps` of yes + no, and is not zero (abstentions
    /// alone never pass a proposal). Exact: yes × 10 000 ≥ threshold_bps × (yes + no).
    pub fn threshold_met(&self) -> bool {
        threshold_met(self.yes, self.no, self.threshold_bps)
    }

    /// The outcome if voting ended now.
    pub fn outcome(&self) -> Outcome {
        if !self.quorum_met() {
            Outcome::FailedQuorum
        } else if !self.threshold_met() {
            Outcome::FailedThreshold
        } else {
            Outcome::Passed
        }
    }

    /// The outcome if it can no longer change whatever the rest of the MT
    /// votes, else None. At most `max_weight - turnout` more MT can vote
    /// (every vote's MT stays locked in its voter record until the window
    /// ends, so no MT is counted twice). It has passed when quorum is met
    /// and yes would keep the threshold even if all of it voted no; it has
    /// failed when yes could not reach the threshold even if all of it voted
    /// yes. (Quorum can always still be reached early: the circulating
    /// supply is at most the hard supply.)
    pub fn decided(&self) -> Option<Outcome> {
        let turnout = self.yes as u128 + self.no as u128 + self.abstain as u128;
        let remaining = (self.max_weight as u128).saturating_sub(turnout);
        let as_u64 = |v: u128| u64::try_from(v).unwrap_or(u64::MAX);
        if self.quorum_met() && threshold_met(self.yes, as_u64(self.no as u128 + remaining), self.threshold_bps) {
            return Some(Outcome::Passed);
        }
        if !threshold_met(as_u64(self.yes as u128 + remaining), self.no, self.threshold_bps) {
            return Some(Outcome::FailedThreshold);
        }
        None
    }
}

fn threshold_met(yes: u64, no: u64, threshold_bps: u16) -> bool {
    yes > 0 && yes as u128 * BPS_DENOMINATOR as u128 >= threshold_bps as u128 * (yes as u128 + no as u128)
}

/// The circulating MT supply, defined once for every quorum: the hard
/// supply minus the MT that belongs to no one (see [`held_for_no_one`]:
/// the creator's not-yet-vested allocation, the market pool's MT and the MT
/// treasury). Everything owned counts, deposited or not: MT in wallets,
/// in voter records, sold in the crowdfund but not yet claimed, and the
/// creator's vested MT not yet claimed.
pub fn circulating_supply(hard_supply: u64, model_held: &[u64]) -> u64 {
    let held: u128 = model_held.iter().map(|v| *v as u128).sum();
    u64::try_from((hard_supply as u128).saturating_sub(held)).unwrap_or(0)
}

/// MT of an active model that belongs to no one, from recorded amounts (a
/// vault balance anyone can top up never lowers the quorum base): the
/// creator's allocation not yet vested at `now`, and the market pool's MT
/// (its recorded reserve once open, the liquidity allocation before).
/// `mt_treasury` is the rewards vault's balance: MT sent there is given to
/// the DAO for good. Sold MT not yet claimed and vested MT not yet claimed
/// are owned, so they are not in here.
pub fn held_for_no_one(model: &Model, mt_treasury: u64, now: i64) -> Result<[u64; 3]> {
    let creator_total = model.supply.creator;
    let unvested =
        creator_total.checked_sub(model.vesting.vested(creator_total, now)?).ok_or(TreasuryError::MathOverflow)?;
    let pool = if model.market.is_open() { model.market.reserve_mt } else { model.supply.liquidity };
    Ok([unvested, pool, mt_treasury])
}

impl GovernanceRules {
    /// The bounds governance (and a launch) must respect. `min_period_secs`
    /// is the protocol's; `max_period_secs` bounds changes made by governance.
    pub fn check(&self, hard_supply: u64, min_period_secs: i64, max_period_secs: i64) -> Result<()> {
        crate::math::check_bps(self.quorum_bps)?;
        crate::math::check_bps(self.threshold_bps)?;
        require!(self.quorum_bps > 0 && self.threshold_bps > 0, TreasuryError::ZeroGovernanceBps);
        for period in [self.voting_period_secs, self.hold_up_secs] {
            require!(period >= min_period_secs, TreasuryError::PeriodTooShort);
            require!(period <= max_period_secs, TreasuryError::PeriodTooLong);
        }
        require!(self.min_propose_mt <= hard_supply, TreasuryError::ProposeThresholdAboveSupply);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(yes: u64, no: u64, abstain: u64) -> Tally {
        Tally { yes, no, abstain, circulating: 1_000, max_weight: 2_000, quorum_bps: 1_000, threshold_bps: 5_000 }
    }

    #[test]
    fn quorum_and_threshold_boundaries_are_inclusive() {
        assert!(tally(50, 50, 0).quorum_met());
        assert!(!tally(49, 50, 0).quorum_met());
        assert_eq!(tally(50, 50, 0).outcome(), Outcome::Passed, "exactly 50% yes passes a 50% threshold");
        assert_eq!(tally(49, 51, 0).outcome(), Outcome::FailedThreshold);
        assert_eq!(tally(0, 0, 100).outcome(), Outcome::FailedThreshold, "abstentions alone never pass");
        assert_eq!(tally(10, 0, 0).outcome(), Outcome::FailedQuorum);
    }

    #[test]
    fn decided_only_when_the_rest_cannot_change_it() {
        assert_eq!(tally(1_000, 0, 0).decided(), Some(Outcome::Passed));
        assert_eq!(tally(999, 0, 0).decided(), None, "1 001 more could vote no");
        assert_eq!(tally(0, 1_001, 0).decided(), Some(Outcome::FailedThreshold));
        assert_eq!(tally(0, 1_000, 0).decided(), None);
    }

    #[test]
    fn circulating_excludes_model_held_mt() {
        assert_eq!(circulating_supply(100, &[10, 20, 30, 40]), 0);
        assert_eq!(circulating_supply(100, &[10, 20]), 70);
        assert_eq!(circulating_supply(10, &[u64::MAX, u64::MAX]), 0);
    }
}
