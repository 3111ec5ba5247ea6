use anchor_lang::prelude::*;

use crate::errors::MeterError;
use crate::events::EscrowOpened;
use crate::state::{seeds, Escrow, MAX_ALLOWED_MODELS};

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct OpenEscrowArgs {
    /// Model ids this key may pay for (at most 8); `None` for any model.
    pub allowed_models: Option<Vec<u64>>,
    /// Most this escrow may ever be charged in total; `None` for no cap.
    pub spend_limit: Option<u64>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct OpenEscrow<'info> {
    /// Becomes the escrow's owner; pays its rent.
    #[account(mut)]
    pub owner: Signer<'info>,

    /// The API key's id (the ed25519 key whose seed is sha256 of the API
    /// key). Its signature proves the opener holds the key, so nobody can
    /// open an escrow at someone else's key id first.
    pub key: Signer<'info>,

    #[account(
        init,
        payer = owner,
        space = 8 + Escrow::INIT_SPACE,
        seeds = [seeds::ESCROW, key.key().as_ref()],
        bump,
    )]
    pub escrow: Box<Account<'info, Escrow>>,

    pub system_program: Program<'info, System>,
}

impl OpenEscrow<'_> {
    fn validate(&self, args: &OpenEscrowArgs) -> Result<()> {
        if let Some(models) = &args.allowed_models {
            require!(!models.is_empty(), MeterError::EmptyAllowedModels);
            require!(models.len() <= MAX_ALLOWED_MODELS as usize, MeterError::TooManyAllowedModels);
        }
        require!(args.spend_limit != Some(0), MeterError::ZeroAmount);
        Ok(())
    }
}

impl OpenEscrow<'_> {
    /// Opens an empty escrow for an API key, with its (permanent) rules.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn open_escrow(ctx: Context<Self>, args: OpenEscrowArgs) -> Result<()> {
        let allowed_models = args.allowed_models.unwrap_or_default();
        let key_hash = ctx.accounts.key.key().to_bytes();
        ctx.accounts.escrow.set_inner(Escrow {
            owner: ctx.accounts.owner.key(),
            key_hash,
            balance: 0,
            lanes: Vec::new(),
            spent: 0,
            unpaid: 0,
            spend_limit: args.spend_limit,
            allowed_models: allowed_models.clone(),
            withdrawal_amount: 0,
            withdrawal_requested_at: 0,
            rotated_to: None,
            rotated_at: 0,
            opened_at: Clock::get()?.unix_timestamp,
            bump: ctx.bumps.escrow,
        });
        emit_cpi!(EscrowOpened {
            escrow: ctx.accounts.escrow.key(),
            owner: ctx.accounts.owner.key(),
            key_hash,
            allowed_models,
            spend_limit: args.spend_limit,
        });
        Ok(())
    }
}
