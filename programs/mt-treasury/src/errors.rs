//! Every way an instruction can refuse, worded for the person who sees it in the CLI.
//! New variants go at the end: the numeric codes are part of the interface.
use anchor_lang::prelude::*;

#[error_code]
pub enum TreasuryError {
    #[msg("A basis-point value is above 10000 (100%).")]
    InvalidBps,
    #[msg("A time period is shorter than the protocol's minimum or not positive.")]
    PeriodTooShort,
    #[msg("The native token mint has a Token-2022 extension that could change amounts in transit (transfer fee, hook, …); use a plain mint.")]
    UnsupportedMintExtension,
    #[msg("Arithmetic overflow.")]
    MathOverflow,
    #[msg("The amount must be greater than zero.")]
    ZeroAmount,
    #[msg("The model is not active: its raise has not succeeded.")]
    ModelNotActive,

    // Protocol administration.
    #[msg("Only the protocol admin may do this.")]
    NotAdmin,
    #[msg("The protocol is paused: launches and contributions are stopped (claims, refunds and finalisation still work).")]
    ProtocolPaused,
    #[msg("Nothing to change: pass at least one setting.")]
    NothingToUpdate,

    // Launch parameters.
    #[msg("The hard supply must be greater than zero.")]
    ZeroSupply,
    #[msg("The supply split (creator + crowdfund + liquidity + contributor rewards) must add up exactly to the hard supply.")]
    SupplySplitMismatch,
    #[msg("The crowdfund allocation must be greater than zero.")]
    ZeroSaleAllocation,
    #[msg("The price must be greater than zero.")]
    ZeroPrice,
    #[msg("A per-query price is too high (above 18446744073709 native base units per 1k tokens).")]
    PriceTooHigh,
    #[msg("The soft cap must be greater than zero.")]
    ZeroSoftCap,
    #[msg("The soft cap is above the hard cap.")]
    SoftCapAboveHardCap,
    #[msg("The hard cap buys more MT than the crowdfund allocation holds; lower the hard cap or raise the price.")]
    HardCapExceedsSale,
    #[msg("The hard cap buys no MT at this price; raise the hard cap or lower the price.")]
    HardCapTooSmall,
    #[msg("The per-wallet cap buys no MT at this price; raise it (it must be greater than zero).")]
    WalletCapTooSmall,
    #[msg("The crowdfund must end after it starts.")]
    EndBeforeStart,
    #[msg("The crowdfund ends too soon: it must stay open at least the protocol's minimum period from now.")]
    EndTooSoon,
    #[msg("Invalid vesting: the cliff and duration must not be negative and the cliff must not exceed the duration.")]
    InvalidVesting,
    #[msg("Governance quorum and approval threshold must be greater than zero.")]
    ZeroGovernanceBps,
    #[msg("The minimum MT to propose is above the hard supply.")]
    ProposeThresholdAboveSupply,
    #[msg("The name must be 1 to 32 bytes.")]
    InvalidName,
    #[msg("The symbol must be 1 to 10 bytes.")]
    InvalidSymbol,
    #[msg("The metadata URI must be at most 200 bytes.")]
    UriTooLong,
    #[msg("An allowlist root of all zeros is not a valid Merkle root; omit it for an open crowdfund.")]
    ZeroAllowlistRoot,

    // Launch sequence and stages.
    #[msg("The model is not being launched (its MT and vaults already exist).")]
    NotLaunching,
    #[msg("Only the model's creator may do this.")]
    NotCreator,
    #[msg("The model is not raising funds.")]
    NotFunding,

    // Crowdfund.
    #[msg("The crowdfund has not started yet.")]
    RaiseNotStarted,
    #[msg("The crowdfund has ended; finalise it, then claim MT or a refund.")]
    RaiseEnded,
    #[msg("The hard cap has been reached: nothing is left to buy.")]
    HardCapReached,
    #[msg("The amount is too small to buy one MT base unit at this price.")]
    ContributionTooSmall,
    #[msg("This contribution would take the wallet past the crowdfund's per-wallet cap.")]
    WalletCapExceeded,
    #[msg("The fill is below the minimum MT you accepted (the hard cap is nearly reached).")]
    FillBelowMinimum,
    #[msg("This wallet is not on the crowdfund's allowlist (or the proof is wrong).")]
    NotOnAllowlist,
    #[msg("The allowlist proof is longer than 20 hashes.")]
    ProofTooLong,
    #[msg("The raise cannot be finalised yet: it is still open and not sold out.")]
    RaiseNotOver,

