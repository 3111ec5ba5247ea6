use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::TreasuryError;
use crate::events::ProposalCreated;
use crate::instructions::launch_model::MAX_QUERY_PRICE_PER_1K;
use crate::math::check_bps;
use crate::state::*;

/// Longest period (voting, hold-up, warm-up) governance may set: 365 days.
#[constant]
pub const MAX_GOVERNANCE_PERIOD_SECS: i64 = 365 * 24 * 60 * 60;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateProposalArgs {
    pub action: ProposalAction,
    /// Hash of the proposal's document; all zero for none (a signal needs one).
    pub content_hash: [u8; 32],
    /// Where to read the document, at most 200 bytes; empty for none (a signal needs one).
    pub uri: String,
}

/// Opens a proposal for votes until now + the model's voting period. The
/// proposer needs the model's minimum MT deposited and warmed up in their
/// voter record (its vote weight now); that record stays locked until the
/// voting ends (one deposit cannot back proposals from several wallets in
/// turn). Vote weights and the quorum base are fixed now: votes count only
/// MT deposited and warmed up before this moment (`Voter::vote_weight`), and
/// the quorum counts on the circulating supply now (see
/// `state::proposal::circulating_supply`: everything not held by the model
/// for no one, including sold MT not yet claimed). The model's rules now
/// apply to this proposal to its end. A transfer names its destination token
/// account, checked here and again at execution.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateProposalArgs)]
pub struct CreateProposal<'info> {
    #[account(mut)]
    pub proposer: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(mut, seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        mut,
        seeds = [seeds::VOTER, model.key().as_ref(), proposer.key().as_ref()],
        bump = voter.bump,
        has_one = model,
    )]
    pub voter: Box<Account<'info, Voter>>,

    #[account(
        init,
        payer = proposer,
        space = Proposal::space(args.uri.len().min(MAX_PROPOSAL_URI_LEN as usize)),
        seeds = [seeds::PROPOSAL, model.key().as_ref(), &model.proposal_count.to_le_bytes()],
        bump,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    /// The model's MT treasury (contributor-rewards pool and unsold sale MT),
    /// which belongs to no one until governance pays it out.
    #[account(seeds = [seeds::REWARDS_VAULT, model.key().as_ref()], bump = model.vault_bumps.rewards)]
    pub rewards_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// For a transfer: the token account it pays (native token for
    /// `TransferNative`, the model's MT for `TransferMt`). None otherwise.
    pub destination: Option<Box<InterfaceAccount<'info, TokenAccount>>>,

    pub system_program: Program<'info, System>,
}

