//! One function per RPC method family. Parameters follow Solana's RPC spec;
//! unknown config fields are ignored as a real node ignores them.

use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use solana_account::ReadableAccount;
use solana_address::Address;
use solana_hash::Hash;
use solana_signature::Signature;
use solana_transaction_error::TransactionError;

use super::encode::{self, AccountEncoding};
use super::error::RpcError;
use super::handle::ChainHandle;
use super::CORE_VERSION;
use crate::chain::{Chain, Rejected};

const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
const MAX_SIGNATURE_STATUSES: usize = 256;

pub async fn dispatch(chain: &ChainHandle, method: &str, params: Vec<Value>) -> Result<Value, RpcError> {
    let p = Params(params);
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": CORE_VERSION, "feature-set": 0})),
        "getGenesisHash" => chain.call(|c| Ok(json!(c.genesis_hash().to_string()))).await,
        "getIdentity" => chain.call(|c| Ok(json!({"identity": c.faucet().to_string()}))).await,
        "getSlot" | "getBlockHeight" | "getEpochInfo" | "getEpochSchedule" | "getFirstAvailableBlock" => {
            let method = method.to_owned();
            chain.call(move |c| Ok(chain_position(c, &method))).await
        }
        "getLatestBlockhash" => chain
            .call(|c| {
                let (hash, last_valid) = c.latest_blockhash();
                Ok(with_context(c, json!({"blockhash": hash.to_string(), "lastValidBlockHeight": last_valid})))
            })
            .await,
        "isBlockhashValid" => {
            let hash = p.hash(0)?;
            chain.call(move |c| Ok(with_context(c, json!(c.is_blockhash_valid(&hash))))).await
        }
        "getMinimumBalanceForRentExemption" => {
            let len = p.u64(0)? as usize;
            chain.call(move |c| Ok(json!(c.minimum_balance_for_rent_exemption(len)))).await
        }
        "getBalance" => {
            let address = p.address(0)?;
            chain
                .call(move |c| {
                    let lamports = c.account(&address).map(|a| a.lamports()).unwrap_or(0);
                    Ok(with_context(c, json!(lamports)))
                })
                .await
        }
        "getAccountInfo" => {
            let address = p.address(0)?;
            let enc = AccountEncoding::from_config(p.config(1))?;
            chain
                .call(move |c| {
                    let value = c.account(&address).map(|a| enc.account(&a)).unwrap_or(Value::Null);
                    Ok(with_context(c, value))
                })
                .await
        }
        "getMultipleAccounts" => {
            let addresses = p.addresses(0)?;
            if addresses.len() > MAX_MULTIPLE_ACCOUNTS {
                return Err(RpcError::invalid_params(format!("too many accounts: at most {MAX_MULTIPLE_ACCOUNTS}")));
            }
            let enc = AccountEncoding::from_config(p.config(1))?;
            chain
                .call(move |c| {
                    let values: Vec<Value> = addresses
                        .iter()
                        .map(|a| c.account(a).map(|acc| enc.account(&acc)).unwrap_or(Value::Null))
                        .collect();
                    Ok(with_context(c, Value::Array(values)))
                })
                .await
        }
        "getProgramAccounts" => {
            let program = p.address(0)?;
            let config = p.config(1).cloned();
            let enc = AccountEncoding::from_config(config.as_ref())?;
            let filters = Filter::parse_all(config.as_ref())?;
            let with_ctx = config.as_ref().and_then(|c| c.get("withContext")).and_then(Value::as_bool).unwrap_or(false);
            chain
                .call(move |c| {
                    let mut matches: Vec<Value> = c
                        .accounts_owned_by(&program)
                        .into_iter()
                        .filter(|(_, a)| filters.iter().all(|f| f.matches(a.data())))
                        .map(|(k, a)| json!({"pubkey": k.to_string(), "account": enc.account(&a)}))
                        .collect();
                    matches.sort_by(|a, b| a["pubkey"].as_str().cmp(&b["pubkey"].as_str()));
                    let value = Value::Array(matches);
                    Ok(if with_ctx { with_context(c, value) } else { value })
                })
                .await
        }
        "getTokenAccountBalance" => {
            let address = p.address(0)?;
            chain.call(move |c| token_balance(c, &address)).await
        }
        "requestAirdrop" => {
            let to = p.address(0)?;
            let lamports = p.u64(1)?;
            chain
                .call(move |c| match c.airdrop(&to, lamports) {
                    Ok(sig) => Ok(json!(sig.to_string())),
                    Err(r) => Err(RpcError::invalid_request(format!("airdrop failed: {}", rejected_message(&r)))),
                })
                .await
        }
        "sendTransaction" => {
            let tx = encode::decode_transaction(p.str(0)?, p.config(1))?;
            let skip_preflight = p.config(1).and_then(|c| c.get("skipPreflight")).and_then(Value::as_bool).unwrap_or(false);
            chain.call(move |c| send_transaction(c, tx, skip_preflight)).await
        }
        "simulateTransaction" => {
            let mut tx = encode::decode_transaction(p.str(0)?, p.config(1))?;
            let config = p.config(1).cloned();
            let flag = |name: &str| config.as_ref().and_then(|c| c.get(name)).and_then(Value::as_bool).unwrap_or(false);
            let (sig_verify, replace) = (flag("sigVerify"), flag("replaceRecentBlockhash"));
            if sig_verify && replace {
                return Err(RpcError::invalid_params("sigVerify may not be used with replaceRecentBlockhash"));
            }
            let account_addresses = config
                .as_ref()
                .and_then(|c| c.get("accounts"))
                .map(|a| Params(vec![a.get("addresses").cloned().unwrap_or(json!([]))]).addresses(0))
                .transpose()?;
            let enc = AccountEncoding::from_config(config.as_ref().and_then(|c| c.get("accounts")))?;
            chain
                .call(move |c| {
                    if replace {
                        tx.message.set_recent_blockhash(c.latest_blockhash().0);
                    }
                    let (err, meta, post) = match c.simulate(tx, sig_verify) {
                        Ok(info) => (None, info.meta, info.post_accounts),
                        Err(failed) => (Some(failed.err), failed.meta, Vec::new()),
                    };
                    let accounts = account_addresses.map(|addresses| {
                        addresses
                            .iter()
                            .map(|a| {
                                post.iter()
                                    .find(|(k, _)| k == a)
                                    .map(|(_, acc)| enc.account(&acc.clone().into()))
                                    .or_else(|| c.account(a).map(|acc| enc.account(&acc)))
                                    .unwrap_or(Value::Null)
                            })
                            .collect::<Vec<_>>()
                    });
                    Ok(with_context(
                        c,
                        json!({
                            "err": encode::transaction_error(&err),
                            "logs": meta.logs,
                            "accounts": accounts,
                            "unitsConsumed": meta.compute_units_consumed,
                            "returnData": encode::return_data(&meta),
                            "innerInstructions": encode::inner_instructions(&meta),
                            "fee": meta.fee,
                        }),
                    ))
                })
                .await
        }
        "getSignatureStatuses" => {
            let signatures = p.signatures(0)?;
            if signatures.len() > MAX_SIGNATURE_STATUSES {
                return Err(RpcError::invalid_params(format!("too many signatures: at most {MAX_SIGNATURE_STATUSES}")));
            }
            chain
                .call(move |c| {
                    let statuses: Vec<Value> = signatures
                        .iter()
                        .map(|s| match c.landed(s) {
                            None => Value::Null,
                            Some(l) => json!({
                                "slot": l.slot,
                                "confirmations": null,
                                "err": encode::transaction_error(&l.err),
                                "status": encode::status(&l.err),
                                "confirmationStatus": "finalized",
                            }),
                        })
                        .collect();
                    Ok(with_context(c, Value::Array(statuses)))
                })
                .await
        }
        "getTransaction" => {
            let signature = p.signature(0)?;
            let encoding = match p.0.get(1) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.get("encoding").and_then(Value::as_str).unwrap_or("json").to_owned(),
                None => "json".to_owned(),
            };
            chain
                .call(move |c| match c.landed(&signature) {
                    None => Ok(Value::Null),
                    Some(l) => encode::landed_transaction(l, &encoding),
                })
                .await
        }
        "getSignaturesForAddress" => {
            let address = p.address(0)?;
            let limit = p.config(1).and_then(|c| c.get("limit")).and_then(Value::as_u64).unwrap_or(1000).min(1000) as usize;
            chain
                .call(move |c| {
                    let list = c
                        .landed_touching(&address, limit)
                        .into_iter()
                        .map(|l| {
                            json!({
                                "signature": l.meta.signature.to_string(),
                                "slot": l.slot,
                                "err": encode::transaction_error(&l.err),
                                "memo": null,
                                "blockTime": l.block_time,
                                "confirmationStatus": "finalized",
                            })
                        })
                        .collect();
                    Ok(Value::Array(list))
                })
                .await
        }
        "getFeeForMessage" => {
            let bytes = B64.decode(p.str(0)?).map_err(|e| RpcError::invalid_params(format!("invalid base64: {e}")))?;
            let message: solana_message::VersionedMessage =
                bincode::deserialize(&bytes).map_err(|e| RpcError::invalid_params(format!("invalid message: {e}")))?;
            chain
                .call(move |c| {
                    let fee = if c.is_blockhash_valid(message.recent_blockhash()) { json!(fee_for(&message)) } else { Value::Null };
                    Ok(with_context(c, fee))
                })
                .await
        }
        "getRecentPrioritizationFees" => Ok(json!([])),
        "surfnet_timeTravel" => {
            let config = p.config(0).cloned().unwrap_or(json!({}));
            let timestamp = config.get("absoluteTimestamp").and_then(Value::as_i64).map(|ms| ms / 1000);
            let slot = config.get("absoluteSlot").and_then(Value::as_u64);
            let epoch = config.get("absoluteEpoch").and_then(Value::as_u64);
            chain
                .call(move |c| {
                    let slot = slot.or(epoch.map(|e| e * c.slots_per_epoch()));
                    c.time_travel(timestamp, slot).map_err(RpcError::invalid_params)?;
                    Ok(chain_position(c, "getEpochInfo"))
                })
                .await
        }
        "surfnet_pauseClock" => chain.call(|c| { c.pause_clock(); Ok(chain_position(c, "getEpochInfo")) }).await,
        "surfnet_resumeClock" => chain.call(|c| { c.resume_clock(); Ok(chain_position(c, "getEpochInfo")) }).await,
        other => Err(RpcError::method_not_found(other)),
    }
}

