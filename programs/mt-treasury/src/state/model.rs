use anchor_lang::prelude::*;

use super::Market;
use crate::errors::TreasuryError;
use crate::math::{mul_div_ceil, mul_div_floor};

/// Decimals of every Model Token.
#[constant]
pub const MT_DECIMALS: u8 = 6;
/// One whole MT in base units.
#[constant]
pub const MT_UNIT: u64 = 1_000_000;

/// Lifecycle of a model.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum Stage {
    /// Terms fixed and set-up fee paid; the MT mint and the vaults are still
    /// being created (`create_model_token`, `open_model_vaults`).
    Launching,
    /// Crowdfund open or awaiting finalisation.
    Funding,
    /// Raise succeeded: supply minted and fixed, DAO running.
    Active,
    /// Raise failed: contributors may only take refunds.
    Failed,
}

/// How the hard supply is split. The four parts sum exactly to `hard_supply`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct SupplySplit {
    pub hard_supply: u64,
    pub creator: u64,
    pub crowdfund: u64,
    pub liquidity: u64,
    pub contributor_rewards: u64,
}

/// Where the hard supply goes when a raise succeeds, in MT base units.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MtAllocation {
    /// MT sold, held for contributors' `claim_mt`.
    pub sale: u64,
    pub creator: u64,
    pub liquidity: u64,
    /// The contributor-rewards pool plus the unsold part of the sale allocation.
    pub rewards: u64,
}

impl MtAllocation {
    pub fn total(&self) -> Option<u64> {
        self.sale.checked_add(self.creator)?.checked_add(self.liquidity)?.checked_add(self.rewards)
    }
}

impl SupplySplit {
    /// Sum of the four parts, or None on overflow.
    pub fn parts_total(&self) -> Option<u64> {
        self.creator.checked_add(self.crowdfund)?.checked_add(self.liquidity)?.checked_add(self.contributor_rewards)
    }

    /// The vault allocations at a successful finalisation with `sold` MT
    /// sold. Unsold sale MT joins the contributor-rewards pool, so the whole
    /// hard supply is minted and the supply is fixed.
    pub fn allocation(&self, sold: u64) -> Result<MtAllocation> {
        let unsold = self.crowdfund.checked_sub(sold).ok_or(TreasuryError::MathOverflow)?;
        let allocation = MtAllocation {
            sale: sold,
            creator: self.creator,
            liquidity: self.liquidity,
            rewards: self.contributor_rewards.checked_add(unsold).ok_or(TreasuryError::MathOverflow)?,
        };
        require!(allocation.total() == Some(self.hard_supply), TreasuryError::SupplySplitMismatch);
        Ok(allocation)
    }
}

/// Creator allocation vesting: nothing before `start + cliff_secs`, then
/// linear until `start + duration_secs`. `start` is the finalisation time.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct Vesting {
    pub start: i64,
    pub cliff_secs: i64,
    pub duration_secs: i64,
    pub claimed: u64,
}

impl Vesting {
    /// MT vested by `now` out of `total`: none before the cliff, all from
    /// `start + duration_secs`, linear in between (rounded down).
    pub fn vested(&self, total: u64, now: i64) -> Result<u64> {
        let elapsed = now.checked_sub(self.start).ok_or(TreasuryError::MathOverflow)?;
        if elapsed < self.cliff_secs || elapsed < 0 {
            return Ok(0);
        }
        if elapsed >= self.duration_secs {
            return Ok(total);
        }
        // 0 <= elapsed < duration_secs here, so both casts are exact.
        mul_div_floor(total, elapsed as u64, self.duration_secs as u64)
    }

    /// Vested and not yet claimed.
    pub fn claimable(&self, total: u64, now: i64) -> Result<u64> {
        self.vested(total, now)?.checked_sub(self.claimed).ok_or_else(|| error!(TreasuryError::MathOverflow))
    }
}

/// The crowdfund's terms and progress. Amounts in native base units unless noted.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct Crowdfund {
    /// Native base units per whole MT (10^MT_DECIMALS base units).
    pub price: u64,
    pub soft_cap: u64,
    pub hard_cap: u64,
    /// Contributions are accepted from `start` (inclusive) to `end` (exclusive).
    pub start: i64,
    pub end: i64,
    pub per_wallet_cap: u64,
    /// Share of the raise that seeds the market's native side at finalisation.
    pub liquidity_bps: u16,
    /// The protocol's fee on a successful raise, fixed at launch so a later
    /// `update_protocol` cannot change the terms contributors bought under.
    pub protocol_fee_bps: u16,
    /// Merkle root of allowed contributors; all zero when anyone may contribute.
    pub allowlist_root: [u8; 32],
    pub raised: u64,
    /// MT base units sold so far.
    pub sold: u64,
    pub contributors: u32,
    pub finalized_at: i64,
    /// Set at a successful finalisation: the protocol's fee on the raise, and
    /// the native tokens moved to the liquidity-native vault for the market.
    pub protocol_fee: u64,
    pub liquidity_native: u64,
}

