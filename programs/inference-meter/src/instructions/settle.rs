use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use mt_treasury::program::MtTreasury;
use mt_treasury::state::{seeds as treasury_seeds, Model, Protocol, Stage, SETTLE_WINDOW_SECS};

use crate::entries::{EntryReader, MAX_MODELS_PER_BATCH, MAX_MODELS_PER_ENTRY};
use crate::errors::MeterError;
use crate::events::{BatchSettled, EntryShortfall, EscrowDebit, ModelCredit};
use crate::math::{distribute, mul_div_floor, share_cost, split, BPS_DENOMINATOR};
use crate::state::{seeds, Domain, Escrow, Membership, MeterConfig, Node, NodeStatus};
use crate::vault::pay_out;

/// Accounts per model in the remaining accounts: the model, its revenue
/// vault and its treasury vault (checked by `mt_treasury::deposit_revenue`).
pub const ACCOUNTS_PER_MODEL: usize = 3;

#[derive(AnchorSerialize, AnchorDeserialize, Clone)]
pub struct SettleArgs {
    /// Must be exactly the node's `last_batch_seq + 1`.
    pub batch_seq: u64,
    /// The keeper's sequence numbers of the runs in this batch, inclusive:
    /// `first_run_seq` must be above the node's `last_run_seq`, and the range
    /// must hold at least as many numbers as the entries have runs.
    pub first_run_seq: u64,
    pub last_run_seq: u64,
    /// Merkle root of the run receipts the keeper signed for this batch.
    pub receipts_root: [u8; 32],
    /// Entries' `served_at` is this plus their offset (unix seconds).
    pub served_base: i64,
    /// Number of model groups at the head of the remaining accounts.
    pub model_count: u8,
    /// Entries in the compact encoding of [`crate::entries`].
    pub entries: Vec<u8>,
}

/// Remaining accounts: `model_count` × (model, revenue vault, treasury
/// vault), each group once and in ascending model address order, all
/// writable; then the escrows, each once, ascending, writable, each with a
/// lane for this node — or, when settling against a domain's lanes, each
/// with a lane for the domain. Every account but `keeper` and the program may
/// come from an address lookup table.
///
/// The lane selector is the three optional domain accounts: all absent (the
/// program id in their places) debits the node's own lanes; all present
/// debits the lanes of `membership.domain`, which this node must be a member
/// of, and pays the domain's fee out of the operator's cut. One batch never
/// mixes the two.
#[event_cpi]
#[derive(Accounts)]
pub struct Settle<'info> {
    /// The node's keeper hot key.
    pub keeper: Signer<'info>,

    #[account(
        mut,
        seeds = [seeds::NODE, node.operator.as_ref()],
        bump = node.bump,
        has_one = keeper @ MeterError::NotNodeKeeper,
    )]
    pub node: Box<Account<'info, Node>>,

    /// Authority of the escrow vault; signs the payments out of it.
    #[account(
        seeds = [seeds::METER],
        bump = meter.bump,
        has_one = protocol,
        has_one = escrow_vault,
        has_one = native_mint,
    )]
    pub meter: Box<Account<'info, MeterConfig>>,

    #[account(
        seeds = [treasury_seeds::PROTOCOL],
        bump = protocol.bump,
        seeds::program = mt_treasury::ID,
        has_one = fee_vault,
    )]
    pub protocol: Box<Account<'info, Protocol>>,

    #[account(mut)]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// The protocol's fee vault receives the settlement fee.
    #[account(mut)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    /// Receives the operator share: any native-token account of the node's operator.
    #[account(
        mut,
        token::mint = native_mint,
        token::authority = node.operator,
        token::token_program = token_program,
    )]
    pub operator_account: Box<InterfaceAccount<'info, TokenAccount>>,

    pub native_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(address = meter.native_token_program)]
    pub token_program: Interface<'info, TokenInterface>,

    pub treasury_program: Program<'info, MtTreasury>,
    /// CHECK: mt_treasury's emit_cpi! authority, fixed by its seeds; passed through to deposit_revenue.
    #[account(seeds = [b"__event_authority"], bump, seeds::program = mt_treasury::ID)]
    pub treasury_event_authority: UncheckedAccount<'info>,

    /// Domain lanes only: this node's membership of the domain (checked
    /// against `node` and `domain` in `validate`).
    pub membership: Option<Box<Account<'info, Membership>>>,
    /// Domain lanes only: the domain whose lanes the batch debits.
    pub domain: Option<Box<Account<'info, Domain>>>,
    /// Domain lanes only: receives the domain's fee; any native-token
    /// account of the domain's operator. Absent when the node's operator is
    /// the domain's: then `operator_account` takes both shares (Anchor
    /// refuses one writable account in two places).
    #[account(mut)]
    pub domain_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
}

