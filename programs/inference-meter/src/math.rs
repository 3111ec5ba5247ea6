//! Checked integer math. Every rounding names its direction; what a user
//! pays rounds up, what a party receives rounds down.
use anchor_lang::prelude::*;

use crate::errors::MeterError;

/// Basis points in one whole (100 %).
#[constant]
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

/// Prices are per this many tokens.
#[constant]
pub const TOKENS_PER_PRICE: u128 = 1_000;

/// The cost of one model's part of an entry:
/// `ceil(weight_bps × (input × input_per_1k + output × output_per_1k) / (10 000 × 1 000))`.
/// One rounding, up, per model and entry; the user never pays less than the
/// exact price. Fails only when the cost does not fit in a u64.
pub fn share_cost(input_tokens: u64, output_tokens: u64, input_per_1k: u64, output_per_1k: u64, weight_bps: u16) -> Result<u64> {
    let overflow = || error!(MeterError::MathOverflow);
    let raw = (input_tokens as u128)
        .checked_mul(input_per_1k as u128)
        .and_then(|a| a.checked_add((output_tokens as u128).checked_mul(output_per_1k as u128)?))
        .ok_or_else(overflow)?;
    let weighted = raw.checked_mul(weight_bps as u128).ok_or_else(overflow)?;
    let cost = weighted.div_ceil(BPS_DENOMINATOR as u128 * TOKENS_PER_PRICE);
    u64::try_from(cost).map_err(|_| overflow())
}

/// Spreads `charged` (at most the sum of `costs`) over the shares in
/// proportion to their costs: each share but the last gets
/// `floor(cost × charged / total)`, the last gets the remainder, so the parts
/// sum to `charged` exactly. Used when an escrow cannot pay an entry in full.
pub fn distribute(costs: &[u64], charged: u64, parts: &mut [u64]) -> Result<()> {
    let total = costs.iter().try_fold(0u64, |acc, c| acc.checked_add(*c)).ok_or(MeterError::MathOverflow)?;
    require!(charged <= total && parts.len() == costs.len(), MeterError::MathOverflow);
    if charged == total {
        parts.copy_from_slice(costs);
        return Ok(());
    }
    let mut given: u64 = 0;
    let last = costs.len() - 1;
    for (i, cost) in costs.iter().enumerate() {
        parts[i] = if i == last {
            charged.checked_sub(given).ok_or(MeterError::MathOverflow)?
        } else {
            mul_div_floor(*cost, charged, total)?
        };
        given = given.checked_add(parts[i]).ok_or(MeterError::MathOverflow)?;
    }
    Ok(())
}

/// How settled money divides: the protocol fee rounds up, the operator
/// share rounds down, and the model gets the rest, so the three sum to
/// `charged` exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub to_protocol: u64,
    pub to_operator: u64,
    pub to_model: u64,
}

/// Splits `charged` (one model's total in a batch). Requires
/// `fee_bps + operator_bps ≤ 10 000`, which the meter's config guarantees.
pub fn split(charged: u64, fee_bps: u16, operator_bps: u16) -> Result<Split> {
    let to_protocol = mul_div_ceil(charged, fee_bps as u64, BPS_DENOMINATOR)?;
    let to_operator = mul_div_floor(charged, operator_bps as u64, BPS_DENOMINATOR)?;
    let to_model = charged
        .checked_sub(to_protocol)
        .and_then(|r| r.checked_sub(to_operator))
        .ok_or(MeterError::MathOverflow)?;
    Ok(Split { to_protocol, to_operator, to_model })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_cost_rounds_up_once() {
        // 1 500 input tokens at 2 per 1k = 3; 1 output token at 1 per 1k = 0.001 → 4.
        assert_eq!(share_cost(1_500, 1, 2, 1, 10_000).unwrap(), 4);
        assert_eq!(share_cost(1_000, 0, 7, 0, 10_000).unwrap(), 7);
        // Half the weight of 7 = 3.5 → 4.
        assert_eq!(share_cost(1_000, 0, 7, 0, 5_000).unwrap(), 4);
        assert_eq!(share_cost(0, 0, 7, 9, 10_000).unwrap(), 0);
        assert!(share_cost(u64::MAX, u64::MAX, u64::MAX, u64::MAX, 10_000).is_err());
    }

    #[test]
    fn distribute_sums_exactly() {
        let mut parts = [0u64; 3];
        distribute(&[10, 20, 30], 59, &mut parts).unwrap();
        assert_eq!(parts, [9, 19, 31]);
        distribute(&[10, 20, 30], 60, &mut parts).unwrap();
        assert_eq!(parts, [10, 20, 30]);
        distribute(&[10, 20, 30], 0, &mut parts).unwrap();
        assert_eq!(parts, [0, 0, 0]);
        assert!(distribute(&[10], 11, &mut parts[..1]).is_err());
    }

    #[test]
    fn split_favours_the_protocol_and_sums_exactly() {
        assert_eq!(split(101, 100, 2_000).unwrap(), Split { to_protocol: 2, to_operator: 20, to_model: 79 });
        assert_eq!(split(1, 1, 9_999).unwrap(), Split { to_protocol: 1, to_operator: 0, to_model: 0 });
        let s = split(u64::MAX, 5_000, 5_000).unwrap();
        assert_eq!(s.to_protocol + s.to_operator + s.to_model, u64::MAX);
    }
}
