pub mod contribution;
pub mod market;
pub mod model;
pub mod proposal;
pub mod protocol;
pub mod revenue;
pub mod seeds;
pub mod vote_record;
pub mod voter;

pub use contribution::*;
pub use market::*;
pub use model::*;
pub use proposal::*;
pub use protocol::*;
pub use revenue::*;
pub use vote_record::*;
pub use voter::*;
pub mod bounty;
pub mod review;
pub mod review_rule;
pub mod submission;

pub use bounty::*;
pub use review::*;
pub use review_rule::*;
pub use submission::*;
