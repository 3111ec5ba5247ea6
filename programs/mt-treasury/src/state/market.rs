//! The model's secondary market: a constant-product pool (x·y = k) of MT and
//! native tokens, owned by the program and seeded once by `open_market`
//! with the liquidity allocation of MT and the native share of the raise
//! earmarked for it. There are no LP tokens and no withdrawal: the
//! liquidity is locked forever.
//!
//! The fee (`protocol.swap_fee_bps`) is charged on the native side: taken
//! from what a buyer pays before it reaches the pool, and from what the pool
//! pays a seller. It never enters the reserves; the protocol's part
//! (`swap_protocol_share_bps` of it, rounded up) goes to the protocol fee
//! vault and the rest is the model's revenue, shared like any revenue
//! deposit. Every rounding favours the pool: the fee rounds up, the output
//! rounds down, so k never decreases.
use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::math::bps_ceil;

/// A model's pool, inside its `Model` account.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct Market {
    /// When `open_market` seeded the pool; 0 while it is not open.
    pub opened_at: i64,
    /// The pool's reserves in base units: MT in the liquidity vault and native
    /// tokens in the liquidity-native vault. Tokens sent to those vaults
    /// directly are not reserves (they cannot move the price).
    pub reserve_mt: u64,
    pub reserve_native: u64,
    /// Lifetime counters.
    pub swaps: u64,
    pub fees_to_model: u64,
    pub fees_to_protocol: u64,
}

/// Which way a swap goes.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum SwapSide {
    /// Pay native tokens, receive MT.
    Buy,
    /// Pay MT, receive native tokens.
    Sell,
}

/// Everything a swap moves, in base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapQuote {
    /// What the trader pays (native for a buy, MT for a sell).
    pub amount_in: u64,
    /// What the trader receives (MT for a buy, native for a sell).
    pub amount_out: u64,
    /// The whole fee in native base units, and its two parts.
    pub fee: u64,
    pub protocol_fee: u64,
    pub model_fee: u64,
    /// The reserves after the swap.
    pub reserve_mt: u64,
    pub reserve_native: u64,
}

impl Market {
    pub fn is_open(&self) -> bool {
        self.opened_at != 0
    }

    /// The pool's invariant, k = reserve_mt × reserve_native.
    pub fn k(&self) -> u128 {
        self.reserve_mt as u128 * self.reserve_native as u128
    }

    /// Quotes a swap of `amount_in` against the current reserves. Fails with
    /// `SwapTooSmall` when the trader would receive nothing.
    pub fn quote(&self, side: SwapSide, amount_in: u64, fee_bps: u16, protocol_share_bps: u16) -> Result<SwapQuote> {
        require!(amount_in > 0, TreasuryError::ZeroAmount);
        require!(self.is_open(), TreasuryError::MarketNotOpen);
        let (x, y) = (self.reserve_mt, self.reserve_native);
        let q = match side {
            SwapSide::Buy => {
                let fee = bps_ceil(amount_in, fee_bps)?;
                let net = amount_in - fee;
                let out = out_given_in(y, x, net)?;
                require!(out > 0, TreasuryError::SwapTooSmall);
                SwapQuote {
                    amount_in,
                    amount_out: out,
                    fee,
                    protocol_fee: 0,
                    model_fee: 0,
                    reserve_mt: x - out,
                    reserve_native: y.checked_add(net).ok_or(TreasuryError::MathOverflow)?,
                }
            }
            SwapSide::Sell => {
                let gross = out_given_in(x, y, amount_in)?;
                let fee = bps_ceil(gross, fee_bps)?;
                let out = gross - fee;
                require!(out > 0, TreasuryError::SwapTooSmall);
                SwapQuote {
                    amount_in,
                    amount_out: out,
                    fee,
                    protocol_fee: 0,
                    model_fee: 0,
                    reserve_mt: x.checked_add(amount_in).ok_or(TreasuryError::MathOverflow)?,
                    reserve_native: y - gross,
                }
            }
        };
        let protocol_fee = bps_ceil(q.fee, protocol_share_bps)?;
        let q = SwapQuote { protocol_fee, model_fee: q.fee - protocol_fee, ..q };
        require!(
            q.reserve_mt as u128 * q.reserve_native as u128 >= self.k() && q.reserve_mt > 0 && q.reserve_native > 0,
            TreasuryError::PoolInvariant
        );
        Ok(q)
    }
}

/// The reserves `open_market` seeds a model's pool with, (MT, native) base
/// units: the amounts recorded at launch and finalisation (the MT liquidity
/// allocation and the native share of the raise), never vault balances,
/// which anyone can top up.
pub fn market_seed(supply: &super::SupplySplit, crowdfund: &super::Crowdfund) -> (u64, u64) {
    (supply.liquidity, crowdfund.liquidity_native)
}

/// What paying `amount_in` into the `reserve_in` side of a constant-product
/// pool takes out of its `reserve_out` side, rounded down (less than
/// `reserve_out` whenever `reserve_in > 0`).
pub fn out_given_in(reserve_in: u64, reserve_out: u64, amount_in: u64) -> Result<u64> {
    let denominator = reserve_in as u128 + amount_in as u128;
    require!(denominator > 0, TreasuryError::MathOverflow);
    let out = reserve_out as u128 * amount_in as u128 / denominator;
    u64::try_from(out).map_err(|_| error!(TreasuryError::MathOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(x: u64, y: u64) -> Market {
        Market { opened_at: 1, reserve_mt: x, reserve_native: y, ..Default::default() }
    }

    #[test]
    fn buy_and_sell_round_for_the_pool() {
        let m = pool(1_000_000, 1_000_000);
        let q = m.quote(SwapSide::Buy, 10_000, 30, 5_000).unwrap();
        assert_eq!(q.fee, 30);
        assert_eq!(q.amount_out, 1_000_000 * 9_970 / 1_009_970);
        assert_eq!((q.protocol_fee, q.model_fee), (15, 15));
        let q = m.quote(SwapSide::Sell, 10_000, 30, 3_333).unwrap();
        let gross = 1_000_000u64 * 10_000 / 1_010_000;
        assert_eq!(q.fee, (gross * 30).div_ceil(10_000));
        assert_eq!(q.amount_out, gross - q.fee);
        assert_eq!(q.protocol_fee, (q.fee * 3_333).div_ceil(10_000));
    }

    #[test]
    fn dust_swaps_that_would_pay_nothing_are_refused() {
        let m = pool(1_000, 1_000_000_000);
        assert!(m.quote(SwapSide::Buy, 1, 30, 0).is_err());
        assert!(m.quote(SwapSide::Sell, 0, 30, 0).is_err());
    }
}
