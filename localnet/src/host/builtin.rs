//! Runs a `solana-program`-style entrypoint compiled for the host as a builtin
//! program inside the runtime.
//!
//! The runtime hands a builtin an `InvokeContext`; an Anchor program wants
//! `(&Pubkey, &[AccountInfo], &[u8])`. We serialize the instruction's accounts
//! with the same ABI the SBF loader uses, deserialize them into `AccountInfo`s
//! pointing into that buffer, run the program, and write every change to a
//! writable account back into the transaction context, exactly as the loader
//! does after an SBF program returns.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;

use solana_account_info::AccountInfo;
use solana_instruction::error::InstructionError;
use solana_program_entrypoint::deserialize;
use solana_program_error::ProgramResult;
use solana_program_runtime::invoke_context::InvokeContext;
use solana_program_runtime::serialization::serialize_parameters;

use super::stubs;

/// Entrypoint of a program compiled for the host, with the lifetimes the
/// runtime can offer (see [`widen!`](crate::widen_entry) for Anchor's tighter ones).
pub type HostEntrypoint = fn(
    &solana_address::Address,
    &[AccountInfo],
    &[u8],
) -> ProgramResult;

/// Runs `entry` for the instruction currently on top of `invoke_context`'s stack.
pub fn run(entry: HostEntrypoint, invoke_context: &mut InvokeContext) -> Result<(), InstructionError> {
    stubs::install();
    let _guard = stubs::enter(invoke_context);

    let (program_id, instruction_accounts, mask_rent_epoch) = {
        let ctx = invoke_context.transaction_context.get_current_instruction_context()?;
        (
            *ctx.get_program_key()?,
            ctx.get_number_of_instruction_accounts(),
            invoke_context.get_feature_set().mask_out_rent_epoch_in_vm_serialization,
        )
    };
    let (mut parameters, _regions, _lengths, _data_offset) = {
        let ctx = invoke_context.transaction_context.get_current_instruction_context()?;
        // No VM here, so neither direct mapping nor the stricter ABI checks apply.
        serialize_parameters(&ctx, false, false, mask_rent_epoch)?
    };
    // SAFETY: `parameters` was produced by `serialize_parameters` in the exact
    // layout `deserialize` reads, and outlives every `AccountInfo` built from it.
    let (_, account_infos, data) = unsafe { deserialize(parameters.as_slice_mut().as_mut_ptr()) };

    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| entry(&program_id, &account_infos, data)));
    let result = match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(program_error)) => Err(InstructionError::from(u64::from(program_error))),
        Err(_) => Err(InstructionError::ProgramFailedToComplete),
    };
    // The runtime logs invoke, success and failure around every builtin.
    result?;
    commit_writes(invoke_context, instruction_accounts, &account_infos)
}

/// Copies lamports, data and owner of every writable account from the
/// program's `AccountInfo`s back into the transaction context. The runtime
/// then enforces its usual rules (only the owner may debit or change data,
/// rent, resizing limits), as it does for SBF programs.
fn commit_writes(
    invoke_context: &mut InvokeContext,
    instruction_accounts: u16,
    account_infos: &[AccountInfo],
) -> Result<(), InstructionError> {
    let by_key: HashMap<_, _> = account_infos.iter().map(|a| (*a.key, a)).collect();
    // Re-read the context: a CPI made by the program may have moved it.
    let ctx = invoke_context.transaction_context.get_current_instruction_context()?;
    let mut seen = HashSet::new();
    for index in 0..instruction_accounts {
        let mut account = ctx.try_borrow_instruction_account(index)?;
        if !account.is_writable() || !seen.insert(*account.get_key()) {
            continue;
        }
        let Some(info) = by_key.get(account.get_key()) else { continue };
        if account.get_lamports() != info.lamports() {
            account.set_lamports(info.lamports())?;
        }
        let data = info.try_borrow_data().map_err(|_| InstructionError::AccountBorrowFailed)?;
        if account.get_data() != &data[..] {
            account.set_data_from_slice(&data)?;
        }
        if account.get_owner() != info.owner {
            account.set_owner(info.owner.as_ref())?;
        }
    }
    Ok(())
}

/// Adapts an Anchor `entry<'info>(&Pubkey, &'info [AccountInfo<'info>], &[u8])`
/// to [`HostEntrypoint`]. Anchor ties the slice and the accounts to one
/// lifetime (Anchor issue 2738); the accounts really live as long as the call,
/// which is all the entry relies on.
#[macro_export]
macro_rules! widen_entry {
    ($entry:path) => {{
        fn widened(
            program_id: &solana_address::Address,
            accounts: &[solana_account_info::AccountInfo],
            data: &[u8],
        ) -> solana_program_error::ProgramResult {
            // SAFETY: only lifetimes change; see the macro's documentation.
            let accounts: &[solana_account_info::AccountInfo] = unsafe { std::mem::transmute(accounts) };
            $entry(program_id, accounts, data)
        }
        widened as $crate::host::builtin::HostEntrypoint
    }};
}
