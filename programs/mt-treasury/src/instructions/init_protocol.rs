use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions};
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::TreasuryError;
use crate::events::ProtocolInitialized;
use crate::math::check_bps;
use crate::state::{seeds, Protocol};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct InitProtocolArgs {
    pub setup_fee: u64,
    pub protocol_fee_bps: u16,
    pub swap_fee_bps: u16,
    pub swap_protocol_share_bps: u16,
    pub min_period_secs: i64,
}

/// Creates the protocol, once. Only the program's upgrade authority may: the
/// `admin` signer must be the upgrade authority recorded in the program's
/// ProgramData account (the BPF upgradeable loader's PDA of the program id),
/// so nobody can front-run the deployer and pick the admin or the native
/// mint. On the local chain, where the programs run as host builtins, the
/// chain creates that ProgramData account with a configurable authority
/// (`localnet --upgrade-authority`), so the check is the same everywhere.
/// The native mint must be plain (see [`require_plain_mint`]) and have no
/// freeze authority, whose holder could freeze every vault.
#[event_cpi]
#[derive(Accounts)]
pub struct InitProtocol<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,

    /// The mt_treasury program's ProgramData: its upgrade authority is the
    /// only key that may initialise the protocol.
    #[account(
        seeds = [crate::ID.as_ref()],
        bump,
        seeds::program = anchor_lang::solana_program::bpf_loader_upgradeable::ID,
        constraint = program_data.upgrade_authority_address == Some(admin.key()) @ TreasuryError::NotUpgradeAuthority,
    )]
    pub program_data: Box<Account<'info, ProgramData>>,

    #[account(
        init,
        payer = admin,
        space = 8 + Protocol::INIT_SPACE,
        seeds = [seeds::PROTOCOL],
        bump,
    )]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(mint::token_program = token_program)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        init,
        payer = admin,
        seeds = [seeds::FEE_VAULT],
        bump,
        token::mint = native_mint,
        token::authority = protocol,
        token::token_program = token_program,
    )]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl InitProtocol<'_> {
    fn validate(&self, args: &InitProtocolArgs) -> Result<()> {
        check_bps(args.protocol_fee_bps)?;
        check_bps(args.swap_fee_bps)?;
        check_bps(args.swap_protocol_share_bps)?;
        require!(args.min_period_secs > 0, TreasuryError::PeriodTooShort);
        require!(self.native_mint.freeze_authority.is_none(), TreasuryError::NativeMintHasFreezeAuthority);
        require_plain_mint(&self.native_mint.to_account_info())
    }
}

/// Token-2022 mints may carry extensions that change what arrives
/// (transfer fees), run foreign code (transfer hooks), or let a third party
/// move or freeze our vaults' funds (permanent delegate, default frozen
/// state, pausable). Vault accounting assumes none of that, so only
/// descriptive extensions are accepted.
pub fn require_plain_mint(mint: &AccountInfo) -> Result<()> {
    if mint.owner != &anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    let harmless = |t: &ExtensionType| {
        matches!(
            t,
            ExtensionType::MetadataPointer
                | ExtensionType::TokenMetadata
                | ExtensionType::GroupPointer
                | ExtensionType::TokenGroup
                | ExtensionType::GroupMemberPointer
                | ExtensionType::TokenGroupMember
        )
    };
    let extensions = state.get_extension_types()?;
    require!(extensions.iter().all(harmless), TreasuryError::UnsupportedMintExtension);
    Ok(())
}

impl InitProtocol<'_> {
    #[access_control(ctx.accounts.validate(&args))]
    pub fn init_protocol(ctx: Context<Self>, args: InitProtocolArgs) -> Result<()> {
        let protocol = &mut ctx.accounts.protocol;
        protocol.set_inner(Protocol {
            admin: ctx.accounts.admin.key(),
            native_mint: ctx.accounts.native_mint.key(),
            native_token_program: ctx.accounts.token_program.key(),
            fee_vault: ctx.accounts.fee_vault.key(),
            setup_fee: args.setup_fee,
            protocol_fee_bps: args.protocol_fee_bps,
            swap_fee_bps: args.swap_fee_bps,
            swap_protocol_share_bps: args.swap_protocol_share_bps,
            min_period_secs: args.min_period_secs,
            paused: false,
            model_count: 0,
            bump: ctx.bumps.protocol,
            fee_vault_bump: ctx.bumps.fee_vault,
            pending_admin: None,
        });
        emit_cpi!(ProtocolInitialized {
            admin: protocol.admin,
            native_mint: protocol.native_mint,
            fee_vault: protocol.fee_vault,
            setup_fee: args.setup_fee,
            protocol_fee_bps: args.protocol_fee_bps,
            swap_fee_bps: args.swap_fee_bps,
            swap_protocol_share_bps: args.swap_protocol_share_bps,
            min_period_secs: args.min_period_secs,
        });
        Ok(())
    }
}
