//! PDA seed prefixes. The Go side (`clients/pda/meter.go`) mirrors these names.
//!
//! Singletons: [METER], [ESCROW_VAULT], [STAKE_VAULT].
//! Per API key: [ESCROW, sha256(API key)]. Per operator: [NODE, operator].
pub const METER: &[u8] = b"meter";
pub const ESCROW_VAULT: &[u8] = b"escrow_vault";
pub const STAKE_VAULT: &[u8] = b"stake_vault";
pub const ESCROW: &[u8] = b"escrow";
pub const NODE: &[u8] = b"node";
pub const DOMAIN: &[u8] = b"domain";
pub const MEMBER: &[u8] = b"member";
