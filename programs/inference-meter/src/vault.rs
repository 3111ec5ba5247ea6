//! Token movements in and out of the meter's vaults. The meter PDA is the
//! authority of both vaults (`escrow_vault`, `stake_vault`) and signs for them.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenInterface, TransferChecked};

use crate::state::{seeds, MeterConfig};

/// Moves `amount` from `from`, signed by its owner `authority`, into a vault.
pub fn pay_in<'info>(
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    from: AccountInfo<'info>,
    authority: AccountInfo<'info>,
    vault: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    token_interface::transfer_checked(
        CpiContext::new(
            token_program.key(),
            TransferChecked { from, mint: mint.to_account_info(), to: vault, authority },
        ),
        amount,
        mint.decimals,
    )
}

/// Moves `amount` out of a meter vault, signed by the meter PDA. Does nothing for 0.
pub fn pay_out<'info>(
    meter: &Account<'info, MeterConfig>,
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    vault: AccountInfo<'info>,
    to: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let bump = [meter.bump];
    let signer: &[&[&[u8]]] = &[&[seeds::METER, &bump]];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            token_program.key(),
            TransferChecked { from: vault, mint: mint.to_account_info(), to, authority: meter.to_account_info() },
            signer,
        ),
        amount,
        mint.decimals,
    )
}
