use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::TreasuryError;
use crate::events::ModelLaunched;
use crate::math::check_bps;
use crate::state::*;

/// The creator allocation's vesting, counted from finalisation.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct VestingTerms {
    pub cliff_secs: i64,
    pub duration_secs: i64,
}

/// The crowdfund's terms. Amounts in native base units.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct CrowdfundTerms {
    /// Native base units per whole MT (10^6 MT base units).
    pub price: u64,
    pub soft_cap: u64,
    pub hard_cap: u64,
    /// Contributions are accepted from `start` (inclusive) to `end` (exclusive), unix seconds.
    pub start: i64,
    pub end: i64,
    pub per_wallet_cap: u64,
    /// Share of the net raise kept for the market's native side.
    pub liquidity_bps: u16,
    /// Merkle root of the allowed wallets (see `allowlist`); None for an open crowdfund.
    pub allowlist_root: Option<[u8; 32]>,
}

/// Per-query price in native base units per 1 000 tokens.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct QueryPrice {
    pub input_per_1k: u64,
    pub output_per_1k: u64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct LaunchModelArgs {
    pub supply: SupplySplit,
    pub vesting: VestingTerms,
    pub crowdfund: CrowdfundTerms,
    pub governance: GovernanceRules,
    /// Share of every revenue deposit paid to MT depositors; the rest goes to the model treasury.
    pub depositor_share_bps: u16,
    pub price: QueryPrice,
}

/// The smallest amount a sold-out raise can have raised at `price` (native
/// base units per whole MT) under `hard_cap`. A raise is sold out when what
/// is left under the hard cap buys no MT base unit: `room × 10^6 < price`.
/// So a sold-out raise has `raised × 10^6 > hard_cap × 10^6 − price`, i.e.
/// at least ⌈(hard_cap × 10^6 − price + 1) / 10^6⌉. (Selling out the sale
/// allocation instead needs the hard cap to buy exactly the allocation —
/// launch lets it buy no more — and that costs more than the same bound.)
pub fn min_sold_out_raise(price: u64, hard_cap: u64) -> Result<u64> {
    let cap = (hard_cap as u128).checked_mul(MT_UNIT as u128).ok_or(TreasuryError::MathOverflow)?;
    let floor = cap.saturating_sub(price as u128).checked_add(1).ok_or(TreasuryError::MathOverflow)?;
    let raise = floor.div_ceil(MT_UNIT as u128);
    u64::try_from(raise.min(hard_cap as u128)).map_err(|_| error!(TreasuryError::MathOverflow))
}

/// Highest per-query price: a billion tokens at it still fits in a u64.
#[constant]
pub const MAX_QUERY_PRICE_PER_1K: u64 = u64::MAX / 1_000_000;