fn with_context(chain: &Chain, value: Value) -> Value {
    json!({"context": {"slot": chain.slot(), "apiVersion": CORE_VERSION}, "value": value})
}

fn chain_position(c: &Chain, method: &str) -> Value {
    match method {
        "getSlot" => json!(c.slot()),
        "getBlockHeight" => json!(c.block_height()),
        "getFirstAvailableBlock" => json!(0),
        "getEpochSchedule" => json!({
            "slotsPerEpoch": c.slots_per_epoch(),
            "leaderScheduleSlotOffset": c.slots_per_epoch(),
            "warmup": false,
            "firstNormalEpoch": 0,
            "firstNormalSlot": 0,
        }),
        _ => json!({
            "absoluteSlot": c.slot(),
            "blockHeight": c.block_height(),
            "epoch": c.epoch(),
            "slotIndex": c.slot() % c.slots_per_epoch(),
            "slotsInEpoch": c.slots_per_epoch(),
            "transactionCount": null,
            "unixTimestamp": c.unix_timestamp(),
        }),
    }
}

fn send_transaction(c: &mut Chain, tx: solana_transaction::versioned::VersionedTransaction, skip_preflight: bool) -> Result<Value, RpcError> {
    let signature = tx.signatures.first().copied().unwrap_or_default();
    if !skip_preflight {
        if !c.is_blockhash_valid(tx.message.recent_blockhash()) && c.landed(&signature).is_none() {
            return Err(preflight_error(&TransactionError::BlockhashNotFound, &[], 0));
        }
        if let Err(failed) = c.simulate(tx.clone(), true) {
            if failed.err == TransactionError::SignatureFailure {
                return Err(RpcError::signature_verification_failure());
            }
            return Err(preflight_error(&failed.err, &failed.meta.logs, failed.meta.compute_units_consumed));
        }
    }
    match c.send(tx) {
        Ok(sig) => Ok(json!(sig.to_string())),
        // A node that skips preflight forwards the transaction; the leader
        // drops it and the client only ever sees it not land. So do we.
        Err(_) if skip_preflight => Ok(json!(signature.to_string())),
        Err(Rejected::BlockhashNotFound) => Err(preflight_error(&TransactionError::BlockhashNotFound, &[], 0)),
        Err(Rejected::Transaction(err)) => Err(preflight_error(&err, &[], 0)),
    }
}

