//! Checked integer math. Every rounding names its direction; the protocol
//! rounds in its own favour (what a caller receives rounds down, what a
//! caller pays rounds up).
use anchor_lang::prelude::*;

use crate::errors::TreasuryError;

/// Basis points in one whole (100 %).
#[constant]
pub const BPS_DENOMINATOR: u64 = 10_000;

/// `value * numerator / denominator`, rounded down, with a u128 intermediate.
pub fn mul_div_floor(value: u64, numerator: u64, denominator: u64) -> Result<u64> {
    require!(denominator != 0, TreasuryError::MathOverflow);
    let product = (value as u128) * (numerator as u128);
    u64::try_from(product / denominator as u128).map_err(|_| error!(TreasuryError::MathOverflow))
}

/// `value * numerator / denominator`, rounded up, with a u128 intermediate.
pub fn mul_div_ceil(value: u64, numerator: u64, denominator: u64) -> Result<u64> {
    require!(denominator != 0, TreasuryError::MathOverflow);
    let product = (value as u128) * (numerator as u128);
    u64::try_from(product.div_ceil(denominator as u128)).map_err(|_| error!(TreasuryError::MathOverflow))
}

/// The `bps` share of `value`, rounded down.
pub fn bps_floor(value: u64, bps: u16) -> Result<u64> {
    mul_div_floor(value, bps as u64, BPS_DENOMINATOR)
}

/// The `bps` share of `value`, rounded up (a fee the protocol collects).
pub fn bps_ceil(value: u64, bps: u16) -> Result<u64> {
    mul_div_ceil(value, bps as u64, BPS_DENOMINATOR)
}

pub fn check_bps(bps: u16) -> Result<()> {
    require!(bps as u64 <= BPS_DENOMINATOR, TreasuryError::InvalidBps);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_directions() {
        assert_eq!(mul_div_floor(10, 1, 3).unwrap(), 3);
        assert_eq!(mul_div_ceil(10, 1, 3).unwrap(), 4);
        assert_eq!(mul_div_ceil(9, 1, 3).unwrap(), 3);
        assert_eq!(bps_ceil(1, 1).unwrap(), 1);
        assert_eq!(bps_floor(1, 9_999).unwrap(), 0);
    }

    #[test]
    fn products_do_not_overflow_and_results_that_do_are_errors() {
        assert_eq!(mul_div_floor(u64::MAX, u64::MAX, u64::MAX).unwrap(), u64::MAX);
        assert!(mul_div_floor(u64::MAX, 2, 1).is_err());
        assert!(mul_div_floor(1, 1, 0).is_err());
    }
}
