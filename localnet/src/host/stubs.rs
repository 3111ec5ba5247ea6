//! Syscalls for programs compiled for the host.
//!
//! On SBF, `invoke_signed`, `Clock::get()`, `sol_log_data` and friends are
//! syscalls into the runtime. On the host, the Solana crates route them through
//! the process-wide `solana_sysvar::program_stubs` table. These stubs answer
//! them from the `InvokeContext` of the instruction that is running, so a host
//! program sees the same runtime an SBF program does: CPIs are real nested
//! instructions (recorded as inner instructions, privilege-checked by the
//! runtime), sysvars come from the sysvar cache, and event data lands in the
//! transaction's log.

use std::cell::Cell;
use std::sync::Once;

use solana_account_info::AccountInfo;
use solana_address::Address;
use solana_instruction::error::{InstructionError, UNSUPPORTED_SYSVAR};
use solana_instruction::Instruction;
use solana_program_entrypoint::SUCCESS;
use solana_program_error::{ProgramError, ProgramResult};
use solana_program_runtime::invoke_context::InvokeContext;
use solana_program_runtime::stable_log;
use solana_svm_timings::ExecuteTimings;
use solana_sysvar::program_stubs::{set_syscall_stubs, SyscallStubs};

thread_local! {
    static CURRENT: Cell<*mut InvokeContext<'static, 'static>> = const { Cell::new(std::ptr::null_mut()) };
}

/// Installs the stubs once per process.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        set_syscall_stubs(Box::new(HostStubs));
    });
}

/// Makes `invoke_context` the target of syscalls on this thread until the
/// returned guard drops (restoring the previous one, for nested builtins).
pub fn enter(invoke_context: &mut InvokeContext) -> EnterGuard {
    let ptr = invoke_context as *mut InvokeContext as *mut InvokeContext<'static, 'static>;
    EnterGuard { previous: CURRENT.with(|c| c.replace(ptr)) }
}

pub struct EnterGuard {
    previous: *mut InvokeContext<'static, 'static>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

fn with_context<R>(f: impl FnOnce(&mut InvokeContext) -> R) -> R {
    let ptr = CURRENT.with(|c| c.get());
    assert!(!ptr.is_null(), "syscall made outside a running host builtin");
    // SAFETY: the pointer was set by `enter` from a live `&mut InvokeContext`
    // whose guard is still alive further up this thread's stack, and the
    // builtin that holds it is suspended inside this syscall.
    f(unsafe { &mut *ptr })
}

struct HostStubs;

impl SyscallStubs for HostStubs {
    fn sol_log(&self, message: &str) {
        with_context(|ic| stable_log::program_log(&ic.get_log_collector(), message));
    }

    fn sol_log_data(&self, fields: &[&[u8]]) {
        with_context(|ic| stable_log::program_data(&ic.get_log_collector(), fields));
    }

    fn sol_invoke_signed(
        &self,
        instruction: &Instruction,
        account_infos: &[AccountInfo],
        signers_seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        with_context(|ic| invoke_signed(ic, instruction, account_infos, signers_seeds))
            .map_err(|err| ProgramError::try_from(err).unwrap_or(ProgramError::Custom(u32::MAX)))
    }

    fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic| copy_sysvar(ic.get_sysvar_cache().get_clock(), var_addr))
    }

    fn sol_get_epoch_schedule_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic| copy_sysvar(ic.get_sysvar_cache().get_epoch_schedule(), var_addr))
    }

    fn sol_get_epoch_rewards_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic| copy_sysvar(ic.get_sysvar_cache().get_epoch_rewards(), var_addr))
    }

    fn sol_get_rent_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic| copy_sysvar(ic.get_sysvar_cache().get_rent(), var_addr))
    }

    fn sol_get_last_restart_slot(&self, var_addr: *mut u8) -> u64 {
        with_context(|ic| copy_sysvar(ic.get_sysvar_cache().get_last_restart_slot(), var_addr))
    }

    fn sol_get_return_data(&self) -> Option<(Address, Vec<u8>)> {
        with_context(|ic| {
            let (program_id, data) = ic.transaction_context.get_return_data();
            Some((*program_id, data.to_vec()))
        })
    }

    fn sol_set_return_data(&self, data: &[u8]) {
        with_context(|ic| {
            let caller = ic
                .transaction_context
                .get_current_instruction_context()
                .and_then(|ctx| ctx.get_program_key().copied());
            if let Ok(caller) = caller {
                // Fails only above MAX_RETURN_DATA, which SBF also rejects.
                let _ = ic.transaction_context.set_return_data(caller, data.to_vec());
            }
        })
    }

    fn sol_get_stack_height(&self) -> u64 {
        with_context(|ic| ic.get_stack_height() as u64)
    }
}

