pub mod contribution;
pub mod model;
pub mod protocol;
pub mod seeds;

pub use contribution::*;
pub use model::*;
pub use protocol::*;
