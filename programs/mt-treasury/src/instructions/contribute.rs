use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::allowlist::{self, MAX_PROOF_LEN};
use crate::errors::TreasuryError;
use crate::events::Contributed;
use crate::state::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ContributeArgs {
    /// Most native base units to pay. Near the hard cap the fill is partial
    /// and only what is bought is charged.
    pub amount: u64,
    /// Fewest MT base units to accept (0: any partial fill).
    pub min_mt: u64,
    /// Merkle proof of the contributor's wallet when the crowdfund has an allowlist; empty otherwise.
    pub proof: Vec<[u8; 32]>,
}

/// Buys MT in a model's crowdfund: pays native tokens into the raise vault
/// and records the MT bought in the contributor's `Contribution`, claimable
/// once the raise succeeds (or refundable if it fails).
#[event_cpi]
#[derive(Accounts)]
pub struct Contribute<'info> {
    #[account(mut)]
    pub contributor: Signer<'info>,

    #[account(seeds = [seeds::PROTOCOL], bump = protocol.bump)]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(address = protocol.native_mint @ TreasuryError::WrongNativeMint)]
    pub native_mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(mut, seeds = [seeds::MODEL, &model.id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,

    #[account(
        init_if_needed,
        payer = contributor,
        space = Contribution::SPACE,
        seeds = [seeds::CONTRIBUTION, model.key().as_ref(), contributor.key().as_ref()],
        bump,
    )]
    pub contribution: Box<Account<'info, Contribution>>,

    /// The contributor's native-token account paying for the MT.
    #[account(mut, token::mint = native_mint, token::token_program = native_token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(
        mut,
        seeds = [seeds::RAISE_VAULT, model.key().as_ref()],
        bump = model.vault_bumps.raise,
        token::mint = native_mint,
        token::authority = model,
        token::token_program = native_token_program,
    )]
    pub raise_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = protocol.native_token_program)]
    pub native_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl Contribute<'_> {
    fn validate(&self, args: &ContributeArgs) -> Result<()> {
        require!(!self.protocol.paused, TreasuryError::ProtocolPaused);
        let model = &self.model;
        require!(model.stage == Stage::Funding, TreasuryError::NotFunding);
        let now = Clock::get()?.unix_timestamp;
        let cf = &model.crowdfund;
        require!(now >= cf.start, TreasuryError::RaiseNotStarted);
        require!(cf.is_open(now), TreasuryError::RaiseEnded);
        if cf.allowlist_root != [0; 32] {
            require!(args.proof.len() <= MAX_PROOF_LEN, TreasuryError::ProofTooLong);
            require!(
                allowlist::verify(&cf.allowlist_root, &self.contributor.key(), &args.proof),
                TreasuryError::NotOnAllowlist
            );
        }
        require!(self.fill(args)?.mt >= args.min_mt, TreasuryError::FillBelowMinimum);
        Ok(())
    }

    fn fill(&self, args: &ContributeArgs) -> Result<Fill> {
        self.model.crowdfund.fill(self.model.supply.crowdfund, self.contribution.paid, args.amount)
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn contribute(ctx: Context<Self>, args: ContributeArgs) -> Result<()> {
        let fill = ctx.accounts.fill(&args)?;
        let accounts = &ctx.accounts;
        token_interface::transfer_checked(
            CpiContext::new(
                accounts.native_token_program.key(),
                TransferChecked {
                    from: accounts.source.to_account_info(),
                    mint: accounts.native_mint.to_account_info(),
                    to: accounts.raise_vault.to_account_info(),
                    authority: accounts.contributor.to_account_info(),
                },
            ),
            fill.cost,
            accounts.native_mint.decimals,
        )?;

        let model_key = ctx.accounts.model.key();
        let contributor_key = ctx.accounts.contributor.key();
        let contribution = &mut ctx.accounts.contribution;
        let first = contribution.paid == 0;
        if first {
            contribution.model = model_key;
            contribution.contributor = contributor_key;
            contribution.bump = ctx.bumps.contribution;
        }
        contribution.paid = contribution.paid.checked_add(fill.cost).ok_or(TreasuryError::MathOverflow)?;
        contribution.mt = contribution.mt.checked_add(fill.mt).ok_or(TreasuryError::MathOverflow)?;
        let (wallet_paid, wallet_mt) = (contribution.paid, contribution.mt);

        let model = &mut ctx.accounts.model;
        let cf = &mut model.crowdfund;
        cf.raised = cf.raised.checked_add(fill.cost).ok_or(TreasuryError::MathOverflow)?;
        cf.sold = cf.sold.checked_add(fill.mt).ok_or(TreasuryError::MathOverflow)?;
        if first {
            cf.contributors = cf.contributors.checked_add(1).ok_or(TreasuryError::MathOverflow)?;
        }
        let cf = model.crowdfund;
        let sold_out = cf.sold_out(model.supply.crowdfund)?;
        emit_cpi!(Contributed {
            model: model_key,
            contributor: contributor_key,
            paid: fill.cost,
            mt: fill.mt,
            offered: args.amount,
            wallet_paid,
            wallet_mt,
            raised: cf.raised,
            sold: cf.sold,
            soft_cap: cf.soft_cap,
            hard_cap: cf.hard_cap,
            contributors: cf.contributors,
            sold_out,
        });
        Ok(())
    }
}
