use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::MeterError;
use crate::events::NodeRegistered;
use crate::state::{seeds, MeterConfig, Node, NodeCounters, NodeStatus, MAX_ENDPOINT_LEN};
use crate::vault::pay_in;

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct RegisterNodeArgs {
    /// The keeper daemon's hot key; it can only settle.
    pub keeper: Pubkey,
    pub endpoint: String,
    /// Native base units to stake; at least the meter's minimum.
    pub stake: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RegisterNode<'info> {
    /// Owns the node and its stake; pays the node account's rent.
    #[account(mut)]
    pub operator: Signer<'info>,

    #[account(seeds = [seeds::METER], bump = meter.bump, has_one = stake_vault, has_one = native_mint)]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(
        init,
        payer = operator,
        space = 8 + Node::INIT_SPACE,
        seeds = [seeds::NODE, operator.key().as_ref()],
        bump,
    )]
    pub node: Box<Account<'info, Node>>,

    #[account(mut)]
    pub stake_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        token::mint = native_mint,
        token::authority = operator,
        token::token_program = token_program,
    )]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = meter.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

/// An endpoint is 1..=128 bytes of printable ASCII.
pub fn check_endpoint(endpoint: &str) -> Result<()> {
    require!(
        !endpoint.is_empty() && endpoint.len() <= MAX_ENDPOINT_LEN as usize && endpoint.bytes().all(|b| (0x21..0x7f).contains(&b)),
        MeterError::InvalidEndpoint
    );
    Ok(())
}

impl RegisterNode<'_> {
    fn validate(&self, args: &RegisterNodeArgs) -> Result<()> {
        require!(args.stake >= self.meter.min_node_stake && args.stake > 0, MeterError::InsufficientStake);
        require!(args.keeper != Pubkey::default(), MeterError::InvalidKeeperKey);
        check_endpoint(&args.endpoint)
    }
}

impl RegisterNode<'_> {
    /// Registers the operator's node with its stake, keeper key and endpoint; it is active at once.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn register_node(ctx: Context<Self>, args: RegisterNodeArgs) -> Result<()> {
        let a = &ctx.accounts;
        pay_in(&a.token_program, &a.native_mint, a.source.to_account_info(), a.operator.to_account_info(), a.stake_vault.to_account_info(), args.stake)?;
        let operator = ctx.accounts.operator.key();
        ctx.accounts.node.set_inner(Node {
            operator,
            keeper: args.keeper,
            status: NodeStatus::Active,
            stake: args.stake,
            unbonding_started_at: 0,
            endpoint: args.endpoint.clone(),
            last_batch_seq: 0,
            last_run_seq: 0,
            registered_at: Clock::get()?.unix_timestamp,
            last_settled_at: 0,
            last_slash_reason: 0,
            counters: NodeCounters::default(),
            bump: ctx.bumps.node,
        });
        emit_cpi!(NodeRegistered {
            node: ctx.accounts.node.key(),
            operator,
            keeper: args.keeper,
            stake: args.stake,
            endpoint: args.endpoint,
        });
        Ok(())
    }
}