    // Claims and refunds.
    #[msg("This contribution's MT has already been claimed.")]
    AlreadyClaimed,
    #[msg("This contribution has already been refunded.")]
    AlreadyRefunded,
    #[msg("Refunds are only for failed raises; this raise did not fail.")]
    RaiseNotFailed,
    #[msg("Nothing has vested since the last claim.")]
    NothingVested,
    #[msg("Minting would exceed the model's hard supply.")]
    SupplyCapExceeded,
    #[msg("That is not the protocol's native token mint.")]
    WrongNativeMint,
    #[msg("That is not this model's MT mint.")]
    WrongMtMint,

    // Governance: deposits.
    #[msg("The amount is more MT than this voter record holds.")]
    InsufficientDeposit,
    #[msg("These MT are locked until the latest proposal this record voted on (or proposed) stops taking votes; withdraw after that.")]
    DepositLocked,

    // Governance: proposals.
    #[msg("Creating a proposal needs at least the model's minimum MT deposited and warmed up in your voter record.")]
    BelowProposalThreshold,
    #[msg("A time period is longer than governance may set (365 days).")]
    PeriodTooLong,
    #[msg("A transfer proposal needs its destination token account, and only a transfer takes one.")]
    DestinationRequired,
    #[msg("The destination account is not the one the proposal names.")]
    WrongDestination,
    #[msg("The destination account holds another token than the transfer sends.")]
    WrongDestinationMint,
    #[msg("A signal proposal needs a content hash and a URI.")]
    MissingContent,
    #[msg("The proposal is not open for votes (finalised, executed or cancelled).")]
    ProposalNotVoting,
    #[msg("Voting on this proposal has ended; finalise it.")]
    VotingEnded,
    #[msg("Voting is still open and the outcome can still change; finalise after the voting period.")]
    VotingNotOver,
    #[msg("This voter record has already voted on this proposal.")]
    AlreadyVoted,
    #[msg("This voter record holds no MT: deposit MT to vote.")]
    NoVotingPower,
    #[msg("Only a passed proposal can be executed (this one failed, was cancelled or is still being voted on).")]
    ProposalNotPassed,
    #[msg("This proposal has already been executed.")]
    ProposalAlreadyExecuted,
    #[msg("The proposal's hold-up period has not passed yet.")]
    HoldUpNotOver,
    #[msg("Only the proposer may cancel a proposal.")]
    NotProposer,
    #[msg("The proposal already has votes and can no longer be cancelled.")]
    ProposalHasVotes,
    #[msg("The model's treasury does not hold enough for this transfer.")]
    TreasuryInsufficient,
    #[msg("That proposal belongs to another model.")]
    WrongProposalModel,

    // Revenue.
    #[msg("There are no rewards to claim yet.")]
    NothingToClaim,

