//! `inference_meter`: purpose-bound money for paid inference.
//!
//! API users pre-pay into escrows addressed by the hash of their API key;
//! node operators stake and register keeper keys; keepers settle metered
//! runs in numbered batches, exactly once, moving money from escrows to the
//! models' revenue, the node operator and the protocol.
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

declare_id!("99RGuGouvAUBULLukevZ1Y6AJn9SDwhZBsXgn5QfpUwX");

#[program]
pub mod inference_meter {
    use super::*;

    /// Creates the meter's configuration and vaults, linked to the protocol. Once, by the protocol admin.
    pub fn init_meter(ctx: Context<InitMeter>, args: InitMeterArgs) -> Result<()> {
        InitMeter::init_meter(ctx, args)
    }
}
