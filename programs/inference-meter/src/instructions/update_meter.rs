use anchor_lang::prelude::*;
use mt_treasury::state::{seeds as treasury_seeds, Protocol};

use crate::events::MeterUpdated;
use crate::instructions::init_meter::{check_params, InitMeterArgs};
use crate::state::{seeds, MeterConfig};

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateMeter<'info> {
    pub admin: Signer<'info>,

    #[account(
        seeds = [treasury_seeds::PROTOCOL],
        bump = protocol.bump,
        seeds::program = mt_treasury::ID,
        has_one = admin,
    )]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(mut, seeds = [seeds::METER], bump = meter.bump, has_one = protocol)]
    pub meter: Box<Account<'info, MeterConfig>>,
}

impl UpdateMeter<'_> {
    fn validate(&self, args: &InitMeterArgs) -> Result<()> {
        check_params(args, self.protocol.min_period_secs)
    }
}

impl UpdateMeter<'_> {
    /// Takes the same parameters as `init_meter` and replaces them all.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_meter(ctx: Context<Self>, args: InitMeterArgs) -> Result<()> {
        let meter = &mut ctx.accounts.meter;
        meter.settlement_fee_bps = args.settlement_fee_bps;
        meter.operator_share_bps = args.operator_share_bps;
        meter.min_node_stake = args.min_node_stake;
        meter.unbonding_secs = args.unbonding_secs;
        meter.withdrawal_notice_secs = args.withdrawal_notice_secs;
        emit_cpi!(MeterUpdated {
            admin: ctx.accounts.admin.key(),
            settlement_fee_bps: args.settlement_fee_bps,
            operator_share_bps: args.operator_share_bps,
            min_node_stake: args.min_node_stake,
            unbonding_secs: args.unbonding_secs,
            withdrawal_notice_secs: args.withdrawal_notice_secs,
        });
        Ok(())
    }
}
