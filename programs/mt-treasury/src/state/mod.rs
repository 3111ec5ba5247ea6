pub mod protocol;
pub mod seeds;

pub use protocol::*;
