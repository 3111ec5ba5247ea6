use anchor_lang::prelude::*;
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::ModelVaultsOpened;
use crate::state::*;

/// Step 3 of 3 of a launch: creates the model's eight token accounts, all
/// owned by the model PDA, and opens the crowdfund (stage `Funding`).
/// Native token: raise (contributions until finalisation), treasury
/// (governance-controlled), revenue (owed to MT depositors), liquidity-native
/// (the market's native side). MT: sale (bought MT awaiting `claim_mt`),
/// creator (vesting), liquidity (the market's MT side), rewards (the
/// contributor-rewards pool).
#[event_cpi]
#[derive(Accounts)]
pub struct OpenModelVaults<'info> {
    #[account(mut)]
    pub creator: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(
        mut,
        seeds = [seeds::MODEL, &model.id.to_le_bytes()],
        bump = model.bump,
        has_one = creator @ TreasuryError::NotCreator,
        has_one = mt_mint @ TreasuryError::WrongMtMint,
    )]
    pub model: Box<Account<'info, Model>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(init, payer = creator, seeds = [seeds::RAISE_VAULT, model.key().as_ref()], bump,
        token::mint = native_mint, token::authority = model, token::token_program = native_token_program)]
    pub raise_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = creator, seeds = [seeds::TREASURY_VAULT, model.key().as_ref()], bump,
        token::mint = native_mint, token::authority = model, token::token_program = native_token_program)]
    pub treasury_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = creator, seeds = [seeds::REVENUE_VAULT, model.key().as_ref()], bump,
        token::mint = native_mint, token::authority = model, token::token_program = native_token_program)]
    pub revenue_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = creator, seeds = [seeds::LIQUIDITY_NATIVE_VAULT, model.key().as_ref()], bump,
        token::mint = native_mint, token::authority = model, token::token_program = native_token_program)]
    pub liquidity_native_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(init, payer = creator, seeds = [seeds::SALE_VAULT, model.key().as_ref()], bump,
        token::mint = mt_mint, token::authority = model, token::token_program = mt_token_program)]
    pub sale_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = creator, seeds = [seeds::CREATOR_VAULT, model.key().as_ref()], bump,
        token::mint = mt_mint, token::authority = model, token::token_program = mt_token_program)]
    pub creator_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = creator, seeds = [seeds::LIQUIDITY_VAULT, model.key().as_ref()], bump,
        token::mint = mt_mint, token::authority = model, token::token_program = mt_token_program)]
    pub liquidity_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = creator, seeds = [seeds::REWARDS_VAULT, model.key().as_ref()], bump,
        token::mint = mt_mint, token::authority = model, token::token_program = mt_token_program)]
    pub rewards_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub mt_token_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
}

impl OpenModelVaults<'_> {
    fn validate(&self) -> Result<()> {
        require!(!self.protocol.paused, TreasuryError::ProtocolPaused);
        require!(self.model.stage == Stage::Launching, TreasuryError::NotLaunching);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn open_model_vaults(ctx: Context<Self>) -> Result<()> {
        let b = &ctx.bumps;
        let bumps = VaultBumps {
            raise: b.raise_vault,
            treasury: b.treasury_vault,
            revenue: b.revenue_vault,
            liquidity_native: b.liquidity_native_vault,
            sale: b.sale_vault,
            creator: b.creator_vault,
            liquidity: b.liquidity_vault,
            rewards: b.rewards_vault,
            deposit: 0,
        };
        let raise_vault = ctx.accounts.raise_vault.key();
        let model = &mut ctx.accounts.model;
        model.vault_bumps = bumps;
        model.stage = Stage::Funding;
        emit_cpi!(ModelVaultsOpened {
            model: model.key(),
            raise_vault,
            start: model.crowdfund.start,
            end: model.crowdfund.end,
        });
        Ok(())
    }
}
