//! Every way an instruction can refuse, worded for the person who sees it in the CLI.
use anchor_lang::prelude::*;

#[error_code]
pub enum TreasuryError {
    #[msg("A basis-point value is above 10000 (100%).")]
    InvalidBps,
    #[msg("A time period is shorter than the protocol's minimum or not positive.")]
    PeriodTooShort,
    #[msg("The native token mint has a Token-2022 extension that could change amounts in transit (transfer fee, hook, …); use a plain mint.")]
    UnsupportedMintExtension,
    #[msg("Arithmetic overflow.")]
    MathOverflow,
    #[msg("The amount must be greater than zero.")]
    ZeroAmount,
    #[msg("The model is not active: its raise has not succeeded.")]
    ModelNotActive,
}
