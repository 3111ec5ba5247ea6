pub mod init_protocol;

pub use init_protocol::*;