impl Settle<'_> {
    fn validate(&self, args: &SettleArgs) -> Result<()> {
        let expected = self.node.last_batch_seq.checked_add(1).ok_or(MeterError::MathOverflow)?;
        require!(args.batch_seq >= expected, MeterError::BatchAlreadySettled);
        require!(args.batch_seq == expected, MeterError::BatchSeqGap);
        require!(args.first_run_seq > self.node.last_run_seq, MeterError::RunsAlreadySettled);
        require!(args.last_run_seq >= args.first_run_seq, MeterError::InvalidRunRange);
        match self.node.status {
            NodeStatus::Active => {}
            NodeStatus::Inactive => return err!(MeterError::NodeInactive),
            NodeStatus::Unbonding => return err!(MeterError::NodeUnbonding),
        }
        require!(self.node.stake >= self.meter.min_node_stake && self.node.stake > 0, MeterError::InsufficientStake);
        require!(!args.entries.is_empty(), MeterError::EmptyBatch);
        require!(args.model_count as usize <= MAX_MODELS_PER_BATCH, MeterError::TooManyModels);
        self.validate_domain()
    }

    /// The domain accounts come all together or not at all, belong to this
    /// node and to each other, and the membership still allows settling.
    fn validate_domain(&self) -> Result<()> {
        let (membership, domain) = match (&self.membership, &self.domain) {
            (None, None) if self.domain_account.is_none() => return Ok(()),
            (Some(m), Some(d)) => (m, d),
            _ => return err!(MeterError::DomainAccountsMismatch),
        };
        let fee_account_ok = match &self.domain_account {
            Some(a) => a.owner == domain.operator && a.mint == self.native_mint.key(),
            // operator_account is already checked to be the node operator's.
            None => self.node.operator == domain.operator,
        };
        require!(
            membership.node == self.node.key() && membership.domain == domain.key() && fee_account_ok,
            MeterError::DomainAccountsMismatch
        );
        // The domain's minimum stake is checked at join and admission, not
        // here: raising it (or a slash) must not void runs already served;
        // the domain operator removes a member it no longer wants.
        membership.check_may_settle(Clock::get()?.unix_timestamp)
    }
}

/// Running totals of one batch.
#[derive(Default)]
struct Totals {
    entries: u16,
    runs: u64,
    input_tokens: u64,
    output_tokens: u64,
    cost: u64,
    charged: u64,
}

fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| error!(MeterError::MathOverflow))
}

/// Checks that `infos` are distinct and in ascending address order, and writable.
fn check_listed_once<'a>(infos: impl Iterator<Item = &'a AccountInfo<'a>>) -> Result<()> {
    let mut previous: Option<&Pubkey> = None;
    for info in infos {
        require!(info.is_writable, MeterError::AccountNotWritable);
        if let Some(p) = previous {
            require!(p < info.key, MeterError::DuplicateOrUnsortedAccounts);
        }
        previous = Some(info.key);
    }
    Ok(())
}

impl<'info> Settle<'info> {
    /// Settles batch `batch_seq`: prices every entry from its models' prices
    /// at the time it was served, debits each escrow's lane for this node
    /// (never below zero; what it cannot pay is recorded as a shortfall), and
    /// pays the protocol
    /// fee, the operator share and, by one `deposit_revenue` per model, the
    /// models' revenue.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn settle(ctx: Context<'info, Self>, args: SettleArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let model_count = args.model_count as usize;
        let remaining = ctx.remaining_accounts;
        let model_accounts = model_count * ACCOUNTS_PER_MODEL;
        require!(remaining.len() > model_accounts, MeterError::MissingAccounts);
        let (model_infos, escrow_infos) = remaining.split_at(model_accounts);

        // Models: mt_treasury's Model accounts (Account checks owner and
        // discriminator), active, each once.
        check_listed_once(model_infos.iter().step_by(ACCOUNTS_PER_MODEL))?;
        let mut models: Vec<Account<'info, Model>> = Vec::with_capacity(model_count);
        for info in model_infos.iter().step_by(ACCOUNTS_PER_MODEL) {
            let model = Account::<Model>::try_from(info)?;
            require!(model.stage == Stage::Active, MeterError::ModelNotActive);
            models.push(model);
        }
        // Escrows, each once, each with a lane for this node (or its
        // domain): the owner's allowance is the only money this node may take.
        check_listed_once(escrow_infos.iter())?;
        let membership = ctx.accounts.membership.as_deref();
        let domain = ctx.accounts.domain.as_deref();
        let (lane_key, no_lane) = match domain {
            Some(d) => (d.key(), MeterError::NoLaneForDomain),
            None => (ctx.accounts.node.key(), MeterError::NoLaneForNode),
        };
        let mut escrows: Vec<Account<'info, Escrow>> = Vec::with_capacity(escrow_infos.len());
        let mut lanes: Vec<usize> = Vec::with_capacity(escrow_infos.len());
        for info in escrow_infos {
            let escrow = Account::<Escrow>::try_from(info)?;
            let lane = escrow.lane_index(&lane_key).ok_or(no_lane)?;
            if let Some(d) = domain {
                escrow.check_domain_lane(lane, d.serial)?;
            }
            lanes.push(lane);
            escrows.push(escrow);
        }
        // The domain fee of a batch is the lowest in effect when any of its
        // runs was served, so a member never pays a fee raised after it served.
        let mut domain_fee_bps = BPS_DENOMINATOR as u16;
        let oldest_settleable = now.checked_sub(SETTLE_WINDOW_SECS).ok_or(MeterError::MathOverflow)?;

