//! `mt_treasury`: the three-stage treasury of a community-owned model.
//!
//! Stage 1, launch: a creator mints nothing yet but fixes the Model Token's
//! supply split, crowdfund terms, governance and revenue rules, and pays the
//! set-up fee. Stage 2, crowdfund: contributors buy MT; the raise finalises
//! into an active model with a provably fixed supply, or fails and refunds.
//! Stage 3, mini-DAO: MT holders vote, share query revenue and trade MT.
#![deny(arithmetic_overflow)]
#![deny(unused_must_use)]
#![allow(unexpected_cfgs)]
// Anchor 1.0.2's #[event_cpi] expands to a plain AccountInfo, which its own lint flags.
#![allow(deprecated)]

use anchor_lang::prelude::*;

pub mod allowlist;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;
pub mod vault;

pub use instructions::*;
use state::{ReviewChoice, VoteChoice};

declare_id!("6ehw9YdXPyTwGMH8Ubyq9D2NeZCKoAy5WQMXsWKp1zfB");

#[program]
pub mod mt_treasury {
    use super::*;

    /// Creates the protocol: native token, fees and the fee vault. Once, by the program's upgrade authority.
    pub fn init_protocol(ctx: Context<InitProtocol>, args: InitProtocolArgs) -> Result<()> {
        InitProtocol::init_protocol(ctx, args)
    }

    /// Changes fees, minimum periods, the pause switch, or nominates a new
    /// admin. Admin only.
    pub fn update_protocol(ctx: Context<UpdateProtocol>, args: UpdateProtocolArgs) -> Result<()> {
        UpdateProtocol::update_protocol(ctx, args)
    }

    /// Returns a claimed or refunded contribution record's rent to its contributor.
    pub fn close_contribution(ctx: Context<CloseContribution>) -> Result<()> {
        CloseContribution::close_contribution(ctx)
    }

    /// Pays native tokens out of the protocol fee vault to an account the admin names. Admin only.
    pub fn withdraw_protocol_fees(ctx: Context<WithdrawProtocolFees>, amount: u64) -> Result<()> {
        WithdrawProtocolFees::withdraw_protocol_fees(ctx, amount)
    }

