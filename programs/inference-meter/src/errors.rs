//! Every way an instruction can refuse, worded for the person who sees it in the CLI.
//! New variants go at the end: the numeric codes are part of the interface.
use anchor_lang::prelude::*;

#[error_code]
pub enum MeterError {
    #[msg("A basis-point value is above 10000 (100%), or the settlement fee and operator share together exceed 100%.")]
    InvalidBps,
    #[msg("A time period is shorter than the protocol's minimum or not positive.")]
    PeriodTooShort,
    #[msg("Arithmetic overflow: an amount is too large.")]
    MathOverflow,
    #[msg("The amount must be greater than zero.")]
    ZeroAmount,

    // Escrows.
    #[msg("This escrow belongs to a different owner than the one you expected. Do not deposit: someone may have opened an escrow at your key's hash first; open one with a new API key.")]
    EscrowOwnerMismatch,
    #[msg("Too many allowed models: an escrow can be restricted to at most 8.")]
    TooManyAllowedModels,
    #[msg("The allowed-models list is empty, so no run could ever be paid; leave it out to allow every model.")]
    EmptyAllowedModels,
    #[msg("This escrow's key was rotated; its balance moved to the new key's escrow. Use that one.")]
    EscrowRotated,
    #[msg("No withdrawal is pending on this escrow; request one first.")]
    NoWithdrawalRequested,
    #[msg("The withdrawal notice period has not passed yet (runs already served may still settle); try again after it ends.")]
    WithdrawalNoticeNotElapsed,
    #[msg("The escrow still holds a balance; withdraw it before closing.")]
    EscrowNotEmpty,
    #[msg("The key was rotated less than a notice period ago; keepers may still need this escrow to find the new one. Close it later.")]
    RotationNoticeNotElapsed,

    // Nodes.
    #[msg("The stake is below the meter's minimum node stake.")]
    InsufficientStake,
    #[msg("The endpoint must be 1 to 128 bytes of printable ASCII.")]
    InvalidEndpoint,
    #[msg("The keeper key must be a real public key (not the default all-zero key).")]
    InvalidKeeperKey,
    #[msg("The node is inactive: its operator deactivated it.")]
    NodeInactive,
    #[msg("The node is unbonding: it can no longer settle or take more stake.")]
    NodeUnbonding,
    #[msg("The node is already active.")]
    NodeAlreadyActive,
    #[msg("The node is not unbonding; call begin_unbonding first.")]
    NotUnbonding,
    #[msg("The unbonding period has not passed yet; try again after it ends.")]
    UnbondingNotElapsed,
    #[msg("The slash amount is larger than the node's stake.")]
    SlashExceedsStake,

    // Settlement.
    #[msg("This key is not the node's keeper key (it may have been rotated); only the current keeper key can settle.")]
    NotNodeKeeper,
    #[msg("This batch sequence number was already settled: the batch landed before (or is a replay).")]
    BatchAlreadySettled,
    #[msg("This batch sequence number skips ahead: the next batch must be exactly the node's last settled sequence + 1.")]
    BatchSeqGap,
    #[msg("The batch has no entries.")]
    EmptyBatch,
    #[msg("The batch's entries are malformed (truncated or non-canonical encoding).")]
    InvalidEntryEncoding,
    #[msg("An entry refers to an escrow or model index that is not among the accounts passed.")]
    UnknownAccountIndex,
    #[msg("Too many models: at most 8 per entry and 16 per batch.")]
    TooManyModels,
    #[msg("An entry lists a model twice or gives a model zero weight.")]
    InvalidWeights,
    #[msg("An entry's model weights do not sum to 10000 bps.")]
    WeightsDoNotSum,
    #[msg("An entry has zero runs.")]
    ZeroRuns,
    #[msg("An entry says its runs were served after the current chain time.")]
    ServedInFuture,
    #[msg("An entry says its runs were served before the node was registered.")]
    ServedBeforeRegistration,
    #[msg("The escrow does not allow one of the entry's models.")]
    ModelNotAllowed,
    #[msg("The model is not active (its raise has not succeeded), so it cannot earn revenue.")]
    ModelNotActive,
    #[msg("Models and escrows must each be passed once, in ascending address order.")]
    DuplicateOrUnsortedAccounts,
    #[msg("The settle instruction is missing accounts: 3 per model (model, revenue vault, treasury vault) then at least one escrow.")]
    MissingAccounts,
    #[msg("An escrow or model account was passed read-only; settlement writes to it.")]
    AccountNotWritable,