/// What a contribution buys: `mt` base units for `cost` native base units.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fill {
    pub mt: u64,
    pub cost: u64,
}

/// How a successful raise's proceeds are split, in native base units.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Proceeds {
    pub protocol_fee: u64,
    pub liquidity: u64,
    pub treasury: u64,
}

impl Crowdfund {
    /// The contribution window, defined once: from `start` inclusive to `end` exclusive.
    pub fn is_open(&self, now: i64) -> bool {
        self.start <= now && now < self.end
    }

    /// The window has closed (`now >= end`).
    pub fn has_ended(&self, now: i64) -> bool {
        now >= self.end
    }

    /// MT base units that `native` buys, rounded down (the buyer gets no fraction).
    pub fn mt_for(&self, native: u64) -> Result<u64> {
        mul_div_floor(native, MT_UNIT, self.price)
    }

    /// Native base units that `mt` base units cost, rounded up (the buyer pays every fraction).
    pub fn cost_of(&self, mt: u64) -> Result<u64> {
        mul_div_ceil(mt, self.price, MT_UNIT)
    }

    /// No further MT can be bought: what is left under the hard cap buys
    /// nothing, or the sale allocation is gone.
    pub fn sold_out(&self, sale_allocation: u64) -> Result<bool> {
        let room = self.hard_cap.checked_sub(self.raised).ok_or(TreasuryError::MathOverflow)?;
        Ok(self.sold >= sale_allocation || self.mt_for(room)? == 0)
    }

    /// What offering `offered` native base units buys now, for a wallet that
    /// has paid `wallet_paid` so far. First come, first served: near the hard
    /// cap the fill is partial and costs only what it buys. Never sells past
    /// the hard cap or the sale allocation; never takes a wallet past its cap.
    pub fn fill(&self, sale_allocation: u64, wallet_paid: u64, offered: u64) -> Result<Fill> {
        require!(offered > 0, TreasuryError::ZeroAmount);
        require!(!self.sold_out(sale_allocation)?, TreasuryError::HardCapReached);
        let room = self.hard_cap.checked_sub(self.raised).ok_or(TreasuryError::MathOverflow)?;
        let unsold = sale_allocation.checked_sub(self.sold).ok_or(TreasuryError::MathOverflow)?;
        let mt = self.mt_for(offered.min(room))?.min(unsold);
        require!(mt > 0, TreasuryError::ContributionTooSmall);
        let cost = self.cost_of(mt)?;
        let wallet_total = wallet_paid.checked_add(cost).ok_or(TreasuryError::MathOverflow)?;
        require!(wallet_total <= self.per_wallet_cap, TreasuryError::WalletCapExceeded);
        Ok(Fill { mt, cost })
    }

    /// The raise met its soft cap.
    pub fn succeeded(&self) -> bool {
        self.raised >= self.soft_cap
    }

    /// Finalisation is due: the window has closed or nothing more can be bought.
    pub fn can_finalize(&self, now: i64, sale_allocation: u64) -> Result<bool> {
        Ok(self.has_ended(now) || self.sold_out(sale_allocation)?)
    }

    /// Splits a successful raise: the protocol fee fixed at launch (rounded up) first, then
    /// `liquidity_bps` of the rest (rounded down) for the market, the
    /// remainder to the model treasury. The three parts sum to `raised`.
    pub fn proceeds(&self) -> Result<Proceeds> {
        let protocol_fee = crate::math::bps_ceil(self.raised, self.protocol_fee_bps)?;
        let net = self.raised.checked_sub(protocol_fee).ok_or(TreasuryError::MathOverflow)?;
        let liquidity = crate::math::bps_floor(net, self.liquidity_bps)?;
        let treasury = net.checked_sub(liquidity).ok_or(TreasuryError::MathOverflow)?;
        Ok(Proceeds { protocol_fee, liquidity, treasury })
    }
}

/// Governance rules; changeable by governance within the protocol's bounds.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct GovernanceRules {
    /// Turnout (yes + no + abstain) needed, as a share of circulating supply.
    pub quorum_bps: u16,
    /// Yes needed, as a share of yes + no.
    pub threshold_bps: u16,
    pub voting_period_secs: i64,
    /// Delay between a proposal passing and its execution.
    pub hold_up_secs: i64,
    /// MT (base units) a proposer must have deposited.
    pub min_propose_mt: u64,
}

/// How long after a run was served it may still be settled. The meter
/// refuses older runs, and a model keeps every price a settleable run can
/// have been served under: a price that took effect is not replaced until it
/// has been in force this long (or the price before it was the same). Seven
/// days covers a keeper that was down for days; it also limits a model's
/// governance to one effective price change a week.
#[constant]
pub const SETTLE_WINDOW_SECS: i64 = 7 * 24 * 60 * 60;

