//! Token movements shared by the instructions: out of a model's vaults
//! (signed by the model PDA) and in from a signer's account.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, TransferChecked};

use crate::state::{seeds, Model};

/// Moves `amount` from one of `model`'s vaults to `to`; the model PDA signs.
/// Nothing happens for zero.
pub fn pay_from_model<'info>(
    token_program: &AccountInfo<'info>,
    model: &Account<'info, Model>,
    from: AccountInfo<'info>,
    mint: AccountInfo<'info>,
    to: AccountInfo<'info>,
    amount: u64,
    decimals: u8,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let id = model.id.to_le_bytes();
    let bump = [model.bump];
    let signer: &[&[&[u8]]] = &[&[seeds::MODEL, &id, &bump]];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            token_program.key(),
            TransferChecked { from, mint, to, authority: model.to_account_info() },
            signer,
        ),
        amount,
        decimals,
    )
}

/// Moves `amount` from `from` to `to`, authorised by `authority` (a signer
/// of the transaction, or of the calling program). Nothing happens for zero.
pub fn pay_from_signer<'info>(
    token_program: &AccountInfo<'info>,
    authority: AccountInfo<'info>,
    from: AccountInfo<'info>,
    mint: AccountInfo<'info>,
    to: AccountInfo<'info>,
    amount: u64,
    decimals: u8,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    token_interface::transfer_checked(
        CpiContext::new(token_program.key(), TransferChecked { from, mint, to, authority }),
        amount,
        decimals,
    )
}
