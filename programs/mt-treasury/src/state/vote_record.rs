use anchor_lang::prelude::*;

/// How a voter voted.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum VoteChoice {
    Yes,
    No,
    /// Counts towards the quorum only.
    Abstain,
}

/// One voter's vote on one proposal, at [`seeds::VOTE`](super::seeds::VOTE) +
/// proposal + voter record. Its existence with `weight > 0` is what stops a
/// second vote while the proposal takes votes; `close_vote_record` returns
/// its rent only once the proposal takes no more votes, so a closed record
/// can never be re-created to vote again.
#[account]
#[derive(InitSpace)]
pub struct VoteRecord {
    pub proposal: Pubkey,
    /// The `Voter` record (not the wallet) that voted.
    pub voter: Pubkey,
    pub choice: VoteChoice,
    /// MT base units counted: the voter record's snapshot weight on this
    /// proposal (its MT deposited and warmed up before the proposal was
    /// created and still deposited when voting; see `Voter::vote_weight`).
    pub weight: u64,
    pub voted_at: i64,
    pub bump: u8,
}

impl VoteRecord {
    pub const SPACE: usize = 8 + Self::INIT_SPACE;
}
