use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::TreasuryError;
use crate::events::MarketOpened;
use crate::state::*;

/// Opens the model's market, by anyone, once its raise has succeeded: the
/// constant-product pool starts with everything in the liquidity vault (the
/// MT liquidity allocation) and the liquidity-native vault (the share of the
/// raise earmarked at finalisation, `crowdfund.liquidity_native`). The pool
/// is the program's: there are no LP tokens and no way to withdraw, so the
/// liquidity is locked forever.
#[event_cpi]
#[derive(Accounts)]
pub struct OpenMarket<'info> {
    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(mut, seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(seeds = [seeds::LIQUIDITY_VAULT, model.key().as_ref()], bump = model.vault_bumps.liquidity)]
    pub liquidity_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(seeds = [seeds::LIQUIDITY_NATIVE_VAULT, model.key().as_ref()], bump = model.vault_bumps.liquidity_native)]
    pub liquidity_native_vault: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl OpenMarket<'_> {
    fn validate(&self) -> Result<()> {
        require!(!self.protocol.paused, TreasuryError::ProtocolPaused);
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        require!(!self.model.market.is_open(), TreasuryError::MarketAlreadyOpen);
        require!(self.liquidity_vault.amount > 0 && self.liquidity_native_vault.amount > 0, TreasuryError::NoLiquidity);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn open_market(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let (reserve_mt, reserve_native) = (ctx.accounts.liquidity_vault.amount, ctx.accounts.liquidity_native_vault.amount);
        let model = &mut ctx.accounts.model;
        model.market = Market { opened_at: now, reserve_mt, reserve_native, ..Market::default() };
        emit_cpi!(MarketOpened { model: model.key(), reserve_mt, reserve_native });
        Ok(())
    }
}
