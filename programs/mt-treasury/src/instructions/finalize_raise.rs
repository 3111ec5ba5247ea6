use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{
    self, spl_token_2022::instruction::AuthorityType, Mint, MintTo, SetAuthority, TokenAccount, TokenInterface,
    TransferChecked,
};

use crate::errors::TreasuryError;
use crate::events::RaiseFinalized;
use crate::state::*;

/// Closes a raise once it is due (window ended, or nothing left to buy).
/// Anyone may call it, once. Soft cap met: the protocol fee goes to the fee
/// vault, `liquidity_bps` of the rest to the liquidity-native vault, the
/// remainder to the model treasury; the whole hard supply is minted into the
/// sale, creator, liquidity and rewards vaults; the model becomes `Active`.
/// Soft cap missed: the model becomes `Failed` and the raise vault stays as
/// it is for refunds. Either way the mint authority is removed, so the MT
/// supply can never change again.
#[event_cpi]
#[derive(Accounts)]
pub struct FinalizeRaise<'info> {
    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump, has_one = fee_vault)]
    pub protocol: Box<Account<'info, Protocol>>,
    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(mut, seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,
    #[account(mut, address = model.mt_mint @ TreasuryError::WrongMtMint)]
    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(mut, seeds = [seeds::RAISE_VAULT, model.key().as_ref()], bump = model.vault_bumps.raise)]
    pub raise_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::TREASURY_VAULT, model.key().as_ref()], bump = model.vault_bumps.treasury)]
    pub treasury_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::LIQUIDITY_NATIVE_VAULT, model.key().as_ref()], bump = model.vault_bumps.liquidity_native)]
    pub liquidity_native_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(mut, seeds = [seeds::SALE_VAULT, model.key().as_ref()], bump = model.vault_bumps.sale)]
    pub sale_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::CREATOR_VAULT, model.key().as_ref()], bump = model.vault_bumps.creator)]
    pub creator_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::LIQUIDITY_VAULT, model.key().as_ref()], bump = model.vault_bumps.liquidity)]
    pub liquidity_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [seeds::REWARDS_VAULT, model.key().as_ref()], bump = model.vault_bumps.rewards)]
    pub rewards_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub mt_token_program: Program<'info, Token2022>,
}

impl<'info> FinalizeRaise<'info> {
    fn validate(&self) -> Result<()> {
        let model = &self.model;
        require!(model.stage == Stage::Funding, TreasuryError::NotFunding);
        let now = Clock::get()?.unix_timestamp;
        require!(model.crowdfund.can_finalize(now, model.supply.crowdfund)?, TreasuryError::RaiseNotOver);
        Ok(())
    }

    fn pay_out(&self, to: AccountInfo<'info>, amount: u64, signer: &[&[&[u8]]]) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                self.native_token_program.key(),
                TransferChecked {
                    from: self.raise_vault.to_account_info(),
                    mint: self.native_mint.to_account_info(),
                    to,
                    authority: self.model.to_account_info(),
                },
                signer,
            ),
            amount,
            self.native_mint.decimals,
        )
    }

    /// Mints `amount` MT into `to`, refusing to pass the hard supply.
    /// `minted` is the supply so far and is advanced.
    fn mint_capped(&self, to: AccountInfo<'info>, amount: u64, minted: &mut u64, signer: &[&[&[u8]]]) -> Result<()> {
        let after = minted.checked_add(amount).ok_or(TreasuryError::MathOverflow)?;
        require!(after <= self.model.supply.hard_supply, TreasuryError::SupplyCapExceeded);
        if amount > 0 {
            token_interface::mint_to(
                CpiContext::new_with_signer(
                    self.mt_token_program.key(),
                    MintTo { mint: self.mt_mint.to_account_info(), to, authority: self.model.to_account_info() },
                    signer,
                ),
                amount,
            )?;
        }
        *minted = after;
        Ok(())
    }

    fn remove_mint_authority(&self, signer: &[&[&[u8]]]) -> Result<()> {
        token_interface::set_authority(
            CpiContext::new_with_signer(
                self.mt_token_program.key(),
                SetAuthority { current_authority: self.model.to_account_info(), account_or_mint: self.mt_mint.to_account_info() },
                signer,
            ),
            AuthorityType::MintTokens,
            None,
        )
    }

    #[access_control(ctx.accounts.validate())]
    pub fn finalize_raise(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = &ctx.accounts;
        let model = &accounts.model;
        let id = model.id.to_le_bytes();
        let bump = [model.bump];
        let signer: &[&[&[u8]]] = &[&[seeds::MODEL, &id, &bump]];
        let cf = model.crowdfund;
        let succeeded = cf.succeeded();

        let mut proceeds = Proceeds { protocol_fee: 0, liquidity: 0, treasury: 0 };
        let mut allocation = MtAllocation { sale: 0, creator: 0, liquidity: 0, rewards: 0 };
        let mut minted = accounts.mt_mint.supply;
        if succeeded {
            proceeds = cf.proceeds()?;
            accounts.pay_out(accounts.fee_vault.to_account_info(), proceeds.protocol_fee, signer)?;
            accounts.pay_out(accounts.liquidity_native_vault.to_account_info(), proceeds.liquidity, signer)?;
            accounts.pay_out(accounts.treasury_vault.to_account_info(), proceeds.treasury, signer)?;

            allocation = model.supply.allocation(cf.sold)?;
            accounts.mint_capped(accounts.sale_vault.to_account_info(), allocation.sale, &mut minted, signer)?;
            accounts.mint_capped(accounts.creator_vault.to_account_info(), allocation.creator, &mut minted, signer)?;
            accounts.mint_capped(accounts.liquidity_vault.to_account_info(), allocation.liquidity, &mut minted, signer)?;
            accounts.mint_capped(accounts.rewards_vault.to_account_info(), allocation.rewards, &mut minted, signer)?;
        }
        accounts.remove_mint_authority(signer)?;

        let model = &mut ctx.accounts.model;
        model.stage = if succeeded { Stage::Active } else { Stage::Failed };
        model.crowdfund.finalized_at = now;
        model.crowdfund.protocol_fee = proceeds.protocol_fee;
        model.crowdfund.liquidity_native = proceeds.liquidity;
        if succeeded {
            model.vesting.start = now;
        }
        emit_cpi!(RaiseFinalized {
            model: model.key(),
            stage: model.stage,
            raised: cf.raised,
            sold: cf.sold,
            soft_cap: cf.soft_cap,
            hard_cap: cf.hard_cap,
            contributors: cf.contributors,
            protocol_fee: proceeds.protocol_fee,
            to_treasury: proceeds.treasury,
            to_liquidity: proceeds.liquidity,
            mt_sale: allocation.sale,
            mt_creator: allocation.creator,
            mt_liquidity: allocation.liquidity,
            mt_rewards: allocation.rewards,
            mt_supply: minted,
            finalized_at: now,
        });
        Ok(())
    }
}