impl CreateProposal<'_> {
    fn validate(&self, args: &CreateProposalArgs) -> Result<()> {
        require!(self.model.stage == Stage::Active, TreasuryError::ModelNotActive);
        require!(args.uri.len() <= MAX_PROPOSAL_URI_LEN as usize, TreasuryError::UriTooLong);
        require!(self.voter.deposited > 0, TreasuryError::NoVotingPower);
        let weight = self.voter.vote_weight(Clock::get()?.unix_timestamp);
        require!(weight >= self.model.governance.min_propose_mt, TreasuryError::BelowProposalThreshold);
        require!(weight > 0, TreasuryError::NoEligibleWeight);
        if args.action == ProposalAction::Signal {
            require!(args.content_hash != [0; 32] && !args.uri.is_empty(), TreasuryError::MissingContent);
        }
        check_action(&args.action, &self.model, &self.protocol)?;
        check_destination(&args.action, &self.model, &self.protocol, self.destination.as_deref())
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn create_proposal(ctx: Context<Self>, args: CreateProposalArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let a = &ctx.accounts;
        let circulating = circulating_supply(a.model.supply.hard_supply, &held_for_no_one(&a.model, a.rewards_vault.amount, now)?);
        let rules = a.model.governance;
        let voting_ends = now.checked_add(rules.voting_period_secs).ok_or(TreasuryError::MathOverflow)?;
        let (model_key, proposer_key, proposal_key) = (a.model.key(), a.proposer.key(), a.proposal.key());

        let model = &mut ctx.accounts.model;
        let index = model.proposal_count;
        model.proposal_count = index.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        let hard_supply = model.supply.hard_supply;

        let voter = &mut ctx.accounts.voter;
        voter.locked_until = voter.locked_until.max(voting_ends);

        let proposal = &mut ctx.accounts.proposal;
        proposal.set_inner(Proposal {
            model: model_key,
            index,
            proposer: proposer_key,
            action: args.action,
            content_hash: args.content_hash,
            uri: args.uri,
            state: ProposalState::Voting,
            created_at: now,
            voting_ends,
            quorum_bps: rules.quorum_bps,
            threshold_bps: rules.threshold_bps,
            hold_up_secs: rules.hold_up_secs,
            circulating_supply: circulating,
            max_vote_weight: hard_supply,
            yes: 0,
            no: 0,
            abstain: 0,
            votes: 0,
            finalized_at: 0,
            execute_after: 0,
            executed_at: 0,
            bump: ctx.bumps.proposal,
        });
        emit_cpi!(ProposalCreated {
            model: model_key,
            proposal: proposal_key,
            index,
            proposer: proposer_key,
            action: proposal.action,
            content_hash: proposal.content_hash,
            uri: proposal.uri.clone(),
            voting_ends,
            circulating_supply: circulating,
            quorum_bps: rules.quorum_bps,
            threshold_bps: rules.threshold_bps,
        });
        Ok(())
    }
}

/// The bounds of every action, checked when a proposal is created and again
/// when it executes (the protocol's minimum period may have changed).
pub fn check_action(action: &ProposalAction, model: &Model, protocol: &Protocol) -> Result<()> {
    let min = protocol.min_period_secs;
    match *action {
        ProposalAction::TransferNative { amount, .. } | ProposalAction::TransferMt { amount, .. } => {
            require!(amount > 0, TreasuryError::ZeroAmount);
        }
        ProposalAction::SetGovernance { rules } => {
            rules.check(model.supply.hard_supply, min, MAX_GOVERNANCE_PERIOD_SECS)?;
        }
        ProposalAction::SetRevenueRules { depositor_share_bps, warmup_secs } => {
            check_bps(depositor_share_bps)?;
            require!(warmup_secs >= min, TreasuryError::PeriodTooShort);
            require!(warmup_secs <= MAX_GOVERNANCE_PERIOD_SECS, TreasuryError::PeriodTooLong);
        }
        ProposalAction::SetPrice { input_per_1k, output_per_1k } => {
            for price in [input_per_1k, output_per_1k] {
                require!(price > 0, TreasuryError::ZeroPrice);
                require!(price <= MAX_QUERY_PRICE_PER_1K, TreasuryError::PriceTooHigh);
            }
        }
        ProposalAction::Signal => {}
        ProposalAction::FundBountyPool { amount } => require!(amount > 0, TreasuryError::ZeroAmount),
        ProposalAction::CreateBounty { terms } => terms.check(min)?,
    }
    Ok(())
}

/// A transfer's destination must be passed, be the account it names and
/// hold the token it sends; other actions take none.
pub fn check_destination(
    action: &ProposalAction,
    model: &Model,
    protocol: &Protocol,
    destination: Option<&InterfaceAccount<TokenAccount>>,
) -> Result<()> {
    let (expected, mint) = match *action {
        ProposalAction::TransferNative { destination, .. } => (destination, protocol.native_mint),
        ProposalAction::TransferMt { destination, .. } => (destination, model.mt_mint),
        _ => {
            require!(destination.is_none(), TreasuryError::DestinationRequired);
            return Ok(());
        }
    };
    let account = destination.ok_or(TreasuryError::DestinationRequired)?;
    require_keys_eq!(account.key(), expected, TreasuryError::WrongDestination);
    require_keys_eq!(account.mint, mint, TreasuryError::WrongDestinationMint);
    Ok(())
}