        let registered_at = ctx.accounts.node.registered_at;
        let mut model_charged = [0u64; MAX_MODELS_PER_BATCH];
        let mut escrow_debits: Vec<EscrowDebit> =
            escrows.iter().map(|e| EscrowDebit { escrow: e.key(), charged: 0, shortfall: 0 }).collect();
        let mut shortfalls: Vec<EntryShortfall> = Vec::new();
        let mut totals = Totals::default();

        let mut reader = EntryReader::new(&args.entries);
        while let Some(entry) = reader.next_entry()? {
            entry.check()?;
            let escrow_index = entry.escrow as usize;
            require!(escrow_index < escrows.len(), MeterError::UnknownAccountIndex);
            let offset = i64::try_from(entry.served_offset).map_err(|_| error!(MeterError::MathOverflow))?;
            let served_at = args.served_base.checked_add(offset).ok_or(MeterError::MathOverflow)?;
            require!(served_at <= now, MeterError::ServedInFuture);
            require!(served_at >= registered_at, MeterError::ServedBeforeRegistration);
            // Runs older than the window may have been served under a price
            // the model no longer remembers.
            require!(served_at >= oldest_settleable, MeterError::RunTooOld);
            if let (Some(m), Some(d)) = (membership, domain) {
                m.check_served(served_at)?;
                domain_fee_bps = domain_fee_bps.min(d.fee_at(served_at));
            }

            let escrow = &mut escrows[escrow_index];
            let lane = lanes[escrow_index];
            let shares = entry.shares();
            let mut costs = [0u64; MAX_MODELS_PER_ENTRY];
            for (cost, share) in costs.iter_mut().zip(shares) {
                let model = models.get(share.model as usize).ok_or(MeterError::UnknownAccountIndex)?;
                require!(escrow.allows(model.id), MeterError::ModelNotAllowed);
                let (input_per_1k, output_per_1k) = model.pricing.at(served_at);
                *cost = share_cost(entry.input_tokens, entry.output_tokens, input_per_1k, output_per_1k, share.weight_bps)?;
            }
            let costs = &costs[..shares.len()];
            let cost = costs.iter().try_fold(0u64, |acc, c| add(acc, *c))?;
            let charged = cost.min(escrow.available(lane));
            let mut parts = [0u64; MAX_MODELS_PER_ENTRY];
            distribute(costs, charged, &mut parts[..shares.len()])?;
            for (share, part) in shares.iter().zip(parts) {
                let slot = &mut model_charged[share.model as usize];
                *slot = add(*slot, part)?;
            }

            let shortfall = cost - charged;
            let l = &mut escrow.lanes[lane];
            l.balance = l.balance.checked_sub(charged).ok_or(MeterError::MathOverflow)?;
            l.spent = add(l.spent, charged)?;
            escrow.spent = add(escrow.spent, charged)?;
            escrow.unpaid = add(escrow.unpaid, shortfall)?;
            let debit = &mut escrow_debits[escrow_index];
            debit.charged = add(debit.charged, charged)?;
            debit.shortfall = add(debit.shortfall, shortfall)?;
            if shortfall > 0 {
                shortfalls.push(EntryShortfall { entry: totals.entries, escrow: escrow.key(), cost, charged });
            }

            totals.entries = totals.entries.checked_add(1).ok_or(MeterError::MathOverflow)?;
            totals.runs = add(totals.runs, entry.runs)?;
            totals.input_tokens = add(totals.input_tokens, entry.input_tokens)?;
            totals.output_tokens = add(totals.output_tokens, entry.output_tokens)?;
            totals.cost = add(totals.cost, cost)?;
            totals.charged = add(totals.charged, charged)?;
        }
        require!(totals.entries > 0, MeterError::EmptyBatch);
        // Each run has its own sequence number, so a range narrower than the
        // runs it claims to cover is not a real batch.
        let range_len = (args.last_run_seq - args.first_run_seq).checked_add(1).ok_or(MeterError::MathOverflow)?;
        require!(totals.runs <= range_len, MeterError::InvalidRunRange);

