//! A test chain in-process: the local chain's runtime (LiteSVM with our
//! programs as builtins, blocks, clock, blockhash window) without the RPC
//! layer, plus helpers to build Anchor instructions, make tokens, move time,
//! and assert named errors.

use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use anchor_spl::token_2022::spl_token_2022;
use litesvm::types::TransactionMetadata;
use localnet::chain::{Chain, Rejected};
use solana_account::ReadableAccount;
use solana_keypair::Keypair;
use solana_message::{Message, VersionedMessage};
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

pub use anchor_lang::prelude::Pubkey;
pub use anchor_lang::solana_program::instruction::Instruction;
pub use solana_instruction_error::InstructionError;

pub const SOL: u64 = 1_000_000_000;
pub const TOKEN: Pubkey = anchor_spl::token::ID;
pub const TOKEN_2022: Pubkey = anchor_spl::token_2022::ID;

pub struct Harness {
    pub chain: Chain,
}

/// Why a transaction failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub err: TransactionError,
    pub logs: Vec<String>,
}

pub type TxResult = Result<TransactionMetadata, Failure>;

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Self {
        Harness { chain: Chain::new(100_000) }
    }

    /// The upgrade authority ([`upgrade_authority`]) holding `sol` SOL.
    pub fn funded_upgrade_authority(&mut self, sol: u64) -> Keypair {
        let key = upgrade_authority();
        self.chain.airdrop(&key.pubkey(), sol * SOL).expect("airdrop");
        key
    }

    /// A new keypair holding `sol` SOL.
    pub fn funded(&mut self, sol: u64) -> Keypair {
        let key = Keypair::new();
        self.chain.airdrop(&key.pubkey(), sol * SOL).expect("airdrop");
        key
    }

    /// Sends `ixs` signed by `signers`; the first signer pays. Each call runs
    /// in a new block, so identical transactions get distinct signatures.
    pub fn execute(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        self.chain.produce_block();
        let payer = signers.first().expect("at least one signer").pubkey();
        let (blockhash, _) = self.chain.latest_blockhash();
        let message = Message::new_with_blockhash(ixs, Some(&payer), &blockhash);
        let tx = VersionedTransaction::try_new(VersionedMessage::Legacy(message), signers).expect("sign");
        match self.chain.send(tx) {
            Err(Rejected::BlockhashNotFound) => Err(Failure { err: TransactionError::BlockhashNotFound, logs: vec![] }),
            Err(Rejected::Transaction(err)) => Err(Failure { err, logs: vec![] }),
            Ok(sig) => {
                let landed = self.chain.landed(&sig).expect("landed transaction is recorded");
                match &landed.err {
                    None => Ok(landed.meta.clone()),
                    Some(err) => Err(Failure { err: err.clone(), logs: landed.meta.logs.clone() }),
                }
            }
        }
    }

    /// Builds an Anchor instruction from its generated `accounts::X` and `instruction::X`.
    pub fn ix(program: Pubkey, accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
        Instruction { program_id: program, accounts: accounts.to_account_metas(None), data: data.data() }
    }

    /// Reads and decodes an Anchor account; panics if missing or of another type.
    pub fn account<T: AccountDeserialize>(&self, address: &Pubkey) -> T {
        let account = self.chain.account(address).unwrap_or_else(|| panic!("account {address} does not exist"));
        T::try_deserialize(&mut account.data()).unwrap_or_else(|e| panic!("decode {address}: {e}"))
    }

    pub fn exists(&self, address: &Pubkey) -> bool {
        self.chain.account(address).is_some()
    }

    pub fn lamports(&self, address: &Pubkey) -> u64 {
        self.chain.account(address).map(|a| a.lamports()).unwrap_or(0)
    }

    /// Token amount held by a token account (0 if it does not exist).
    pub fn token_balance(&self, address: &Pubkey) -> u64 {
        match self.chain.account(address) {
            None => 0,
            Some(a) => u64::from_le_bytes(a.data()[64..72].try_into().unwrap()),
        }
    }

    /// Total supply of a mint.
    pub fn mint_supply(&self, mint: &Pubkey) -> u64 {
        let a = self.chain.account(mint).expect("mint exists");
        u64::from_le_bytes(a.data()[36..44].try_into().unwrap())
    }

    /// The chain's clock.
    pub fn now(&self) -> i64 {
        self.chain.unix_timestamp()
    }

    /// Moves the clock forward to `unix_timestamp` (seconds).
    pub fn warp_to(&mut self, unix_timestamp: i64) {
        self.chain.time_travel(Some(unix_timestamp), None).expect("time travel");
    }

    /// Stops the clock so boundary tests can hit an exact second.
    pub fn pause_clock(&mut self) {
        self.chain.pause_clock();
    }

    /// Creates a mint of `token_program` with `decimals`, `authority` as mint authority.
    pub fn create_mint(&mut self, authority: &Keypair, decimals: u8, token_program: Pubkey) -> Pubkey {
        let mint = Keypair::new();
        let rent = self.chain.minimum_balance_for_rent_exemption(82);
        let ixs = [
            solana_system_interface::instruction::create_account(&authority.pubkey(), &mint.pubkey(), rent, 82, &token_program),
            spl_token_2022::instruction::initialize_mint2(&token_program, &mint.pubkey(), &authority.pubkey(), None, decimals)
                .unwrap(),
        ];
        self.execute(&ixs, &[authority, &mint]).expect("create mint");
        mint.pubkey()
    }

    /// The associated token account of `owner` for `mint`, created if missing.
    pub fn ata(&mut self, payer: &Keypair, owner: &Pubkey, mint: &Pubkey, token_program: Pubkey) -> Pubkey {
        let address = associated_token_address(owner, mint, &token_program);
        if !self.exists(&address) {
            let ix = Instruction {
                program_id: anchor_spl::associated_token::ID,
                accounts: vec![
                    anchor_lang::prelude::AccountMeta::new(payer.pubkey(), true),
                    anchor_lang::prelude::AccountMeta::new(address, false),
                    anchor_lang::prelude::AccountMeta::new_readonly(*owner, false),
                    anchor_lang::prelude::AccountMeta::new_readonly(*mint, false),
                    anchor_lang::prelude::AccountMeta::new_readonly(anchor_lang::system_program::ID, false),
                    anchor_lang::prelude::AccountMeta::new_readonly(token_program, false),
                ],
                data: vec![1],
            };
            self.execute(&[ix], &[payer]).expect("create associated token account");
        }
        address
    }

    /// Mints `amount` base units of `mint` to `owner`'s associated account; returns that account.
    pub fn mint_to(&mut self, authority: &Keypair, mint: &Pubkey, owner: &Pubkey, amount: u64, token_program: Pubkey) -> Pubkey {
        let ata = self.ata(authority, owner, mint, token_program);
        let ix = spl_token_2022::instruction::mint_to(&token_program, mint, &ata, &authority.pubkey(), &[], amount).unwrap();
        self.execute(&[ix], &[authority]).expect("mint to");
        ata
    }
}

