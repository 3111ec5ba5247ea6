pub mod init_meter;

pub use init_meter::*;