fn preflight_error(err: &TransactionError, logs: &[String], units: u64) -> RpcError {
    RpcError::preflight_failure(
        format!("Transaction simulation failed: {err}"),
        json!({
            "err": encode::transaction_error(&Some(err.clone())),
            "logs": logs,
            "accounts": null,
            "unitsConsumed": units,
            "returnData": null,
            "innerInstructions": null,
        }),
    )
}

fn rejected_message(r: &Rejected) -> String {
    match r {
        Rejected::BlockhashNotFound => "blockhash not found".into(),
        Rejected::Transaction(e) => e.to_string(),
    }
}

/// Signature fees plus the priority fee from the compute-budget instructions.
fn fee_for(message: &solana_message::VersionedMessage) -> u64 {
    const COMPUTE_BUDGET: Address = solana_sdk_ids::compute_budget::ID;
    const DEFAULT_UNITS_PER_INSTRUCTION: u64 = 200_000;
    const MAX_UNITS: u64 = 1_400_000;
    let keys = message.static_account_keys();
    let mut limit = None;
    let mut price = 0u64;
    let mut other_instructions = 0u64;
    for ix in message.instructions() {
        if keys.get(ix.program_id_index as usize) != Some(&COMPUTE_BUDGET) {
            other_instructions += 1;
            continue;
        }
        match ix.data.first() {
            Some(2) if ix.data.len() >= 5 => limit = Some(u32::from_le_bytes(ix.data[1..5].try_into().unwrap()) as u64),
            Some(3) if ix.data.len() >= 9 => price = u64::from_le_bytes(ix.data[1..9].try_into().unwrap()),
            _ => {}
        }
    }
    let units = limit.unwrap_or(other_instructions * DEFAULT_UNITS_PER_INSTRUCTION).min(MAX_UNITS);
    let priority = (units as u128 * price as u128).div_ceil(1_000_000) as u64;
    let signatures = message.header().num_required_signatures as u64;
    signatures * LAMPORTS_PER_SIGNATURE + priority
}

