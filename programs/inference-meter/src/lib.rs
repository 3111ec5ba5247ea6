//! `inference_meter`: purpose-bound money for paid inference.
//!
//! API users pre-pay into escrows addressed by the hash of their API key;
//! node operators stake and register keeper keys; keepers settle metered
//! runs in numbered batches, exactly once, moving money from escrows to the
//! models' revenue, the node operator and the protocol.
#![deny(arithmetic_overflow)]
#![deny(unused_must_use)]
#![allow(unexpected_cfgs)]
// Anchor 1.0.2's #[event_cpi] expands to a plain AccountInfo, which its own lint flags.
#![allow(deprecated)]

use anchor_lang::prelude::*;

pub mod entries;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;
pub mod vault;

pub use instructions::*;

declare_id!("99RGuGouvAUBULLukevZ1Y6AJn9SDwhZBsXgn5QfpUwX");

#[program]
pub mod inference_meter {
    use super::*;

    /// Creates the meter's configuration and vaults, linked to the protocol. Once, by the protocol admin.
    pub fn init_meter(ctx: Context<InitMeter>, args: InitMeterArgs) -> Result<()> {
        InitMeter::init_meter(ctx, args)
    }

    /// Replaces the meter's fees, minimum stake and periods. Protocol admin only.
    pub fn update_meter(ctx: Context<UpdateMeter>, args: InitMeterArgs) -> Result<()> {
        UpdateMeter::update_meter(ctx, args)
    }

    /// Opens an escrow for an API key (by its id, which signs), with optional allowed models and spend limit.
    pub fn open_escrow(ctx: Context<OpenEscrow>, args: OpenEscrowArgs) -> Result<()> {
        OpenEscrow::open_escrow(ctx, args)
    }

    /// Funds an escrow, provided it belongs to the owner the depositor expects.
    pub fn deposit_escrow(ctx: Context<DepositEscrow>, amount: u64, expected_owner: Pubkey) -> Result<()> {
        DepositEscrow::deposit_escrow(ctx, amount, expected_owner)
    }

    /// Announces a withdrawal; it can be taken after the notice period.
    pub fn request_withdrawal(ctx: Context<RequestWithdrawal>, amount: u64) -> Result<()> {
        RequestWithdrawal::request_withdrawal(ctx, amount)
    }

    /// Pays out a requested withdrawal once the notice period has passed.
    pub fn withdraw_escrow(ctx: Context<WithdrawEscrow>) -> Result<()> {
        WithdrawEscrow::withdraw_escrow(ctx)
    }

    /// Moves an escrow's balance, lanes and rules to a new API key.
    pub fn rotate_key(ctx: Context<RotateKey>) -> Result<()> {
        RotateKey::rotate_key(ctx)
    }

    /// Moves unallocated escrow money into a node's lane (opening it), so that node may settle against it. Owner only.
    pub fn allow_node(ctx: Context<AllowNode>, amount: u64) -> Result<()> {
        AllowNode::allow_node(ctx, amount)
    }

    /// Starts revoking a node's lane; the node can settle what it served until the notice ends. Owner only.
    pub fn request_revoke(ctx: Context<RequestRevoke>, node: Pubkey) -> Result<()> {
        RequestRevoke::request_revoke(ctx, node)
    }

    /// Closes a node's lane after the notice and returns its balance to the escrow. Owner only.
    pub fn revoke_node(ctx: Context<RevokeNode>, node: Pubkey) -> Result<()> {
        RevokeNode::revoke_node(ctx, node)
    }

    /// Closes an empty escrow and returns its rent to the owner.
    pub fn close_escrow(ctx: Context<CloseEscrow>) -> Result<()> {
        CloseEscrow::close_escrow(ctx)
    }

    /// Registers the caller's node with stake, a keeper hot key and an endpoint.
    pub fn register_node(ctx: Context<RegisterNode>, args: RegisterNodeArgs) -> Result<()> {
        RegisterNode::register_node(ctx, args)
    }

    /// Adds stake to the caller's node.
    pub fn add_stake(ctx: Context<AddStake>, amount: u64) -> Result<()> {
        AddStake::add_stake(ctx, amount)
    }

