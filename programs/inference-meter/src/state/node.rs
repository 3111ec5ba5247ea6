use anchor_lang::prelude::*;

/// Longest endpoint URL a node may publish, in bytes.
#[constant]
pub const MAX_ENDPOINT_LEN: u32 = 128;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum NodeStatus {
    /// Serving; its keeper may settle.
    Active,
    /// Stopped by its operator; stake stays (and stays slashable) until unbonded.
    Inactive,
    /// Leaving: stake withdrawable after the unbonding period; cannot settle.
    Unbonding,
}

/// What a node has settled and suffered over its lifetime.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace)]
pub struct NodeCounters {
    pub batches: u64,
    pub entries: u64,
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Native base units debited from escrows.
    pub settled_value: u64,
    /// Cost of runs the escrows could not pay.
    pub shortfall_value: u64,
    /// Slashes recorded against the node.
    pub disputes: u64,
    pub slashed: u64,
}

/// A node operator's registration, at [`seeds::NODE`](super::seeds::NODE) + operator.
#[account]
#[derive(InitSpace)]
pub struct Node {
    /// Owns the stake and receives the operator share; manages the node.
    pub operator: Pubkey,
    /// Hot key of the keeper daemon. It can sign `settle` and nothing else.
    pub keeper: Pubkey,
    pub status: NodeStatus,
    /// Native base units staked in the meter's stake vault.
    pub stake: u64,
    /// When `begin_unbonding` was called (status `Unbonding`).
    pub unbonding_started_at: i64,
    /// Where the keeper serves requests (e.g. `https://node.example/v1`).
    #[max_len(MAX_ENDPOINT_LEN)]
    pub endpoint: String,
    /// Sequence number of the last settled batch; the next must be exactly one more.
    pub last_batch_seq: u64,
    /// Highest run sequence number settled (the keeper numbers its runs
    /// 1, 2, 3, …): a batch must cover runs strictly above it, so a run is
    /// settled at most once even when a keeper's journal is restored from an
    /// old copy.
    pub last_run_seq: u64,
    pub registered_at: i64,
    pub last_settled_at: i64,
    /// Reason code of the most recent slash (0 if never slashed).
    pub last_slash_reason: u16,
    pub counters: NodeCounters,
    pub bump: u8,
}
