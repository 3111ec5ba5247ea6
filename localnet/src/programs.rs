//! Our Anchor programs, registered as builtins at their declared program IDs.

use litesvm::LiteSVM;
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
    let [(_, mt), (_, meter)] = deployed();
    svm.add_builtin(mt, MtTreasuryBuiltin::vm);
    svm.add_builtin(meter, InferenceMeterBuiltin::vm);
}