    /// Stops the node and starts the unbonding period of its stake.
    pub fn begin_unbonding(ctx: Context<BeginUnbonding>) -> Result<()> {
        BeginUnbonding::begin_unbonding(ctx)
    }

    /// Pays the node's stake back to its operator after the unbonding period.
    pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
        WithdrawStake::withdraw_stake(ctx)
    }

    /// Replaces the node's keeper hot key.
    pub fn set_keeper_key(ctx: Context<SetKeeperKey>, new_keeper: Pubkey) -> Result<()> {
        SetKeeperKey::set_keeper_key(ctx, new_keeper)
    }

    /// Publishes a new endpoint for the node.
    pub fn set_endpoint(ctx: Context<SetEndpoint>, endpoint: String) -> Result<()> {
        SetEndpoint::set_endpoint(ctx, endpoint)
    }

    /// Stops the node from settling, keeping its stake.
    pub fn deactivate_node(ctx: Context<DeactivateNode>) -> Result<()> {
        DeactivateNode::deactivate_node(ctx)
    }

    /// Lets an inactive node with enough stake settle again.
    pub fn activate_node(ctx: Context<ActivateNode>) -> Result<()> {
        ActivateNode::activate_node(ctx)
    }

    /// Takes part of a node's stake to the protocol fee vault, with a reason code. Protocol admin only.
    pub fn slash_node(ctx: Context<SlashNode>, amount: u64, reason: u16) -> Result<()> {
        SlashNode::slash_node(ctx, amount, reason)
    }

    /// Settles a node's next batch of metered runs, exactly once. Keeper key only.
    pub fn settle<'info>(ctx: Context<'info, Settle<'info>>, args: SettleArgs) -> Result<()> {
        Settle::settle(ctx, args)
    }

    /// Creates the caller's domain under a name, with a bond, a minimum node stake, a fee share and a notice period.
    pub fn create_domain(ctx: Context<CreateDomain>, args: CreateDomainArgs) -> Result<()> {
        CreateDomain::create_domain(ctx, args)
    }

    /// Changes a domain's minimum node stake and notice, and schedules a new fee share after the notice. Domain operator only.
    pub fn update_domain(ctx: Context<UpdateDomain>, args: UpdateDomainArgs) -> Result<()> {
        UpdateDomain::update_domain(ctx, args)
    }

    /// Closes a domain with no memberships left and returns its bond. Domain operator only.
    pub fn close_domain(ctx: Context<CloseDomain>) -> Result<()> {
        CloseDomain::close_domain(ctx)
    }

    /// Takes part of a domain's bond to the protocol fee vault, with a reason code. Protocol admin only.
    pub fn slash_domain(ctx: Context<SlashDomain>, amount: u64, reason: u16) -> Result<()> {
        SlashDomain::slash_domain(ctx, amount, reason)
    }

    /// Asks for the caller's node to join a domain. Node operator only.
    pub fn request_join(ctx: Context<RequestJoin>) -> Result<()> {
        RequestJoin::request_join(ctx)
    }

    /// Admits a node that asked to join. Domain operator only.
    pub fn admit_member(ctx: Context<AdmitMember>) -> Result<()> {
        AdmitMember::admit_member(ctx)
    }

    /// Removes a member (or refuses a request); it may settle what it served until the notice ends. Domain operator only.
    pub fn remove_member(ctx: Context<RemoveMember>) -> Result<()> {
        RemoveMember::remove_member(ctx)
    }

    /// Takes the caller's node out of a domain; it may settle what it served until the notice ends. Node operator only.
    pub fn leave_domain(ctx: Context<LeaveDomain>) -> Result<()> {
        LeaveDomain::leave_domain(ctx)
    }

    /// Closes an ended membership after its notice, returning the rent to the node operator.
    pub fn close_membership(ctx: Context<CloseMembership>) -> Result<()> {
        CloseMembership::close_membership(ctx)
    }

    /// Moves unallocated escrow money into a domain's lane, so its member nodes may settle against it. Owner only.
    pub fn allow_domain(ctx: Context<AllowDomain>, amount: u64) -> Result<()> {
        AllowDomain::allow_domain(ctx, amount)
    }
}
