pub mod deposit_revenue;
pub mod init_protocol;

pub use deposit_revenue::*;
pub use init_protocol::*;