/// Step 1 of 3 of a launch: fixes the model's terms and charges the set-up
/// fee. `create_model_token` and `open_model_vaults` follow; the crowdfund
/// accepts contributions once the vaults are open. (Three transactions
/// because terms, token metadata and eight vaults do not fit one 1 232-byte
/// transaction.)
#[event_cpi]
#[derive(Accounts)]
pub struct LaunchModel<'info> {
    #[account(mut)]
    pub creator: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::PROTOCOL],
        bump = protocol.bump,
        has_one = fee_vault,
    )]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        init,
        payer = creator,
        space = Model::SPACE,
        seeds = [seeds::MODEL, &protocol.model_count.to_le_bytes()],
        bump,
    )]
    pub model: Box<Account<'info, Model>>,

    /// The creator's native-token account the set-up fee is paid from.
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub fee_source: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl LaunchModel<'_> {
    fn validate(&self, args: &LaunchModelArgs) -> Result<()> {
        require!(!self.protocol.paused, TreasuryError::ProtocolPaused);
        validate_terms(args, self.protocol.min_period_secs, self.protocol.protocol_fee_bps, Clock::get()?.unix_timestamp)
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn launch_model(ctx: Context<Self>, args: LaunchModelArgs) -> Result<()> {
        let accounts = &ctx.accounts;
        let setup_fee = accounts.protocol.setup_fee;
        if setup_fee > 0 {
            token_interface::transfer_checked(
                CpiContext::new(
                    accounts.native_token_program.key(),
                    TransferChecked {
                        from: accounts.fee_source.to_account_info(),
                        mint: accounts.native_mint.to_account_info(),
                        to: accounts.fee_vault.to_account_info(),
                        authority: accounts.creator.to_account_info(),
                    },
                ),
                setup_fee,
                accounts.native_mint.decimals,
            )?;
        }

        let protocol = &mut ctx.accounts.protocol;
        let id = protocol.model_count;
        let protocol_fee_bps = protocol.protocol_fee_bps;
        protocol.model_count = id.checked_add(1).ok_or(TreasuryError::MathOverflow)?;

        let terms = args.crowdfund;
        let pricing = QueryPricing {
            input_per_1k: args.price.input_per_1k,
            output_per_1k: args.price.output_per_1k,
            previous_input_per_1k: args.price.input_per_1k,
            previous_output_per_1k: args.price.output_per_1k,
            effective_at: 0,
        };
        let model = &mut ctx.accounts.model;
        model.set_inner(Model {
            id,
            creator: ctx.accounts.creator.key(),
            mt_mint: Pubkey::default(),
            stage: Stage::Launching,
            supply: args.supply,
            vesting: Vesting { start: 0, cliff_secs: args.vesting.cliff_secs, duration_secs: args.vesting.duration_secs, claimed: 0 },
            crowdfund: Crowdfund {
                price: terms.price,
                soft_cap: terms.soft_cap,
                hard_cap: terms.hard_cap,
                start: terms.start,
                end: terms.end,
                per_wallet_cap: terms.per_wallet_cap,
                liquidity_bps: terms.liquidity_bps,
                protocol_fee_bps,
                allowlist_root: terms.allowlist_root.unwrap_or_default(),
                raised: 0,
                sold: 0,
                contributors: 0,
                finalized_at: 0,
                protocol_fee: 0,
                liquidity_native: 0,
            },
            governance: args.governance,
            pricing,
            revenue: RevenueState {
                depositor_share_bps: args.depositor_share_bps,
                acc_per_share: 0,
                total_deposited: 0,
                total_revenue: 0,
                treasury_revenue: 0,
                warming: 0,
                // Deposits warm up for one voting period (see `state::revenue`).
                warmup_secs: args.governance.voting_period_secs,
                depositors_revenue: 0,
                rewards_claimed: 0,
            },
            proposal_count: 0,
            bump: ctx.bumps.model,
            mint_bump: 0,
            vault_bumps: VaultBumps::default(),
            market: Market::default(),
        });

        emit_cpi!(ModelLaunched {
            model: model.key(),
            id,
            creator: model.creator,
            setup_fee_paid: setup_fee,
            supply: args.supply,
            vesting_cliff_secs: args.vesting.cliff_secs,
            vesting_duration_secs: args.vesting.duration_secs,
            price: terms.price,
            soft_cap: terms.soft_cap,
            hard_cap: terms.hard_cap,
            start: terms.start,
            end: terms.end,
            per_wallet_cap: terms.per_wallet_cap,
            liquidity_bps: terms.liquidity_bps,
            protocol_fee_bps: model.crowdfund.protocol_fee_bps,
            allowlist_root: model.crowdfund.allowlist_root,
            governance: args.governance,
            depositor_share_bps: args.depositor_share_bps,
            input_price_per_1k: args.price.input_per_1k,
            output_price_per_1k: args.price.output_per_1k,
        });
        Ok(())
    }
}