fn copy_sysvar<T: Clone>(sysvar: Result<std::sync::Arc<T>, InstructionError>, var_addr: *mut u8) -> u64 {
    match sysvar {
        Ok(value) => {
            // SAFETY: the caller passes a pointer to a `T` (the sysvar's own `get`).
            unsafe { std::ptr::write(var_addr as *mut T, T::clone(&value)) };
            SUCCESS
        }
        Err(_) => UNSUPPORTED_SYSVAR,
    }
}

/// A cross-program invocation made by a host program: sync the caller's view
/// of the accounts into the transaction, run the callee as a nested
/// instruction (the runtime checks signer and writable privileges and the PDA
/// signatures derived from `signers_seeds`), then sync the callee's results
/// back into the caller's `AccountInfo`s.
fn invoke_signed(
    ic: &mut InvokeContext,
    instruction: &Instruction,
    account_infos: &[AccountInfo],
    signers_seeds: &[&[&[u8]]],
) -> Result<(), InstructionError> {
    let caller = *ic.transaction_context.get_current_instruction_context()?.get_program_key()?;
    let signers = signers_seeds
        .iter()
        .map(|seeds| Address::create_program_address(seeds, &caller))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| InstructionError::InvalidSeeds)?;

    ic.prepare_next_instruction(instruction.clone(), &signers)?;

    let mut write_back = Vec::new();
    {
        let tx = &ic.transaction_context;
        let ctx = tx.get_current_instruction_context()?;
        let next = tx.get_next_instruction_context()?;
        for callee_account in next.instruction_accounts() {
            let key = tx.get_key_of_account_at_index(callee_account.index_in_transaction)?;
            let info_index = account_infos
                .iter()
                .position(|info| info.key == key)
                .ok_or(InstructionError::MissingAccount)?;
            let info = &account_infos[info_index];
            let in_caller = ctx.get_index_of_account_in_instruction(callee_account.index_in_transaction)?;
            let mut account = ctx.try_borrow_instruction_account(in_caller)?;
            if account.get_lamports() != info.lamports() {
                account.set_lamports(info.lamports())?;
            }
            let data = info.try_borrow_data().map_err(|_| InstructionError::AccountBorrowFailed)?;
            if account.get_data() != &data[..] {
                account.set_data_from_slice(&data)?;
            }
            // Owner last, so lamports and data may still change under the old owner.
            if account.get_owner() != info.owner {
                account.set_owner(info.owner.as_ref())?;
            }
            if callee_account.is_writable() {
                write_back.push((callee_account.index_in_transaction, info_index));
            }
        }
    }

    let mut units = 0;
    ic.process_instruction(&mut units, &mut ExecuteTimings::default())?;

    let tx = &ic.transaction_context;
    let ctx = tx.get_current_instruction_context()?;
    for (index_in_transaction, info_index) in write_back {
        let in_caller = ctx.get_index_of_account_in_instruction(index_in_transaction)?;
        let account = ctx.try_borrow_instruction_account(in_caller)?;
        let info = &account_infos[info_index];
        **info.try_borrow_mut_lamports().map_err(|_| InstructionError::AccountBorrowFailed)? = account.get_lamports();
        if info.owner != account.get_owner() {
            // SAFETY: `AccountInfo::owner` is a shared reference into the
            // serialized parameter buffer that this builtin owns; SBF programs
            // see the owner change the same way after a CPI (e.g. after the
            // system program assigns a freshly created account).
            #[allow(invalid_reference_casting)]
            unsafe {
                std::ptr::write(info.owner as *const Address as *mut Address, *account.get_owner());
            }
        }
        let new_data = account.get_data();
        if info.data_len() != new_data.len() {
            info.resize(new_data.len()).map_err(|_| InstructionError::InvalidRealloc)?;
        }
        info.try_borrow_mut_data()
            .map_err(|_| InstructionError::AccountBorrowFailed)?
            .copy_from_slice(new_data);
    }
    Ok(())
}