        // Split each model's total once, then pay: one transfer each to the
        // fee vault and the operator, one deposit_revenue per model.
        let meter = &ctx.accounts.meter;
        let (mut to_protocol, mut to_operator, mut to_models) = (0u64, 0u64, 0u64);
        let mut credits: Vec<ModelCredit> = Vec::with_capacity(model_count);
        for (model, charged) in models.iter().zip(model_charged) {
            let s = split(charged, meter.settlement_fee_bps, meter.operator_share_bps)?;
            to_protocol = add(to_protocol, s.to_protocol)?;
            to_operator = add(to_operator, s.to_operator)?;
            to_models = add(to_models, s.to_model)?;
            credits.push(ModelCredit { model: model.key(), charged, revenue: s.to_model });
        }

        // The domain's fee comes out of the operator's cut, rounded down;
        // the escrow never pays more for a domain run than for a node run.
        let to_domain = match domain {
            Some(_) => mul_div_floor(to_operator, domain_fee_bps as u64, BPS_DENOMINATOR)?,
            None => 0,
        };
        to_operator -= to_domain;

        let a = &ctx.accounts;
        let vault = a.escrow_vault.to_account_info();
        pay_out(meter, &a.token_program, &a.native_mint, vault.clone(), a.fee_vault.to_account_info(), to_protocol)?;
        match &a.domain_account {
            Some(account) => {
                pay_out(meter, &a.token_program, &a.native_mint, vault.clone(), a.operator_account.to_account_info(), to_operator)?;
                pay_out(meter, &a.token_program, &a.native_mint, vault.clone(), account.to_account_info(), to_domain)?;
            }
            // A node lane (to_domain = 0), or the domain operator's own node.
            None => pay_out(meter, &a.token_program, &a.native_mint, vault.clone(), a.operator_account.to_account_info(), add(to_operator, to_domain)?)?,
        }
        let bump = [meter.bump];
        let signer: &[&[&[u8]]] = &[&[seeds::METER, &bump]];
        for (group, credit) in model_infos.chunks(ACCOUNTS_PER_MODEL).zip(&credits) {
            if credit.revenue == 0 {
                continue;
            }
            let accounts = mt_treasury::cpi::accounts::DepositRevenue {
                payer: meter.to_account_info(),
                protocol: a.protocol.to_account_info(),
                model: group[0].clone(),
                source: vault.clone(),
                revenue_vault: group[1].clone(),
                treasury_vault: group[2].clone(),
                native_mint: a.native_mint.to_account_info(),
                token_program: a.token_program.to_account_info(),
                event_authority: a.treasury_event_authority.to_account_info(),
                program: a.treasury_program.to_account_info(),
            };
            mt_treasury::cpi::deposit_revenue(CpiContext::new_with_signer(mt_treasury::ID, accounts, signer), credit.revenue)?;
        }

        for escrow in &escrows {
            escrow.exit(&crate::ID)?;
        }
        let node = &mut ctx.accounts.node;
        node.last_batch_seq = args.batch_seq;
        node.last_run_seq = args.last_run_seq;
        node.last_settled_at = now;
        let c = &mut node.counters;
        c.batches = add(c.batches, 1)?;
        c.entries = add(c.entries, totals.entries as u64)?;
        c.runs = add(c.runs, totals.runs)?;
        c.input_tokens = add(c.input_tokens, totals.input_tokens)?;
        c.output_tokens = add(c.output_tokens, totals.output_tokens)?;
        c.settled_value = add(c.settled_value, totals.charged)?;
        c.shortfall_value = add(c.shortfall_value, totals.cost - totals.charged)?;

        let domain_key = ctx.accounts.domain.as_ref().map(|d| d.key()).unwrap_or_default();
        let escrows_touched = escrow_debits.into_iter().filter(|d| d.charged > 0 || d.shortfall > 0).collect();
        emit_cpi!(BatchSettled {
            node: ctx.accounts.node.key(),
            keeper: ctx.accounts.keeper.key(),
            batch_seq: args.batch_seq,
            receipts_root: args.receipts_root,
            first_run_seq: args.first_run_seq,
            last_run_seq: args.last_run_seq,
            entries: totals.entries,
            runs: totals.runs,
            input_tokens: totals.input_tokens,
            output_tokens: totals.output_tokens,
            cost: totals.cost,
            charged: totals.charged,
            to_protocol,
            to_operator,
            to_models,
            shortfall: totals.cost - totals.charged,
            escrows: escrows_touched,
            models: credits,
            shortfalls,
            domain: domain_key,
            to_domain,
        });
        Ok(())
    }
}