/// Per-query price in native base units, per 1 000 tokens. A change takes
/// effect at `effective_at`; runs served before it pay the previous price.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct QueryPricing {
    pub input_per_1k: u64,
    pub output_per_1k: u64,
    pub previous_input_per_1k: u64,
    pub previous_output_per_1k: u64,
    pub effective_at: i64,
}

impl QueryPricing {
    /// Schedules a new price from `effective_at` (> `now`). The price in
    /// force at `now` becomes the previous price, so every run served before
    /// `effective_at` keeps paying what was in force when it was served; a
    /// change still pending at `now` is replaced without ever taking effect.
    ///
    /// Only two prices are kept, so the previous price may be dropped only
    /// when no settleable run was served under it: refused while the current
    /// price has been in force for less than [`SETTLE_WINDOW_SECS`], unless
    /// the previous price equals it (nothing is lost).
    pub fn schedule(&mut self, input_per_1k: u64, output_per_1k: u64, now: i64, effective_at: i64) -> Result<()> {
        let in_force = now >= self.effective_at;
        let previous_differs =
            (self.previous_input_per_1k, self.previous_output_per_1k) != (self.input_per_1k, self.output_per_1k);
        if in_force && previous_differs {
            let settled_out = self.effective_at.checked_add(SETTLE_WINDOW_SECS).ok_or(TreasuryError::MathOverflow)?;
            require!(now >= settled_out, TreasuryError::PriceChangeTooSoon);
        }
        let (in_force_input, in_force_output) = self.at(now);
        self.previous_input_per_1k = in_force_input;
        self.previous_output_per_1k = in_force_output;
        self.input_per_1k = input_per_1k;
        self.output_per_1k = output_per_1k;
        self.effective_at = effective_at;
        Ok(())
    }

    /// The (input, output) price per 1 000 tokens for runs served at `served_at`.
    pub fn at(&self, served_at: i64) -> (u64, u64) {
        if served_at >= self.effective_at {
            (self.input_per_1k, self.output_per_1k)
        } else {
            (self.previous_input_per_1k, self.previous_output_per_1k)
        }
    }
}

/// Revenue sharing state: a reward-per-share accumulator over deposited MT.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct RevenueState {
    /// Share of every revenue deposit that goes to MT depositors; the rest
    /// goes to the model treasury.
    pub depositor_share_bps: u16,
    /// Native base units per deposited MT base unit, scaled by [`ACC_SCALE`].
    pub acc_per_share: u128,
    /// MT base units deposited in voter records that earn revenue (their
    /// warm-up is over): the accumulator's denominator. MT still warming is
    /// in `warming`; voting power counts both.
    pub total_deposited: u64,
    /// Lifetime revenue received, and the part routed to the treasury.
    pub total_revenue: u64,
    pub treasury_revenue: u64,
    /// MT base units deposited in voter records and still warming up.
    pub warming: u64,
    /// How long a deposit warms up before it earns (see `state::revenue`).
    /// Set to the voting period at launch; governance may change it.
    pub warmup_secs: i64,
    /// Lifetime revenue credited to depositors (paid into the revenue vault).
    pub depositors_revenue: u64,
    /// Lifetime rewards paid out of the revenue vault. The vault holds at
    /// least `depositors_revenue - rewards_claimed`.
    pub rewards_claimed: u64,
}

/// Scale of [`RevenueState::acc_per_share`].
#[constant]
pub const ACC_SCALE: u128 = 1_000_000_000_000_000_000_u128;

/// A community-owned model, at [`seeds::MODEL`](super::seeds::MODEL) + id.
#[account]
#[derive(InitSpace)]
pub struct Model {
    pub id: u64,
    pub creator: Pubkey,
    pub mt_mint: Pubkey,
    pub stage: Stage,
    pub supply: SupplySplit,
    pub vesting: Vesting,
    pub crowdfund: Crowdfund,
    pub governance: GovernanceRules,
    pub pricing: QueryPricing,
    pub revenue: RevenueState,
    pub proposal_count: u64,
    pub bump: u8,
    pub mint_bump: u8,
    pub vault_bumps: VaultBumps,
    /// The constant-product market, once `open_market` seeded it.
    pub market: Market,
}

/// Canonical bumps of the model's vaults, stored when they are opened.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct VaultBumps {
    pub raise: u8,
    pub treasury: u8,
    pub revenue: u8,
    pub liquidity_native: u8,
    pub sale: u8,
    pub creator: u8,
    pub liquidity: u8,
    pub rewards: u8,
    /// Set by the first `deposit_mt`, which creates the deposit vault.
    pub deposit: u8,
}

impl Model {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;
}
