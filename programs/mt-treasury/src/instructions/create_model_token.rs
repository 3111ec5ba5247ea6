use anchor_lang::prelude::*;
use anchor_lang::system_program::{self, Transfer};
use anchor_spl::token_2022::Token2022;
use anchor_spl::token_2022_extensions::spl_pod::optional_keys::OptionalNonZeroPubkey;
use anchor_spl::token_2022_extensions::spl_token_metadata_interface::state::TokenMetadata;
use anchor_spl::token_interface::{self, Mint, TokenMetadataInitialize};

use crate::errors::TreasuryError;
use crate::events::ModelTokenCreated;
use crate::state::*;

/// Longest Model Token name, in bytes.
#[constant]
pub const MAX_NAME_LEN: u32 = 32;
/// Longest Model Token symbol, in bytes.
#[constant]
pub const MAX_SYMBOL_LEN: u32 = 10;
/// Longest Model Token metadata URI, in bytes.
#[constant]
pub const MAX_URI_LEN: u32 = 200;

/// What wallets display for the Model Token, stored on the mint itself.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateModelTokenArgs {
    pub name: String,
    pub symbol: String,
    /// Off-chain JSON metadata (image, description), e.g. an Arweave or IPFS URL.
    pub uri: String,
}

/// Step 2 of 3 of a launch: creates the MT mint, a Token-2022 mint with
/// `MT_DECIMALS` decimals, no freeze authority, the model PDA as mint
/// authority, and its name, symbol and URI in the mint's own metadata
/// (metadata pointer + token metadata extensions).
#[event_cpi]
#[derive(Accounts)]
pub struct CreateModelToken<'info> {
    #[account(mut)]
    pub creator: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(
        mut,
        seeds = [seeds::MODEL, &model.id.to_le_bytes()],
        bump = model.bump,
        has_one = creator @ TreasuryError::NotCreator,
    )]
    pub model: Box<Account<'info, Model>>,

    #[account(
        init,
        payer = creator,
        seeds = [seeds::MT_MINT, model.key().as_ref()],
        bump,
        mint::decimals = MT_DECIMALS,
        mint::authority = model,
        mint::token_program = mt_token_program,
        extensions::metadata_pointer::authority = model,
        extensions::metadata_pointer::metadata_address = mt_mint,
    )]
    pub mt_mint: Box<InterfaceAccount<'info, Mint>>,

    pub mt_token_program: Program<'info, Token2022>,
    pub system_program: Program<'info, System>,
}

impl CreateModelToken<'_> {
    fn validate(&self, args: &CreateModelTokenArgs) -> Result<()> {
        require!(!self.protocol.paused, TreasuryError::ProtocolPaused);
        require!(self.model.stage == Stage::Launching, TreasuryError::NotLaunching);
        validate_metadata(args)
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn create_model_token(ctx: Context<Self>, args: CreateModelTokenArgs) -> Result<()> {
        let accounts = &ctx.accounts;
        let model_key = accounts.model.key();
        let mint_info = accounts.mt_mint.to_account_info();

        // Token metadata grows the mint account; it must hold the rent for its new size first.
        let metadata = TokenMetadata {
            update_authority: OptionalNonZeroPubkey::try_from(Some(model_key))?,
            mint: mint_info.key(),
            name: args.name.clone(),
            symbol: args.symbol.clone(),
            uri: args.uri.clone(),
            additional_metadata: vec![],
        };
        let new_len = mint_info.data_len().checked_add(metadata.tlv_size_of()?).ok_or(TreasuryError::MathOverflow)?;
        let shortfall = Rent::get()?.minimum_balance(new_len).saturating_sub(mint_info.lamports());
        if shortfall > 0 {
            system_program::transfer(
                CpiContext::new(
                    accounts.system_program.key(),
                    Transfer { from: accounts.creator.to_account_info(), to: mint_info.clone() },
                ),
                shortfall,
            )?;
        }

        let id = accounts.model.id.to_le_bytes();
        let bump = [accounts.model.bump];
        let signer: &[&[&[u8]]] = &[&[seeds::MODEL, &id, &bump]];
        token_interface::token_metadata_initialize(
            CpiContext::new_with_signer(
                accounts.mt_token_program.key(),
                TokenMetadataInitialize {
                    program_id: accounts.mt_token_program.to_account_info(),
                    metadata: mint_info.clone(),
                    update_authority: accounts.model.to_account_info(),
                    mint_authority: accounts.model.to_account_info(),
                    mint: mint_info.clone(),
                },
                signer,
            ),
            args.name.clone(),
            args.symbol.clone(),
            args.uri.clone(),
        )?;

        let model = &mut ctx.accounts.model;
        model.mt_mint = mint_info.key();
        model.mint_bump = ctx.bumps.mt_mint;
        emit_cpi!(ModelTokenCreated {
            model: model_key,
            mt_mint: mint_info.key(),
            decimals: MT_DECIMALS,
            name: args.name,
            symbol: args.symbol,
            uri: args.uri,
        });
        Ok(())
    }
}

/// Name 1–32 bytes, symbol 1–10 bytes, URI up to 200 bytes (the limits
/// wallets and explorers commonly assume).
pub fn validate_metadata(args: &CreateModelTokenArgs) -> Result<()> {
    require!(!args.name.is_empty() && args.name.len() <= MAX_NAME_LEN as usize, TreasuryError::InvalidName);
    require!(!args.symbol.is_empty() && args.symbol.len() <= MAX_SYMBOL_LEN as usize, TreasuryError::InvalidSymbol);
    require!(args.uri.len() <= MAX_URI_LEN as usize, TreasuryError::UriTooLong);
    Ok(())
}