    /// The nominated admin takes over the protocol.
    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        AcceptAdmin::accept_admin(ctx)
    }

    /// Launch step 1/3: fixes a new model's supply split, vesting, crowdfund
    /// terms, governance, revenue and query-price rules; charges the set-up fee.
    pub fn launch_model(ctx: Context<LaunchModel>, args: LaunchModelArgs) -> Result<()> {
        LaunchModel::launch_model(ctx, args)
    }

    /// Launch step 2/3: creates the model's MT mint (Token-2022) with its name, symbol and URI on the mint.
    pub fn create_model_token(ctx: Context<CreateModelToken>, args: CreateModelTokenArgs) -> Result<()> {
        CreateModelToken::create_model_token(ctx, args)
    }

    /// Launch step 3/3: creates the model's vaults and opens its crowdfund.
    pub fn open_model_vaults(ctx: Context<OpenModelVaults>) -> Result<()> {
        OpenModelVaults::open_model_vaults(ctx)
    }

    /// Buys MT in an open crowdfund (partial fill at the hard cap); MT is claimable once the raise succeeds.
    pub fn contribute(ctx: Context<Contribute>, args: ContributeArgs) -> Result<()> {
        Contribute::contribute(ctx, args)
    }

    /// Closes a due raise, by anyone, once: success mints the fixed supply and
    /// pays out the proceeds; failure opens refunds.
    pub fn finalize_raise(ctx: Context<FinalizeRaise>) -> Result<()> {
        FinalizeRaise::finalize_raise(ctx)
    }

    /// Sends a contributor the MT they bought, once, after a successful raise.
    pub fn claim_mt(ctx: Context<ClaimMt>) -> Result<()> {
        ClaimMt::claim_mt(ctx)
    }

    /// Returns a contributor's payment, once, after a failed raise.
    pub fn refund(ctx: Context<Refund>) -> Result<()> {
        Refund::refund(ctx)
    }

    /// Sends the creator their vested, unclaimed MT.
    pub fn claim_vested(ctx: Context<ClaimVested>) -> Result<()> {
        ClaimVested::claim_vested(ctx)
    }

    /// Pays native tokens into a model's revenue: the depositors' share to the
    /// reward accumulator, the rest to the model treasury.
    pub fn deposit_revenue(ctx: Context<DepositRevenue>, amount: u64) -> Result<()> {
        DepositRevenue::deposit_revenue(ctx, amount)
    }

    /// Deposits MT into the owner's voter record: after its warm-up it earns revenue and votes on proposals created from then on.
    pub fn deposit_mt(ctx: Context<DepositMt>, amount: u64) -> Result<()> {
        DepositMt::deposit_mt(ctx, amount)
    }

    /// Takes MT out of the owner's voter record, unless a vote or proposal still locks it.
    pub fn withdraw_mt(ctx: Context<WithdrawMt>, amount: u64) -> Result<()> {
        WithdrawMt::withdraw_mt(ctx, amount)
    }

    /// Settles a voter record's rewards and starts its warmed-up MT earning; anyone may call it.
    pub fn checkpoint_voter(ctx: Context<CheckpointVoter>) -> Result<()> {
        CheckpointVoter::checkpoint_voter(ctx)
    }

    /// Pays the owner the revenue their deposited MT has earned.
    pub fn claim_rewards(ctx: Context<ClaimRewards>) -> Result<()> {
        ClaimRewards::claim_rewards(ctx)
    }

    /// Opens a proposal (treasury transfer, rule or price change, or signal) for a vote.
    pub fn create_proposal(ctx: Context<CreateProposal>, args: CreateProposalArgs) -> Result<()> {
        CreateProposal::create_proposal(ctx, args)
    }

    /// Votes yes, no or abstain, once per proposal, with the owner's MT deposited and warmed up before the proposal was created.
    pub fn cast_vote(ctx: Context<CastVote>, choice: VoteChoice) -> Result<()> {
        CastVote::cast_vote(ctx, choice)
    }

    /// Closes a proposal's voting (after its end, or once the outcome is certain): passed or failed. Anyone.
    pub fn finalize_proposal(ctx: Context<FinalizeProposal>) -> Result<()> {
        FinalizeProposal::finalize_proposal(ctx)
    }

    /// Carries out a passed proposal after its hold-up period, once. Anyone.
    pub fn execute_proposal(ctx: Context<ExecuteProposal>) -> Result<()> {
        ExecuteProposal::execute_proposal(ctx)
    }

    /// Withdraws a proposal nobody has voted on yet. Proposer only.
    pub fn cancel_proposal(ctx: Context<CancelProposal>) -> Result<()> {
        CancelProposal::cancel_proposal(ctx)
    }

    /// Returns a vote record's rent to its voter once the proposal takes no more votes.
    pub fn close_vote_record(ctx: Context<CloseVoteRecord>) -> Result<()> {
        CloseVoteRecord::close_vote_record(ctx)
    }

    /// Returns an empty, unlocked voter record's rent to its owner.
    pub fn close_voter(ctx: Context<CloseVoter>) -> Result<()> {
        CloseVoter::close_voter(ctx)
    }

    /// Seeds the model's constant-product market with its locked liquidity, once the raise succeeded. Anyone.
    pub fn open_market(ctx: Context<OpenMarket>) -> Result<()> {
        OpenMarket::open_market(ctx)
    }

    /// Buys MT with native tokens or sells MT for them, with a minimum to receive.
    pub fn swap(ctx: Context<Swap>, args: SwapArgs) -> Result<()> {
        Swap::swap(ctx, args)
    }

    /// Executes a passed FundBountyPool proposal: treasury native tokens into the model's bounty pool. Anyone.
    pub fn fund_bounty_pool(ctx: Context<FundBountyPool>) -> Result<()> {
        FundBountyPool::fund_bounty_pool(ctx)
    }

    /// Executes a passed CreateBounty proposal: a bounty whose reward and review fees are reserved from the pool. Anyone.
    pub fn create_bounty(ctx: Context<CreateBounty>) -> Result<()> {
        CreateBounty::create_bounty(ctx)
    }

    /// Submits work (content hash + URI) to a bounty, once per wallet and once per piece of work, posting the bond.
    pub fn submit_work(ctx: Context<SubmitWork>, args: SubmitWorkArgs) -> Result<()> {
        SubmitWork::submit_work(ctx, args)
    }

    /// Commits a hidden review of a submission with the reviewer's MT snapshot weight, posting the review bond.
    pub fn commit_review(ctx: Context<CommitReview>, commitment: [u8; 32]) -> Result<()> {
        CommitReview::commit_review(ctx, commitment)
    }

    /// Reveals a committed review (choice and salt) in the reveal window.
    pub fn reveal_review(ctx: Context<RevealReview>, choice: ReviewChoice, salt: [u8; 32]) -> Result<()> {
        RevealReview::reveal_review(ctx, choice, salt)
    }

    /// Decides a submission after the reveal window: accepted, rejected, spam or unreviewed. Anyone.
    pub fn finalize_submission(ctx: Context<FinalizeSubmission>) -> Result<()> {
        FinalizeSubmission::finalize_submission(ctx)
    }

    /// Fixes a bounty's award per accepted submission and returns the unused reservation to the pool. Anyone.
    pub fn settle_bounty(ctx: Context<SettleBounty>) -> Result<()> {
        SettleBounty::settle_bounty(ctx)
    }

    /// Pays a contributor their award and bond (or bond back), once.
    pub fn claim_submission(ctx: Context<ClaimSubmission>) -> Result<()> {
        ClaimSubmission::claim_submission(ctx)
    }

    /// Pays a reviewer their bond and fee share (or the bond less its slash), once.
    pub fn claim_review(ctx: Context<ClaimReview>) -> Result<()> {
        ClaimReview::claim_review(ctx)
    }
}
