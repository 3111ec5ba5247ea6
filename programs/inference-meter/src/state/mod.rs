pub mod escrow;
pub mod meter_config;
pub mod node;
pub mod seeds;

pub use escrow::*;
pub use meter_config::*;
pub use node::*;
