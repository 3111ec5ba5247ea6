//! Checked integer math. Every rounding names its direction; what a user
//! pays rounds up, what a party receives rounds down.
use anchor_lang::prelude::*;

use crate::errors::MeterError;

pub const BPS_DENOMINATOR: u64 = 10_000;

pub fn check_bps(bps: u16) -> Result<()> {
    require!(bps as u64 <= BPS_DENOMINATOR, MeterError::InvalidBps);
    Ok(())
}

/// `value * numerator / denominator`, rounded down, with a u128 intermediate.
pub fn mul_div_floor(value: u64, numerator: u64, denominator: u64) -> Result<u64> {
    require!(denominator != 0, MeterError::MathOverflow);
    let product = (value as u128) * (numerator as u128);
    u64::try_from(product / denominator as u128).map_err(|_| error!(MeterError::MathOverflow))
}

/// `value * numerator / denominator`, rounded up, with a u128 intermediate.
pub fn mul_div_ceil(value: u64, numerator: u64, denominator: u64) -> Result<u64> {
    require!(denominator != 0, MeterError::MathOverflow);
    let product = (value as u128) * (numerator as u128);
    u64::try_from(product.div_ceil(denominator as u128)).map_err(|_| error!(MeterError::MathOverflow))
}