/// The local chain's development upgrade authority (the key in
/// `keys/localnet-upgrade-authority.json`): the only key that may run
/// `init_protocol`, since every program's ProgramData names it.
pub fn upgrade_authority() -> Keypair {
    let bytes: Vec<u8> = localnet::programs::DEFAULT_UPGRADE_AUTHORITY_KEYPAIR
        .trim_matches(|c| c == '[' || c == ']' || char::is_whitespace(c))
        .split(',')
        .map(|b| b.trim().parse().expect("keypair byte"))
        .collect();
    Keypair::try_from(bytes.as_slice()).expect("64-byte keypair")
}

/// `program`'s ProgramData account (the upgradeable loader's PDA of its id).
pub fn program_data(program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[program.as_ref()], &anchor_lang::solana_program::bpf_loader_upgradeable::ID).0
}

pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[owner.as_ref(), token_program.as_ref(), mint.as_ref()], &anchor_spl::associated_token::ID).0
}

/// Anchor's emit_cpi! authority of `program`.
pub fn event_authority(program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[b"__event_authority"], program).0
}

/// The custom error code of a failed instruction, if it failed with one.
pub fn custom_code(failure: &Failure) -> Option<u32> {
    match failure.err {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(code),
        _ => None,
    }
}

/// Asserts that `result` failed with the Anchor error `expected` (a program
/// error enum value or `anchor_lang::error::ErrorCode`).
#[track_caller]
pub fn assert_error<E: Into<anchor_lang::error::Error> + std::fmt::Debug + Copy>(result: &TxResult, expected: E) {
    let code = match expected.into() {
        anchor_lang::error::Error::AnchorError(e) => e.error_code_number,
        other => panic!("{other:?} is not an Anchor error code"),
    };
    match result {
        Ok(_) => panic!("expected {expected:?} ({code}), but the transaction succeeded"),
        Err(failure) => assert_eq!(
            custom_code(failure),
            Some(code),
            "expected {expected:?} ({code}), got {:?}\nlogs: {:#?}",
            failure.err,
            failure.logs
        ),
    }
}

/// Asserts that `result` failed with the runtime error `expected`.
#[track_caller]
pub fn assert_instruction_error(result: &TxResult, expected: InstructionError) {
    match result {
        Ok(_) => panic!("expected {expected:?}, but the transaction succeeded"),
        Err(failure) => match &failure.err {
            TransactionError::InstructionError(_, got) => assert_eq!(got, &expected, "logs: {:#?}", failure.logs),
            other => panic!("expected {expected:?}, got {other:?}"),
        },
    }
}

/// Every `emit_cpi!` event of type `T` in a landed transaction, in order
/// (inner instructions whose data is Anchor's event tag, `T`'s discriminator
/// and its Borsh body).
pub fn events<T: anchor_lang::Event + anchor_lang::AnchorDeserialize>(meta: &TransactionMetadata) -> Vec<T> {
    const TAG: [u8; 8] = [0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d];
    meta.inner_instructions
        .iter()
        .flatten()
        .filter_map(|inner| {
            let data = &inner.instruction.data;
            let rest = data.strip_prefix(&TAG[..])?.strip_prefix(T::DISCRIMINATOR)?;
            T::try_from_slice(rest).ok()
        })
        .collect()
}

/// The single event of type `T` in a landed transaction; panics if there is not exactly one.
#[track_caller]
pub fn event<T: anchor_lang::Event + anchor_lang::AnchorDeserialize>(meta: &TransactionMetadata) -> T {
    let mut all = events::<T>(meta);
    assert_eq!(all.len(), 1, "expected exactly one {} event", std::any::type_name::<T>());
    all.remove(0)
}

/// The mint authority of an SPL Token or Token-2022 mint (None once removed).
pub fn mint_authority(h: &Harness, mint: &Pubkey) -> Option<Pubkey> {
    let a = h.chain.account(mint).expect("mint exists");
    let data = a.data();
    (data[0..4] == [1, 0, 0, 0]).then(|| Pubkey::new_from_array(data[4..36].try_into().unwrap()))
}
