//! The chain: one LiteSVM, a block producer, and the history an RPC node keeps.
//!
//! LiteSVM executes transactions but has no notion of blocks: it accepts only
//! its latest blockhash and its clock stands still. `Chain` adds what a
//! validator does around execution: a slot every `slot_duration`, a wall
//! clock in the Clock sysvar, the SlotHashes sysvar (address lookup tables
//! need it), a window of the last 150 blockhashes that transactions may use,
//! and a record of every landed transaction for `getSignatureStatuses` and
//! `getTransaction`. Every landed transaction is final at once.

use std::collections::{HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use solana_account::{Account, ReadableAccount};
use solana_address::Address;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::{Message, VersionedMessage};
use solana_signer::Signer;
use solana_signature::Signature;
use solana_slot_hashes::SlotHashes;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

use crate::programs;

/// A blockhash stays usable for this many blocks, as on mainnet.
pub const MAX_PROCESSING_AGE: u64 = 150;
const SLOTS_PER_EPOCH: u64 = 432_000;
const KEPT_BLOCKHASHES: usize = 300;
const KEPT_SLOT_HASHES: usize = 512;
const FAUCET_LAMPORTS: u64 = 500_000 * 1_000_000_000;

/// What the RPC layer needs to answer for one landed transaction.
#[derive(Clone)]
pub struct Landed {
    pub slot: u64,
    pub block_time: i64,
    pub transaction: VersionedTransaction,
    pub account_keys: Vec<Address>,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub err: Option<TransactionError>,
    pub meta: TransactionMetadata,
}

/// Why a transaction was not accepted into a block at all.
#[derive(Debug)]
pub enum Rejected {
    BlockhashNotFound,
    /// Rejected before execution (bad signature, unknown payer, duplicate, …).
    Transaction(TransactionError),
}

pub struct Chain {
    svm: LiteSVM,
    slot: u64,
    block_height: u64,
    genesis_hash: Hash,
    /// Recent blockhashes with the block height at which each was produced.
    blockhashes: VecDeque<(Hash, u64)>,
    slot_hashes: VecDeque<(u64, Hash)>,
    /// Seconds added to the wall clock by time travel.
    clock_offset: i64,
    clock_paused_at: Option<i64>,
    landed: HashMap<Signature, Landed>,
    landed_order: VecDeque<Signature>,
    max_history: usize,
    /// Pays for `requestAirdrop`, through ordinary transfers that land like any other transaction.
    faucet: Keypair,
}

impl Chain {
    /// A chain whose programs' upgrade authority is the development key
    /// ([`programs::default_upgrade_authority`]).
    pub fn new(max_history: usize) -> Self {
        Self::with_upgrade_authority(max_history, &programs::default_upgrade_authority())
    }

    /// A chain whose programs' ProgramData accounts name `upgrade_authority`.
    pub fn with_upgrade_authority(max_history: usize, upgrade_authority: &Address) -> Self {
        let mut svm = LiteSVM::new()
            .with_sigverify(true)
            // The window check is ours (LiteSVM knows only its latest hash).
            .with_blockhash_check(false)
            .with_transaction_history(max_history)
            .with_log_bytes_limit(Some(100_000));
        programs::register(&mut svm, upgrade_authority);
        let genesis_hash = svm.latest_blockhash();
        let faucet = Keypair::new();
        svm.airdrop(&faucet.pubkey(), FAUCET_LAMPORTS).expect("fund the faucet");
        let mut chain = Chain {
            svm,
            slot: 0,
            block_height: 0,
            genesis_hash,
            blockhashes: VecDeque::new(),
            slot_hashes: VecDeque::new(),
            clock_offset: 0,
            clock_paused_at: None,
            landed: HashMap::new(),
            landed_order: VecDeque::new(),
            max_history,
            faucet,
        };
        chain.blockhashes.push_back((genesis_hash, 0));
        chain.produce_block();
        chain
    }

    pub fn slot(&self) -> u64 {
        self.slot
    }

    pub fn block_height(&self) -> u64 {
        self.block_height
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    pub fn epoch(&self) -> u64 {
        self.slot / SLOTS_PER_EPOCH
    }

    pub fn slots_per_epoch(&self) -> u64 {
        SLOTS_PER_EPOCH
    }

    pub fn unix_timestamp(&self) -> i64 {
        self.clock_paused_at.unwrap_or_else(|| wall_clock() + self.clock_offset)
    }

    /// The newest blockhash and the last block height at which it is valid.
    pub fn latest_blockhash(&self) -> (Hash, u64) {
        let (hash, height) = *self.blockhashes.back().expect("at least one block");
        (hash, height + MAX_PROCESSING_AGE)
    }

    pub fn is_blockhash_valid(&self, hash: &Hash) -> bool {
        self.blockhashes
            .iter()
            .any(|(h, height)| h == hash && height + MAX_PROCESSING_AGE >= self.block_height)
    }

    /// Closes the current slot and opens the next one.
    pub fn produce_block(&mut self) {
        self.advance(1);
    }

    fn advance(&mut self, slots: u64) {
        self.slot += slots;
        self.block_height += slots;
        self.svm.expire_blockhash();
        let hash = self.svm.latest_blockhash();
        self.blockhashes.push_back((hash, self.block_height));
        while self.blockhashes.len() > KEPT_BLOCKHASHES {
            self.blockhashes.pop_front();
        }
        self.slot_hashes.push_front((self.slot, hash));
        self.slot_hashes.truncate(KEPT_SLOT_HASHES);
        let slot_hashes: Vec<(u64, Hash)> = self.slot_hashes.iter().copied().collect();
        self.svm.set_sysvar(&SlotHashes::new(&slot_hashes));
        self.svm.set_sysvar(&Clock {
            slot: self.slot,
            epoch_start_timestamp: self.unix_timestamp(),
            epoch: self.epoch(),
            leader_schedule_epoch: self.epoch() + 1,
            unix_timestamp: self.unix_timestamp(),
        });
    }

    /// Moves the clock forward to `timestamp` (seconds) and/or the slot
    /// forward to `slot`, then produces a block so programs see the change.
    /// Time only moves forward, as on a real chain.
    pub fn time_travel(&mut self, timestamp: Option<i64>, slot: Option<u64>) -> Result<(), String> {
        if let Some(ts) = timestamp {
            let now = self.unix_timestamp();
            if ts < now {
                return Err(format!("cannot travel back in time: clock is at {now}, asked for {ts}"));
            }
            match self.clock_paused_at {
                Some(_) => self.clock_paused_at = Some(ts),
                None => self.clock_offset += ts - now,
            }
        }
        match slot {
            Some(s) if s <= self.slot => Err(format!("cannot travel back: slot is {}, asked for {s}", self.slot)),
            Some(s) => {
                self.advance(s - self.slot);
                Ok(())
            }
            None => {
                self.produce_block();
                Ok(())
            }
        }
    }

    pub fn pause_clock(&mut self) {
        if self.clock_paused_at.is_none() {
            self.clock_paused_at = Some(self.unix_timestamp());
        }
    }

    pub fn resume_clock(&mut self) {
        if let Some(at) = self.clock_paused_at.take() {
            self.clock_offset = at - wall_clock();
        }
    }

    pub fn account(&self, address: &Address) -> Option<Account> {
        self.svm.get_account(address).filter(|a| a.lamports() > 0 || a.executable())
    }

    /// Writes an account directly, bypassing transactions. For tests that
    /// need state no instruction can create yet; the RPC does not expose it.
    pub fn set_account(&mut self, address: Address, account: Account) {
        self.svm.set_account(address, account).expect("set account");
    }

    /// Every account owned by `program`, for `getProgramAccounts`.
    pub fn accounts_owned_by(&self, program: &Address) -> Vec<(Address, Account)> {
        self.svm
            .accounts_db()
            .inner
            .iter()
            .filter(|(_, a)| a.owner() == program && a.lamports() > 0)
            .map(|(k, a)| (*k, a.clone().into()))
            .collect()
    }

    pub fn minimum_balance_for_rent_exemption(&self, len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(len)
    }

    /// Executes `tx` against the current state without keeping its effects.
    /// `sig_verify: false` is the RPC default for simulation (wallets simulate
    /// before signing).
    pub fn simulate(
        &mut self,
        tx: VersionedTransaction,
        sig_verify: bool,
    ) -> Result<litesvm::types::SimulatedTransactionInfo, FailedTransactionMetadata> {
        self.svm.set_sigverify(sig_verify);
        let result = self.svm.simulate_transaction(tx);
        self.svm.set_sigverify(true);
        result
    }

    /// Executes `tx` in the current slot. A transaction that fails inside an
    /// instruction still lands (and pays its fee), as on a real validator.
    pub fn send(&mut self, tx: VersionedTransaction) -> Result<Signature, Rejected> {
        if !self.is_blockhash_valid(tx.message.recent_blockhash()) && !self.is_durable_nonce(&tx) {
            return Err(Rejected::BlockhashNotFound);
        }
        let signature = tx.signatures.first().copied().unwrap_or_default();
        if self.landed.contains_key(&signature) {
            return Err(Rejected::Transaction(TransactionError::AlreadyProcessed));
        }
        let account_keys = self.account_keys(&tx);
        let pre_balances = self.balances(&account_keys);
        let (err, meta) = match self.svm.send_transaction(tx.clone()) {
            Ok(meta) => (None, meta),
            Err(failed) => {
                if self.svm.get_transaction(&signature).is_none() {
                    return Err(Rejected::Transaction(failed.err));
                }
                (Some(failed.err), failed.meta)
            }
        };
        let post_balances = self.balances(&account_keys);
        self.record(Landed {
            slot: self.slot,
            block_time: self.unix_timestamp(),
            transaction: tx,
            account_keys,
            pre_balances,
            post_balances,
            err,
            meta,
        });
        Ok(signature)
    }

    pub fn faucet(&self) -> Address {
        self.faucet.pubkey()
    }

    pub fn airdrop(&mut self, to: &Address, lamports: u64) -> Result<Signature, Rejected> {
        let ix = solana_system_interface::instruction::transfer(&self.faucet.pubkey(), to, lamports);
        for _ in 0..2 {
            let (blockhash, _) = self.latest_blockhash();
            let message = Message::new_with_blockhash(&[ix.clone()], Some(&self.faucet.pubkey()), &blockhash);
            let tx = VersionedTransaction::try_new(VersionedMessage::Legacy(message), &[&self.faucet])
                .map_err(|_| Rejected::Transaction(TransactionError::SignatureFailure))?;
            if self.landed.contains_key(&tx.signatures[0]) {
                // The same airdrop twice in one slot: a new block gives a new signature.
                self.produce_block();
                continue;
            }
            return self.send(tx);
        }
        Err(Rejected::Transaction(TransactionError::AlreadyProcessed))
    }

    pub fn landed(&self, signature: &Signature) -> Option<&Landed> {
        self.landed.get(signature)
    }

    /// Landed transactions that touch `address`, newest first.
    pub fn landed_touching(&self, address: &Address, limit: usize) -> Vec<&Landed> {
        self.landed_order
            .iter()
            .rev()
            .filter_map(|sig| self.landed.get(sig))
            .filter(|l| l.account_keys.contains(address))
            .take(limit)
            .collect()
    }

    fn record(&mut self, landed: Landed) {
        let signature = landed.meta.signature;
        self.landed.insert(signature, landed);
        self.landed_order.push_back(signature);
        while self.landed_order.len() > self.max_history {
            if let Some(old) = self.landed_order.pop_front() {
                self.landed.remove(&old);
            }
        }
    }

    /// Static keys followed by the keys loaded from lookup tables (writable,
    /// then read-only), the order in which instructions index them.
    pub fn account_keys(&self, tx: &VersionedTransaction) -> Vec<Address> {
        let mut keys = tx.message.static_account_keys().to_vec();
        if let Some(lookups) = tx.message.address_table_lookups() {
            let mut writable: Vec<Address> = Vec::new();
            let mut readonly: Vec<Address> = Vec::new();
            for lookup in lookups {
                let Some(table) = self.svm.get_account(&lookup.account_key) else { continue };
                let addresses = lookup_table_addresses(table.data());
                writable.extend(lookup.writable_indexes.iter().filter_map(|i| addresses.get(*i as usize).copied()));
                readonly.extend(lookup.readonly_indexes.iter().filter_map(|i| addresses.get(*i as usize).copied()));
            }
            keys.extend(writable);
            keys.extend(readonly);
        }
        keys
    }

    fn balances(&self, keys: &[Address]) -> Vec<u64> {
        keys.iter().map(|k| self.svm.get_balance(k).unwrap_or(0)).collect()
    }

    /// A transaction whose first instruction advances a durable nonce may use
    /// that nonce's stored blockhash instead of a recent one.
    fn is_durable_nonce(&self, tx: &VersionedTransaction) -> bool {
        let message = &tx.message;
        let Some(first) = message.instructions().first() else { return false };
        let keys = message.static_account_keys();
        let is_system = keys.get(first.program_id_index as usize) == Some(&solana_sdk_ids::system_program::ID);
        // SystemInstruction::AdvanceNonceAccount is variant 4 (u32 LE).
        if !is_system || first.data.get(..4) != Some(&[4, 0, 0, 0]) {
            return false;
        }
        let Some(nonce_key) = first.accounts.first().and_then(|i| keys.get(*i as usize)) else { return false };
        let Some(nonce) = self.svm.get_account(nonce_key) else { return false };
        // Versions::Current(State::Initialized(Data { authority, durable_nonce, .. })):
        // u32 version, u32 state, 32-byte authority, 32-byte durable nonce.
        nonce.data().get(40..72) == Some(message.recent_blockhash().as_ref())
    }
}

/// Addresses stored in an address lookup table account (after its 56-byte header).
fn lookup_table_addresses(data: &[u8]) -> Vec<Address> {
    const HEADER: usize = 56;
    data.get(HEADER..)
        .unwrap_or_default()
        .chunks_exact(32)
        .map(|c| Address::new_from_array(c.try_into().expect("32-byte chunk")))
        .collect()
}

fn wall_clock() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
