//! Events, emitted with `emit_cpi!` so they reach indexers as inner-instruction data.
use anchor_lang::prelude::*;

#[event]
pub struct MeterInitialized {
    pub admin: Pubkey,
    pub settlement_fee_bps: u16,
    pub operator_share_bps: u16,
    pub min_node_stake: u64,
    pub unbonding_secs: i64,
    pub withdrawal_notice_secs: i64,
}

#[event]
pub struct MeterUpdated {
    pub admin: Pubkey,
    pub settlement_fee_bps: u16,
    pub operator_share_bps: u16,
    pub min_node_stake: u64,
    pub unbonding_secs: i64,
    pub withdrawal_notice_secs: i64,
}

#[event]
pub struct EscrowOpened {
    pub escrow: Pubkey,
    pub owner: Pubkey,
    pub key_hash: [u8; 32],
    pub allowed_models: Vec<u64>,
    pub spend_limit: Option<u64>,
}

#[event]
pub struct EscrowDeposited {
    pub escrow: Pubkey,
    pub depositor: Pubkey,
    pub amount: u64,
    pub balance: u64,
}

#[event]
pub struct WithdrawalRequested {
    pub escrow: Pubkey,
    pub amount: u64,
    /// First moment `withdraw_escrow` succeeds.
    pub withdrawable_at: i64,
}

#[event]
pub struct EscrowWithdrawn {
    pub escrow: Pubkey,
    pub amount: u64,
    pub balance: u64,
}

#[event]
pub struct KeyRotated {
    pub from: Pubkey,
    pub to: Pubkey,
    pub balance: u64,
}

#[event]
pub struct EscrowClosed {
    pub escrow: Pubkey,
    pub owner: Pubkey,
}

#[event]
pub struct NodeRegistered {
    pub node: Pubkey,
    pub operator: Pubkey,
    pub keeper: Pubkey,
    pub stake: u64,
    pub endpoint: String,
}

#[event]
pub struct StakeAdded {
    pub node: Pubkey,
    pub amount: u64,
    pub stake: u64,
}

#[event]
pub struct UnbondingBegun {
    pub node: Pubkey,
    pub stake: u64,
    /// First moment `withdraw_stake` succeeds.
    pub withdrawable_at: i64,
}

#[event]
pub struct StakeWithdrawn {
    pub node: Pubkey,
    pub amount: u64,
}

#[event]
pub struct KeeperKeySet {
    pub node: Pubkey,
    pub old_keeper: Pubkey,
    pub new_keeper: Pubkey,
}

#[event]
pub struct EndpointSet {
    pub node: Pubkey,
    pub endpoint: String,
}

#[event]
pub struct NodeDeactivated {
    pub node: Pubkey,
}

#[event]
pub struct NodeActivated {
    pub node: Pubkey,
}

#[event]
pub struct NodeSlashed {
    pub node: Pubkey,
    pub amount: u64,
    pub reason: u16,
    pub stake: u64,
}

/// What one escrow paid in a batch.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub struct EscrowDebit {
    pub escrow: Pubkey,
    pub charged: u64,
    /// Cost of this batch's runs that the escrow could not pay.
    pub shortfall: u64,
}

/// What one model earned in a batch: the part of escrow money charged for
/// it, and the revenue it received after the protocol fee and operator share.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub struct ModelCredit {
    pub model: Pubkey,
    pub charged: u64,
    pub revenue: u64,
}

/// An entry the escrow could not pay in full.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub struct EntryShortfall {
    /// Position of the entry in the batch.
    pub entry: u16,
    pub escrow: Pubkey,
    pub cost: u64,
    pub charged: u64,
}

/// One per settled batch. `receipts_root` is the Merkle root of the run
/// receipts the keeper signed, so any receipt can later be proven part of it.
#[event]
pub struct BatchSettled {
    pub node: Pubkey,
    pub keeper: Pubkey,
    pub batch_seq: u64,
    pub receipts_root: [u8; 32],
    /// Run sequence numbers this batch covers (inclusive).
    pub first_run_seq: u64,
    pub last_run_seq: u64,
    pub entries: u16,
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Full price of the batch's runs.
    pub cost: u64,
    /// Debited from escrows: `to_protocol + to_operator + to_models`.
    pub charged: u64,
    pub to_protocol: u64,
    pub to_operator: u64,
    pub to_models: u64,
    /// `cost - charged`: what escrows could not pay.
    pub shortfall: u64,
    pub escrows: Vec<EscrowDebit>,
    pub models: Vec<ModelCredit>,
    pub shortfalls: Vec<EntryShortfall>,
    /// The domain whose lanes this batch debited; the default key when it
    /// debited the node's own lanes.
    pub domain: Pubkey,
    /// The domain's fee, out of the operator's cut: `to_operator` is what the
    /// node operator kept after it.
    pub to_domain: u64,
}

#[event]
pub struct LaneAllowed {
    pub escrow: Pubkey,
    pub node: Pubkey,
    /// Moved from the escrow's unallocated balance into the lane.
    pub amount: u64,
    pub lane_balance: u64,
    /// The escrow's unallocated balance afterwards.
    pub balance: u64,
}

#[event]
pub struct LaneRevokeRequested {
    pub escrow: Pubkey,
    pub node: Pubkey,
    /// First moment `revoke_node` succeeds.
    pub revocable_at: i64,
}

#[event]
pub struct LaneRevoked {
    pub escrow: Pubkey,
    pub node: Pubkey,
    /// The lane's balance, returned to the escrow's unallocated balance.
    pub returned: u64,
    pub balance: u64,
}

#[event]
pub struct DomainLaneAllowed {
    pub escrow: Pubkey,
    pub domain: Pubkey,
    /// Moved from the escrow's unallocated balance into the lane.
    pub amount: u64,
    pub lane_balance: u64,
    /// The escrow's unallocated balance afterwards.
    pub balance: u64,
}

#[event]
pub struct DomainCreated {
    pub domain: Pubkey,
    pub operator: Pubkey,
    pub name: String,
    pub bond: u64,
    pub min_node_stake: u64,
    pub fee_bps: u16,
    pub notice_secs: i64,
}

#[event]
pub struct DomainUpdated {
    pub domain: Pubkey,
    pub min_node_stake: u64,
    pub notice_secs: i64,
    /// The new fee, for runs served from `fee_effective_at` on.
    pub fee_bps: u16,
    pub previous_fee_bps: u16,
    pub fee_effective_at: i64,
}

#[event]
pub struct DomainClosed {
    pub domain: Pubkey,
    pub operator: Pubkey,
    /// Bond returned to the operator.
    pub bond: u64,
}

#[event]
pub struct DomainSlashed {
    pub domain: Pubkey,
    pub amount: u64,
    pub reason: u16,
    pub bond: u64,
}

#[event]
pub struct JoinRequested {
    pub domain: Pubkey,
    pub node: Pubkey,
    pub membership: Pubkey,
}

#[event]
pub struct MemberAdmitted {
    pub domain: Pubkey,
    pub node: Pubkey,
    pub members: u32,
}

/// A membership ended: the node left (`removed` false) or the domain
/// operator removed it. It may settle runs served before `ended_at` until
/// `settle_until` (inclusive).
#[event]
pub struct MemberDeparted {
    pub domain: Pubkey,
    pub node: Pubkey,
    pub removed: bool,
    pub ended_at: i64,
    pub settle_until: i64,
    pub members: u32,
}

#[event]
pub struct MembershipClosed {
    pub domain: Pubkey,
    pub node: Pubkey,
}
