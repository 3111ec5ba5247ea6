//! PDA seed prefixes. The Go side (`clients/pda`) mirrors these names.
pub const METER: &[u8] = b"meter";
pub const ESCROW_VAULT: &[u8] = b"escrow_vault";
pub const STAKE_VAULT: &[u8] = b"stake_vault";
