use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::TreasuryError;
use crate::events::ProtocolFeesWithdrawn;
use crate::state::{seeds, Protocol};

/// Pays `amount` native base units out of the protocol fee vault to any
/// native-token account the admin names. Admin only. The fee vault collects
/// set-up fees, raise fees, the protocol's part of swap fees, settlement
/// fees and slashed stake; its authority is the protocol PDA, and this is
/// the only instruction that signs for it.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawProtocolFees<'info> {
    pub admin: Signer<'info>,

    #[account(
        seeds = [seeds::PROTOCOL],
        bump = protocol.bump,
        has_one = admin @ TreasuryError::NotAdmin,
        has_one = fee_vault,
        has_one = native_mint @ TreasuryError::WrongNativeMint,
    )]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(
        mut,
        seeds = [seeds::FEE_VAULT],
        bump = protocol.fee_vault_bump,
        token::mint = native_mint,
        token::token_program = native_token_program,
    )]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Where the fees go: any account of the native token but the fee vault
    /// (Anchor refuses the same mutable account twice).
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub destination: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
}

impl WithdrawProtocolFees<'_> {
    fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, TreasuryError::ZeroAmount);
        require!(amount <= self.fee_vault.amount, TreasuryError::InsufficientProtocolFees);
        Ok(())
    }

    #[access_control(ctx.accounts.validate(amount))]
    pub fn withdraw_protocol_fees(ctx: Context<Self>, amount: u64) -> Result<()> {
        let a = &ctx.accounts;
        let bump = [a.protocol.bump];
        let signer: &[&[&[u8]]] = &[&[seeds::PROTOCOL, &bump]];
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                a.native_token_program.key(),
                TransferChecked {
                    from: a.fee_vault.to_account_info(),
                    mint: a.native_mint.to_account_info(),
                    to: a.destination.to_account_info(),
                    authority: a.protocol.to_account_info(),
                },
                signer,
            ),
            amount,
            a.native_mint.decimals,
        )?;
        let remaining = a.fee_vault.amount - amount;
        emit_cpi!(ProtocolFeesWithdrawn { admin: a.admin.key(), destination: a.destination.key(), amount, remaining });
        Ok(())
    }
}
