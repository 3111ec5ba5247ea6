//! Every way an instruction can refuse, worded for the person who sees it in the CLI.
use anchor_lang::prelude::*;

#[error_code]
pub enum MeterError {
    #[msg("A basis-point value is above 10000 (100%), or the settlement fee and operator share together exceed 100%.")]
    InvalidBps,
    #[msg("A time period is shorter than the protocol's minimum or not positive.")]
    PeriodTooShort,
    #[msg("Arithmetic overflow.")]
    MathOverflow,
}
