//! `mt_treasury`: the three-stage treasury of a community-owned model.
//!
//! Stage 1, launch: a creator mints nothing yet but fixes the Model Token's
//! supply split, crowdfund terms, governance and revenue rules, and pays the
//! set-up fee. Stage 2, crowdfund: contributors buy MT; the raise finalises
//! into an active model with a provably fixed supply, or fails and refunds.
//! Stage 3, mini-DAO: MT holders vote, share query revenue and trade MT.
#![deny(arithmetic_overflow)]
#![deny(unused_must_use)]
#![allow(unexpected_cfgs)]
// Anchor 1.0.2's #[event_cpi] expands to a plain AccountInfo, which its own lint flags.
#![allow(deprecated)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;

pub use instructions::*;

declare_id!("6ehw9YdXPyTwGMH8Ubyq9D2NeZCKoAy5WQMXsWKp1zfB");

#[program]
pub mod mt_treasury {
    use super::*;

    /// Creates the protocol: native token, fees and the fee vault. Once.
    pub fn init_protocol(ctx: Context<InitProtocol>, args: InitProtocolArgs) -> Result<()> {
        InitProtocol::init_protocol(ctx, args)
    }

    /// Pays native tokens into a model's revenue: the depositors' share to the
    /// reward accumulator, the rest to the model treasury.
    pub fn deposit_revenue(ctx: Context<DepositRevenue>, amount: u64) -> Result<()> {
        DepositRevenue::deposit_revenue(ctx, amount)
    }
}