fn token_balance(c: &Chain, address: &Address) -> Result<Value, RpcError> {
    let invalid = || RpcError::invalid_params("not a token account");
    let account = c.account(address).ok_or_else(invalid)?;
    let is_token_program = |p: &Address| *p == TOKEN_PROGRAM || *p == TOKEN_2022_PROGRAM;
    if !is_token_program(account.owner()) || account.data().len() < 165 {
        return Err(invalid());
    }
    let data = account.data();
    let mint = Address::new_from_array(data[0..32].try_into().unwrap());
    let amount = u64::from_le_bytes(data[64..72].try_into().unwrap());
    let mint_account = c.account(&mint).ok_or_else(invalid)?;
    let decimals = *mint_account.data().get(44).ok_or_else(invalid)?;
    Ok(with_context(
        c,
        json!({
            "amount": amount.to_string(),
            "decimals": decimals,
            "uiAmountString": ui_amount(amount, decimals),
        }),
    ))
}

const TOKEN_PROGRAM: Address = solana_address::address!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
const TOKEN_2022_PROGRAM: Address = solana_address::address!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

fn ui_amount(amount: u64, decimals: u8) -> String {
    let s = format!("{:0>width$}", amount, width = decimals as usize + 1);
    let (int, frac) = s.split_at(s.len() - decimals as usize);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { int.to_owned() } else { format!("{int}.{frac}") }
}

