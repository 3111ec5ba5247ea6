use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::Swapped;
use crate::state::*;
use crate::vault::{pay_from_model, pay_from_signer};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct SwapArgs {
    pub side: SwapSide,
    /// What the trader pays: native base units for a buy, MT base units for a sell.
    pub amount_in: u64,
    /// Fewest base units to receive (MT for a buy, native for a sell); the
    /// swap fails with `SlippageExceeded` below it.
    pub min_out: u64,
}

/// Trades against the model's constant-product pool (see `state::market`).
/// Buy: the trader pays `amount_in` native tokens; the fee (rounded up)
/// comes off them before they reach the pool. Sell: the trader pays
/// `amount_in` MT; the fee comes off what the pool pays out. The fee's
/// protocol part goes to the fee vault; the rest is the model's revenue,
/// split between depositors (revenue vault, accumulator) and the treasury
/// exactly like `deposit_revenue`.
#[event_cpi]
#[derive(Accounts)]
pub struct Swap<'info> {
    pub trader: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump, has_one = fee_vault)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(
        mut,
        seeds = [seeds::MODEL, &model.id.to_le_bytes()],
        bump = model.bump,
        has_one = mt_mint @ TreasuryError::WrongMtMint,
    )]
    pub model: Box<Account<'info, Model>>,

    /// The trader's native-token account: pays for a buy, receives a sale.
    #[account(mut, token::mint = native_mint, token::authority = trader, token::token_program = native_token_program)]
    pub trader_native: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The trader's MT account: receives a buy, pays for a sale.
    #[account(mut, token::mint = mt_mint, token::authority = trader, token::token_program = mt_token_program)]
    pub trader_mt: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, seeds = [seeds::LIQUIDITY_VAULT, model.key().as_ref()], bump = model.vault_bumps.liquidity)]
    pub liquidity_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::LIQUIDITY_NATIVE_VAULT, model.key().as_ref()], bump = model.vault_bumps.liquidity_native)]
    pub liquidity_native_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::REVENUE_VAULT, model.key().as_ref()], bump = model.vault_bumps.revenue)]
    pub revenue_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::TREASURY_VAULT, model.key().as_ref()], bump = model.vault_bumps.treasury)]
    pub treasury_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub mt_token_program: Program<'info, Token2022>,
}

impl Swap<'_> {
    fn quote(&self, args: &SwapArgs) -> Result<SwapQuote> {
        let p = &self.protocol;
        self.model.market.quote(args.side, args.amount_in, p.swap_fee_bps, p.swap_protocol_share_bps)
    }

    fn validate(&self, args: &SwapArgs) -> Result<()> {
        require!(!self.protocol.paused, TreasuryError::ProtocolPaused);
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        require!(self.model.market.is_open(), TreasuryError::MarketNotOpen);
        require!(self.quote(args)?.amount_out >= args.min_out, TreasuryError::SlippageExceeded);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn swap(ctx: Context<Self>, args: SwapArgs) -> Result<()> {
        let q = ctx.accounts.quote(&args)?;
        let split = ctx.accounts.model.revenue.credit(q.model_fee)?;
        {
            let m = &mut ctx.accounts.model.market;
            m.reserve_mt = q.reserve_mt;
            m.reserve_native = q.reserve_native;
            m.swaps = m.swaps.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
            m.fees_to_model = m.fees_to_model.checked_add(q.model_fee).ok_or(TreasuryError::MathOverflow)?;
            m.fees_to_protocol = m.fees_to_protocol.checked_add(q.protocol_fee).ok_or(TreasuryError::MathOverflow)?;
        }

        let a = &ctx.accounts;
        let native_program = a.native_token_program.to_account_info();
        let mt_program = a.mt_token_program.to_account_info();
        let (native_mint, decimals) = (a.native_mint.to_account_info(), a.native_mint.decimals);
        let mt_mint = a.mt_mint.to_account_info();
        let fees = [
            (a.fee_vault.to_account_info(), q.protocol_fee),
            (a.revenue_vault.to_account_info(), split.to_depositors),
            (a.treasury_vault.to_account_info(), split.to_treasury),
        ];
        match args.side {
            SwapSide::Buy => {
                let (trader, source) = (a.trader.to_account_info(), a.trader_native.to_account_info());
                let into_pool = q.amount_in - q.fee;
                pay_from_signer(&native_program, trader.clone(), source.clone(), native_mint.clone(), a.liquidity_native_vault.to_account_info(), into_pool, decimals)?;
                for (to, amount) in fees {
                    pay_from_signer(&native_program, trader.clone(), source.clone(), native_mint.clone(), to, amount, decimals)?;
                }
                pay_from_model(&mt_program, &a.model, a.liquidity_vault.to_account_info(), mt_mint, a.trader_mt.to_account_info(), q.amount_out, MT_DECIMALS)?;
            }
            SwapSide::Sell => {
                pay_from_signer(&mt_program, a.trader.to_account_info(), a.trader_mt.to_account_info(), mt_mint, a.liquidity_vault.to_account_info(), q.amount_in, MT_DECIMALS)?;
                let pool = a.liquidity_native_vault.to_account_info();
                pay_from_model(&native_program, &a.model, pool.clone(), native_mint.clone(), a.trader_native.to_account_info(), q.amount_out, decimals)?;
                for (to, amount) in fees {
                    pay_from_model(&native_program, &a.model, pool.clone(), native_mint.clone(), to, amount, decimals)?;
                }
            }
        }
        emit_cpi!(Swapped {
            model: a.model.key(),
            trader: a.trader.key(),
            side: args.side,
            amount_in: q.amount_in,
            amount_out: q.amount_out,
            fee: q.fee,
            protocol_fee: q.protocol_fee,
            to_depositors: split.to_depositors,
            to_treasury: split.to_treasury,
            reserve_mt: q.reserve_mt,
            reserve_native: q.reserve_native,
        });
        Ok(())
    }
}
