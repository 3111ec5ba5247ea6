pub mod meter_config;
pub mod seeds;

pub use meter_config::*;
