//! Our Anchor programs, registered as builtins at their declared program IDs.
//!
//! A builtin has no ELF and no BPF upgradeable loader accounts. Programs
//! that check their upgrade authority (`mt_treasury`'s `init_protocol`) read
//! the ProgramData account, the loader's PDA of the program id, so the
//! chain creates one for each builtin: owned by the upgradeable loader,
//! holding `UpgradeableLoaderState::ProgramData { slot: 0,
//! upgrade_authority_address }` (its 45-byte header; no ELF follows). The
//! authority is the chain's `--upgrade-authority`, by default the public key
//! of `keys/localnet-upgrade-authority.json`, a development key committed to
//! the repository (never use it on a real cluster).

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

/// The development upgrade authority (`keys/localnet-upgrade-authority.json`).
pub const DEFAULT_UPGRADE_AUTHORITY_KEYPAIR: &str = include_str!("../../keys/localnet-upgrade-authority.json");

/// The public key of [`DEFAULT_UPGRADE_AUTHORITY_KEYPAIR`].
pub fn default_upgrade_authority() -> Address {
    let bytes: Vec<u8> = serde_json::from_str(DEFAULT_UPGRADE_AUTHORITY_KEYPAIR).expect("keypair file is a JSON byte array");
    let public: [u8; 32] = bytes[32..64].try_into().expect("64-byte keypair");
    Address::new_from_array(public)
}

/// The ProgramData address of `program`: the upgradeable loader's PDA of its id.
pub fn program_data_address(program: &Address) -> Address {
    Address::find_program_address(&[program.as_ref()], &solana_sdk_ids::bpf_loader_upgradeable::ID).0
}

/// A ProgramData account naming `authority` as the upgrade authority
/// (bincode of `UpgradeableLoaderState::ProgramData`, tag 3).
fn program_data_account(authority: &Address, lamports: u64) -> Account {
    let mut data = Vec::with_capacity(45);
    data.extend_from_slice(&3u32.to_le_bytes());
    data.extend_from_slice(&0u64.to_le_bytes());
    data.push(1);
    data.extend_from_slice(authority.as_ref());
    Account { lamports, data, owner: solana_sdk_ids::bpf_loader_upgradeable::ID, executable: false, rent_epoch: 0 }
}

pub fn register(svm: &mut LiteSVM, upgrade_authority: &Address) {
    let [(mt_name, mt), (meter_name, meter)] = deployed();
    svm.add_builtin(mt, MtTreasuryBuiltin::vm);
    svm.add_builtin(meter, InferenceMeterBuiltin::vm);
    // LiteSVM 0.11's add_builtin leaves a BPF-loader-owned program account,
    // which the runtime then hands to the BPF loader (UnsupportedProgramId).
    // A builtin's account is owned by the native loader, as the system
    // program's is.
    let rent = svm.minimum_balance_for_rent_exemption(45);
    for (name, id) in [(mt_name, mt), (meter_name, meter)] {
        svm.set_account(id, native_program_account(name)).expect("register builtin account");
        svm.set_account(program_data_address(&id), program_data_account(upgrade_authority, rent))
            .expect("register builtin program data");
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