/// Every launch parameter, each failure with its own error. Pure, so the
/// CLI's checks and the property tests can call it directly.
/// `protocol_fee_bps` is the protocol's raise fee the model will be
/// launched under.
///
/// The market: the MT liquidity allocation and the raise's liquidity share
/// (`liquidity_bps`) are both non-zero or both zero (`OneSidedLiquidity`),
/// and a raise that just meets the soft cap must put at least one native
/// base unit in the pool (`LiquidityShareTooSmall`), so `open_market` can
/// always seed both sides of a successful raise. The soft cap must be
/// reachable: a raise sells out as soon as what is left under the hard cap
/// buys no MT base unit, so the soft cap may not exceed the smallest raise
/// that can be sold out (`SoftCapUnreachable`, see [`min_sold_out_raise`]).
pub fn validate_terms(args: &LaunchModelArgs, min_period_secs: i64, protocol_fee_bps: u16, now: i64) -> Result<()> {
    let s = &args.supply;
    require!(s.hard_supply > 0, TreasuryError::ZeroSupply);
    require!(s.parts_total() == Some(s.hard_supply), TreasuryError::SupplySplitMismatch);
    require!(s.crowdfund > 0, TreasuryError::ZeroSaleAllocation);

    let v = &args.vesting;
    require!(v.cliff_secs >= 0 && v.duration_secs >= v.cliff_secs, TreasuryError::InvalidVesting);

    let c = &args.crowdfund;
    require!(c.price > 0, TreasuryError::ZeroPrice);
    require!(c.soft_cap > 0, TreasuryError::ZeroSoftCap);
    require!(c.soft_cap <= c.hard_cap, TreasuryError::SoftCapAboveHardCap);
    check_bps(c.liquidity_bps)?;
    require!(c.end > c.start, TreasuryError::EndBeforeStart);
    let window = c.end.checked_sub(c.start).ok_or(TreasuryError::MathOverflow)?;
    require!(window >= min_period_secs, TreasuryError::PeriodTooShort);
    let remaining = c.end.checked_sub(now).ok_or(TreasuryError::MathOverflow)?;
    require!(remaining >= min_period_secs, TreasuryError::EndTooSoon);
    if let Some(root) = c.allowlist_root {
        require!(root != [0; 32], TreasuryError::ZeroAllowlistRoot);
    }
    let terms = Crowdfund {
        price: c.price,
        soft_cap: c.soft_cap,
        hard_cap: c.hard_cap,
        start: c.start,
        end: c.end,
        per_wallet_cap: c.per_wallet_cap,
        liquidity_bps: c.liquidity_bps,
        protocol_fee_bps: 0,
        allowlist_root: [0; 32],
        raised: 0,
        sold: 0,
        contributors: 0,
        finalized_at: 0,
        protocol_fee: 0,
        liquidity_native: 0,
    };
    let hard_cap_mt = terms.mt_for(c.hard_cap)?;
    require!(hard_cap_mt > 0, TreasuryError::HardCapTooSmall);
    require!(hard_cap_mt <= s.crowdfund, TreasuryError::HardCapExceedsSale);
    require!(terms.mt_for(c.per_wallet_cap)? > 0, TreasuryError::WalletCapTooSmall);
    require!(c.soft_cap <= min_sold_out_raise(c.price, c.hard_cap)?, TreasuryError::SoftCapUnreachable);

    require!((s.liquidity > 0) == (c.liquidity_bps > 0), TreasuryError::OneSidedLiquidity);
    if c.liquidity_bps > 0 {
        let at_soft_cap = Crowdfund { raised: c.soft_cap, protocol_fee_bps, ..terms }.proceeds()?;
        require!(at_soft_cap.liquidity > 0, TreasuryError::LiquidityShareTooSmall);
    }

    let g = &args.governance;
    check_bps(g.quorum_bps)?;
    check_bps(g.threshold_bps)?;
    require!(g.quorum_bps > 0 && g.threshold_bps > 0, TreasuryError::ZeroGovernanceBps);
    require!(g.voting_period_secs >= min_period_secs, TreasuryError::PeriodTooShort);
    require!(g.hold_up_secs >= min_period_secs, TreasuryError::PeriodTooShort);
    require!(g.min_propose_mt <= s.hard_supply, TreasuryError::ProposeThresholdAboveSupply);

    check_bps(args.depositor_share_bps)?;
    for price in [args.price.input_per_1k, args.price.output_per_1k] {
        require!(price > 0, TreasuryError::ZeroPrice);
        require!(price <= MAX_QUERY_PRICE_PER_1K, TreasuryError::PriceTooHigh);
    }
    Ok(())
}