    // Market.
    #[msg("The model's market is not open yet (open_market seeds it once the raise has succeeded).")]
    MarketNotOpen,
    #[msg("The model's market is already open.")]
    MarketAlreadyOpen,
    #[msg("The model has no liquidity to seed a market with (its liquidity allocation or native share is zero).")]
    NoLiquidity,
    #[msg("The swap would pay less than your minimum (the price moved); quote again.")]
    SlippageExceeded,
    #[msg("The swap is too small: it would pay out nothing.")]
    SwapTooSmall,
    #[msg("The swap would decrease the pool's invariant.")]
    PoolInvariant,
    #[msg("The proposal still takes votes: its vote records can be closed once voting ends.")]
    VotingStillOpen,
    #[msg("The voter record still holds MT or unclaimed rewards: withdraw and claim first.")]
    VoterNotEmpty,
    #[msg("Only the admin nominated with update_protocol (new_admin) may accept the protocol.")]
    NotPendingAdmin,
    #[msg("The contribution record is still needed: claim your MT (raise succeeded) or your refund (raise failed) first.")]
    ContributionStillOpen,
    #[msg("The proposal passed but was not executed within 14 days of its hold-up ending; it has expired: propose it again.")]
    ProposalExpired,
    #[msg("A price change took effect less than SETTLE_WINDOW_SECS (7 days) ago and runs served before it may still be settled at the old price; execute this price change after that window.")]
    PriceChangeTooSoon,
    #[msg("The market needs both sides or neither: an MT liquidity allocation and a liquidity share of the raise (liquidity_bps) must both be non-zero, or both zero for no market.")]
    OneSidedLiquidity,
    #[msg("At the soft cap the raise's liquidity share rounds to zero native base units, so the market could not open: raise liquidity_bps or the soft cap.")]
    LiquidityShareTooSmall,
    #[msg("The soft cap cannot be reached at this price: a raise can sell out (what is left under the hard cap buys no MT base unit) below it. Lower the soft cap or change the price or hard cap.")]
    SoftCapUnreachable,
    #[msg("None of this voter record's MT counts on this proposal: only MT deposited and warmed up before the proposal was created votes (MT deposited later votes on later proposals).")]
    NoEligibleWeight,
    #[msg("Only the mt_treasury program's upgrade authority (its ProgramData account) may initialise the protocol.")]
    NotUpgradeAuthority,
    #[msg("The native token mint has a freeze authority: its holder could freeze every vault. Use a mint without one.")]
    NativeMintHasFreezeAuthority,
    #[msg("The protocol fee vault holds less than that amount.")]
    InsufficientProtocolFees,

    // Bounties.
    #[msg("The bounty pool's available funds are below what this bounty reserves (reward + review fee × max submissions); fund the pool by proposal first.")]
    BountyPoolInsufficient,
    #[msg("Submission and review bonds must be greater than zero.")]
    ZeroBond,
    #[msg("Invalid bounty limits: max submissions must be 1 to 1000 and min reviewers at least 1.")]
    InvalidBountyLimits,
    #[msg("This proposal funds the bounty pool or creates a bounty: execute it with fund_bounty_pool or create_bounty (mt bounty create).")]
    UseBountyInstruction,
    #[msg("This proposal's action is not the one this instruction executes.")]
    WrongProposalAction,
    #[msg("The bounty takes no more submissions: its submission window has ended.")]
    SubmissionsClosed,
    #[msg("The bounty has reached its maximum number of submissions.")]
    BountyFull,
    #[msg("This wallet has already submitted work to this bounty (one submission per wallet per bounty).")]
    AlreadySubmitted,
    #[msg("This work (its content hash) has already been submitted in this model, to this or another bounty.")]
    WorkAlreadyClaimed,
    #[msg("This wallet has fewer accepted submissions in this model than the bounty requires.")]
    ReputationTooLow,
    #[msg("A contributor cannot review their own submission.")]
    SelfReview,
    #[msg("This wallet has already committed a review of this submission.")]
    AlreadyReviewed,
    #[msg("The bounty's commit window has ended: no new reviews.")]
    CommitWindowClosed,
    #[msg("Reveals open when the commit window ends.")]
    RevealNotOpen,
    #[msg("The bounty's reveal window has ended: an unrevealed review's bond is lost.")]
    RevealWindowClosed,
    #[msg("The choice and salt do not match the committed review.")]
    CommitmentMismatch,
    #[msg("This review has already been revealed.")]
    AlreadyRevealed,
    #[msg("The bounty's reveal window has not ended yet: submissions are finalised after it.")]
    ReviewsNotOver,
    #[msg("This submission has already been finalised.")]
    SubmissionAlreadyFinalized,
    #[msg("This submission has not been finalised yet (after the reveal window, by anyone: mt bounty finalize).")]
    SubmissionNotFinalized,
    #[msg("Not every submission of this bounty has been finalised yet.")]
    SubmissionsNotFinalized,
    #[msg("This bounty has already been settled.")]
    BountyAlreadySettled,
    #[msg("This bounty has not been settled yet: the award is fixed once every submission is finalised (mt bounty finalize).")]
    BountyNotSettled,
}
