//! Host-native execution of Solana programs inside the runtime.
pub mod builtin;
pub mod stubs;
