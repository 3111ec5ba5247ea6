pub mod domain;
pub mod escrow;
pub mod membership;
pub mod meter_config;
pub mod node;
pub mod seeds;

pub use domain::*;
pub use escrow::*;
pub use membership::*;
pub use meter_config::*;
pub use node::*;
