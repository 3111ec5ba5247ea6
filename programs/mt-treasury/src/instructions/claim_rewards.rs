use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::RewardsClaimed;
use crate::state::*;
use crate::vault::pay_from_model;

/// Pays the owner every reward their voter record has earned (settled at a
/// checkpoint, which this performs first) from the model's revenue vault to
/// any native-token account.
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimRewards<'info> {
    pub owner: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,
    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(mut, seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::VOTER, model.key().as_ref(), owner.key().as_ref()],
        bump = voter.bump,
        has_one = model,
        has_one = owner,
    )]
    pub voter: Box<Account<'info, Voter>>,

    #[account(mut, seeds = [seeds::REVENUE_VAULT, model.key().as_ref()], bump = model.vault_bumps.revenue)]
    pub revenue_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Any native-token account; the owner chooses where the rewards go.
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
}

impl ClaimRewards<'_> {
    fn validate(&self) -> Result<()> {
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        let owed = self.voter.rewards_owed.checked_add(self.model.revenue.pending(&self.voter)?);
        require!(owed.is_some_and(|v| v > 0), TreasuryError::NothingToClaim);
        Ok(())
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_rewards(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let amount = {
            let a = &mut *ctx.accounts;
            a.model.revenue.take_rewards(&mut a.voter, now)?
        };
        let a = &ctx.accounts;
        pay_from_model(
            &a.native_token_program.to_account_info(),
            &a.model,
            a.revenue_vault.to_account_info(),
            a.native_mint.to_account_info(),
            a.destination.to_account_info(),
            amount,
            a.native_mint.decimals,
        )?;
        emit_cpi!(RewardsClaimed {
            model: a.model.key(),
            owner: a.owner.key(),
            voter: a.voter.key(),
            destination: a.destination.key(),
            amount,
            claimed_total: a.voter.rewards_claimed,
        });
        Ok(())
    }
}
