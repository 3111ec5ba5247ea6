//! PDA seed prefixes. The Go side (`clients/pda`) mirrors these names.
pub const PROTOCOL: &[u8] = b"protocol";
pub const FEE_VAULT: &[u8] = b"fee_vault";