/// Positional parameters with typed accessors that fail with `Invalid params`.
struct Params(Vec<Value>);

impl Params {
    fn get(&self, i: usize) -> Result<&Value, RpcError> {
        self.0.get(i).ok_or_else(|| RpcError::invalid_params(format!("missing parameter {i}")))
    }

    fn str(&self, i: usize) -> Result<&str, RpcError> {
        self.get(i)?.as_str().ok_or_else(|| RpcError::invalid_params(format!("parameter {i} must be a string")))
    }

    fn u64(&self, i: usize) -> Result<u64, RpcError> {
        self.get(i)?.as_u64().ok_or_else(|| RpcError::invalid_params(format!("parameter {i} must be an unsigned integer")))
    }

    fn config(&self, i: usize) -> Option<&Value> {
        self.0.get(i).filter(|v| v.is_object())
    }

    fn address(&self, i: usize) -> Result<Address, RpcError> {
        parse_address(self.str(i)?)
    }

    fn addresses(&self, i: usize) -> Result<Vec<Address>, RpcError> {
        let list = self.get(i)?.as_array().ok_or_else(|| RpcError::invalid_params(format!("parameter {i} must be an array")))?;
        list.iter()
            .map(|v| v.as_str().ok_or_else(|| RpcError::invalid_params("addresses must be strings")).and_then(parse_address))
            .collect()
    }

    fn hash(&self, i: usize) -> Result<Hash, RpcError> {
        Hash::from_str(self.str(i)?).map_err(|_| RpcError::invalid_params("invalid hash"))
    }

    fn signature(&self, i: usize) -> Result<Signature, RpcError> {
        Signature::from_str(self.str(i)?).map_err(|_| RpcError::invalid_params("invalid signature"))
    }

    fn signatures(&self, i: usize) -> Result<Vec<Signature>, RpcError> {
        let list = self.get(i)?.as_array().ok_or_else(|| RpcError::invalid_params(format!("parameter {i} must be an array")))?;
        list.iter()
            .map(|v| {
                v.as_str()
                    .and_then(|s| Signature::from_str(s).ok())
                    .ok_or_else(|| RpcError::invalid_params("invalid signature"))
            })
            .collect()
    }
}

fn parse_address(s: &str) -> Result<Address, RpcError> {
    Address::from_str(s).map_err(|_| RpcError::invalid_params(format!("invalid address {s:?}")))
}

/// A `getProgramAccounts` filter.
enum Filter {
    DataSize(usize),
    Memcmp { offset: usize, bytes: Vec<u8> },
}

impl Filter {
    fn parse_all(config: Option<&Value>) -> Result<Vec<Filter>, RpcError> {
        let Some(filters) = config.and_then(|c| c.get("filters")).and_then(Value::as_array) else {
            return Ok(Vec::new());
        };
        filters.iter().map(Filter::parse).collect()
    }

    fn parse(v: &Value) -> Result<Filter, RpcError> {
        if let Some(size) = v.get("dataSize").and_then(Value::as_u64) {
            return Ok(Filter::DataSize(size as usize));
        }
        let memcmp = v.get("memcmp").ok_or_else(|| RpcError::invalid_params("filter must be dataSize or memcmp"))?;
        let offset = memcmp.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
        let raw = memcmp.get("bytes").and_then(Value::as_str).ok_or_else(|| RpcError::invalid_params("memcmp needs bytes"))?;
        let bytes = match memcmp.get("encoding").and_then(Value::as_str).unwrap_or("base58") {
            "base64" => B64.decode(raw).map_err(|_| RpcError::invalid_params("invalid base64 in memcmp"))?,
            _ => bs58::decode(raw).into_vec().map_err(|_| RpcError::invalid_params("invalid base58 in memcmp"))?,
        };
        Ok(Filter::Memcmp { offset, bytes })
    }

    fn matches(&self, data: &[u8]) -> bool {
        match self {
            Filter::DataSize(size) => data.len() == *size,
            Filter::Memcmp { offset, bytes } => data.get(*offset..offset + bytes.len()) == Some(bytes.as_slice()),
        }
    }
}