    // Lanes, run ranges and price memory (2026-12 audit).
    #[msg("This escrow has no lane for the settling node: its owner never allowed this node (or revoked it), so the node cannot charge it.")]
    NoLaneForNode,
    #[msg("The escrow already has lanes to 8 nodes; revoke one first.")]
    TooManyLanes,
    #[msg("The escrow's unallocated balance is smaller than the amount; deposit more first.")]
    InsufficientBalance,
    #[msg("The escrow has no lane for this node.")]
    LaneNotFound,
    #[msg("No revocation is pending on this lane; request one first.")]
    RevokeNotRequested,
    #[msg("The revocation notice has not passed yet (the node may still settle runs it served); try again after it ends.")]
    RevokeNoticeNotElapsed,
    #[msg("The escrow still has lanes open to nodes; revoke them before closing.")]
    LanesStillOpen,
    #[msg("The batch's runs were already settled: its run range does not start above the node's last settled run (a stale or restored journal?).")]
    RunsAlreadySettled,
    #[msg("The batch's run range is empty, reversed, or holds fewer run numbers than the batch has runs.")]
    InvalidRunRange,
    #[msg("An entry's runs were served longer ago than the settlement window (mt_treasury SETTLE_WINDOW_SECS); they can no longer be priced and cannot be settled.")]
    RunTooOld,
    #[msg("The lanes would hold more than the escrow's spend limit still allows; a node could then serve runs the limit would leave unpaid. Allow less, or open an escrow with a higher limit.")]
    LanesExceedSpendLimit,

    // Domains (issue 18).
    #[msg("The domain name must be 1 to 32 bytes of printable ASCII without spaces.")]
    InvalidDomainName,
    #[msg("The domain bond is below the meter's minimum node stake.")]
    InsufficientBond,
    #[msg("The domain fee was changed less than the settlement window (7 days) after the previous change took effect; runs served under the older fee could still settle. Try again later.")]
    FeeChangeTooSoon,
    #[msg("The domain still has memberships (admitted, requested, or ended within their notice); remove them and close their memberships first.")]
    DomainHasMembers,
    #[msg("The node's stake is below the domain's minimum node stake.")]
    BelowDomainMinStake,
    #[msg("This membership is not in the state the action needs (e.g. admitting a node that is not requesting, or leaving twice).")]
    InvalidMembershipStatus,
    #[msg("This node is not an admitted member of the domain, so it cannot settle against the domain's lanes.")]
    NotDomainMember,
    #[msg("The node's membership of this domain ended and its settlement notice is over; it can no longer settle against the domain's lanes.")]
    MembershipEnded,
    #[msg("An entry's runs were served while the node was not a member of the domain (before it was admitted, or at or after it left or was removed).")]
    ServedOutsideMembership,
    #[msg("The membership's settlement notice has not ended yet; it can be closed after it ends.")]
    MembershipNoticeNotElapsed,
    #[msg("Settling against a domain lane needs all three of the membership, the domain and the domain operator's token account, for this node and domain.")]
    DomainAccountsMismatch,
    #[msg("This escrow has no lane for the domain: its owner never allowed this domain (or revoked it).")]
    NoLaneForDomain,
    #[msg("The slash amount is larger than the domain's bond.")]
    SlashExceedsBond,

    // Domains, second round (issue 18 remainder).
    #[msg("This node already has a membership of the domain (requested, admitted, or ended and not yet closed); close an ended one after its notice before asking again.")]
    MembershipExists,
    #[msg("This escrow's lane was opened to an earlier domain at the same address, since closed; the domain there now is a new one. Revoke the lane (request_revoke, then revoke_node) and allow the new domain if you trust it.")]
    DomainLaneStale,
}
