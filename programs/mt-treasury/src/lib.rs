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
        instructions::init_protocol::handler(ctx, args)
    }
}
