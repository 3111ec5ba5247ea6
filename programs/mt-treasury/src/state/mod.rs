pub mod model;
pub mod protocol;
pub mod seeds;

pub use model::*;
pub use protocol::*;
