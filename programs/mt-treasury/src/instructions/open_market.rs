use anchor_lang::prelude::*;

use crate::errors::TreasuryError;
use crate::events::MarketOpened;
use crate::state::*;

/// Opens the model's market, by anyone, once its raise has succeeded. The
/// constant-product pool's reserves are the amounts the program recorded,
/// never the vaults' balances (anyone can send tokens to a vault): the MT
/// liquidity allocation minted into the liquidity vault (`supply.liquidity`)
/// and the share of the raise moved to the liquidity-native vault at
/// finalisation (`crowdfund.liquidity_native`). Tokens sent to those vaults
/// directly are never reserves. Both sides must be non-zero (launch refuses
/// one-sided liquidity). The pool is the program's: there are no LP tokens
/// and no way to withdraw, so the liquidity is locked forever.
#[event_cpi]
#[derive(Accounts)]
pub struct OpenMarket<'info> {
    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(mut, seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,
}

impl OpenMarket<'_> {
    /// The reserves the pool starts with: (MT, native) base units.
    fn seed(&self) -> (u64, u64) {
        market_seed(&self.model.supply, &self.model.crowdfund)
    }

    fn validate(&self) -> Result<()> {
        require!(!self.protocol.paused, TreasuryError::ProtocolPaused);
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        require!(!self.model.market.is_open(), TreasuryError::MarketAlreadyOpen);
        let (mt, native) = self.seed();
        require!(mt > 0 && native > 0, TreasuryError::NoLiquidity);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn open_market(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let (reserve_mt, reserve_native) = ctx.accounts.seed();
        let model = &mut ctx.accounts.model;
        model.market = Market { opened_at: now, reserve_mt, reserve_native, ..Market::default() };
        emit_cpi!(MarketOpened { model: model.key(), reserve_mt, reserve_native });
        Ok(())
    }
}
