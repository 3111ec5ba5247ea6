//! PDA seed prefixes. Each is an IDL `#[constant]`; the Go clients use the generated copies.
//!
//! Singletons: [METER], [ESCROW_VAULT], [STAKE_VAULT].
//! Per API key: [ESCROW, sha256(API key)]. Per operator: [NODE, operator].
//! Per domain: [DOMAIN, operator, name]; per membership: [MEMBER, domain, node].
use anchor_lang::prelude::*;

#[constant]
pub const METER: &[u8] = b"meter";
#[constant]
pub const ESCROW_VAULT: &[u8] = b"escrow_vault";
#[constant]
pub const STAKE_VAULT: &[u8] = b"stake_vault";
#[constant]
pub const ESCROW: &[u8] = b"escrow";
#[constant]
pub const NODE: &[u8] = b"node";
#[constant]
pub const DOMAIN: &[u8] = b"domain";
#[constant]
pub const MEMBER: &[u8] = b"member";
