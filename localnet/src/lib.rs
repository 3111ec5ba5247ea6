//! A local Solana chain for development and tests.
//!
//! LiteSVM executes transactions with the real runtime (SBF programs such as
//! SPL Token run in the real VM); our Anchor programs, which cannot be built
//! for SBF on these machines, run compiled for the host as builtins at their
//! declared program IDs. [`rpc`] serves the chain over standard Solana
//! JSON-RPC so that clients cannot tell it from `solana-test-validator`.
pub mod chain;
pub mod host;
pub mod programs;
pub mod rpc;
