//! Our Anchor programs, registered as builtins at their declared program IDs.

use litesvm::LiteSVM;
use solana_account::Account;
use solana_address::Address;
use solana_program_runtime::declare_process_instruction;

use crate::host::builtin::{self, HostEntrypoint};

/// Compute units charged per instruction. The runtime requires a builtin to
/// consume some; host code is not metered, so this is a token figure, not a
/// measurement (real figures need an SBF build on a validator).
const UNITS_PER_INSTRUCTION: u64 = 1_000;

const MT_TREASURY: HostEntrypoint = crate::widen_entry!(mt_treasury::entry);
const INFERENCE_METER: HostEntrypoint = crate::widen_entry!(inference_meter::entry);

declare_process_instruction!(MtTreasuryBuiltin, UNITS_PER_INSTRUCTION, |invoke_context| {
    builtin::run(MT_TREASURY, invoke_context)
});

declare_process_instruction!(InferenceMeterBuiltin, UNITS_PER_INSTRUCTION, |invoke_context| {
    builtin::run(INFERENCE_METER, invoke_context)
});

/// The programs this chain serves, by name and ID.
pub fn deployed() -> [(&'static str, Address); 2] {
    [
        ("mt_treasury", Address::new_from_array(mt_treasury::ID.to_bytes())),
        ("inference_meter", Address::new_from_array(inference_meter::ID.to_bytes())),
    ]
}

pub fn register(svm: &mut LiteSVM) {
    let [(mt_name, mt), (meter_name, meter)] = deployed();
    svm.add_builtin(mt, MtTreasuryBuiltin::vm);
    svm.add_builtin(meter, InferenceMeterBuiltin::vm);
    // LiteSVM 0.11's add_builtin leaves a BPF-loader-owned program account,
    // which the runtime then hands to the BPF loader (UnsupportedProgramId).
    // A builtin's account is owned by the native loader, as the system
    // program's is.
    for (name, id) in [(mt_name, mt), (meter_name, meter)] {
        svm.set_account(id, native_program_account(name)).expect("register builtin account");
    }
}

fn native_program_account(name: &str) -> Account {
    Account {
        lamports: 1,
        data: name.as_bytes().to_vec(),
        owner: solana_sdk_ids::native_loader::ID,
        executable: true,
        rent_epoch: 0,
    }
}
