//! Wire encodings: accounts, transactions and their metadata as Solana's RPC
//! returns them.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use litesvm::types::TransactionMetadata;
use serde_json::{json, Value};
use solana_account::{Account, ReadableAccount};
use solana_address::Address;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

use super::error::RpcError;
use crate::chain::Landed;

/// `encoding` and `dataSlice` of an account request.
pub struct AccountEncoding {
    base58: bool,
    slice: Option<(usize, usize)>,
}

impl AccountEncoding {
    pub fn from_config(config: Option<&Value>) -> Result<Self, RpcError> {
        let encoding = config.and_then(|c| c.get("encoding")).and_then(Value::as_str).unwrap_or("base64");
        let base58 = match encoding {
            "base58" | "binary" => true,
            // jsonParsed falls back to binary when a node cannot parse an account;
            // we parse none.
            "base64" | "jsonParsed" => false,
            other => return Err(RpcError::invalid_params(format!("unsupported encoding {other:?}; use base64 or base58"))),
        };
        let slice = config.and_then(|c| c.get("dataSlice")).map(|s| {
            let offset = s.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
            let length = s.get("length").and_then(Value::as_u64).unwrap_or(0) as usize;
            (offset, length)
        });
        Ok(AccountEncoding { base58, slice })
    }

    pub fn account(&self, account: &Account) -> Value {
        let mut data = account.data();
        if let Some((offset, length)) = self.slice {
            let start = offset.min(data.len());
            let end = start.saturating_add(length).min(data.len());
            data = &data[start..end];
        }
        let encoded = if self.base58 {
            json!([bs58::encode(data).into_string(), "base58"])
        } else {
            json!([B64.encode(data), "base64"])
        };
        json!({
            "lamports": account.lamports(),
            "owner": account.owner().to_string(),
            "data": encoded,
            "executable": account.executable(),
            "rentEpoch": account.rent_epoch(),
            "space": account.data().len(),
        })
    }
}

/// Decodes a wire transaction (`encoding`: base64, or base58 as the RPC default).
pub fn decode_transaction(encoded: &str, config: Option<&Value>) -> Result<VersionedTransaction, RpcError> {
    let encoding = config.and_then(|c| c.get("encoding")).and_then(Value::as_str).unwrap_or("base58");
    let bytes = match encoding {
        "base64" => B64.decode(encoded).map_err(|e| RpcError::invalid_params(format!("invalid base64: {e}")))?,
        "base58" => bs58::decode(encoded)
            .into_vec()
            .map_err(|e| RpcError::invalid_params(format!("invalid base58: {e}")))?,
        other => return Err(RpcError::invalid_params(format!("unsupported encoding {other:?}"))),
    };
    if bytes.len() > 1232 {
        return Err(RpcError::invalid_params(format!(
            "transaction is {} bytes, more than the 1232 a packet can carry",
            bytes.len()
        )));
    }
    bincode::deserialize(&bytes).map_err(|e| RpcError::invalid_params(format!("failed to deserialize transaction: {e}")))
}

pub fn transaction_error(err: &Option<TransactionError>) -> Value {
    match err {
        None => Value::Null,
        Some(e) => serde_json::to_value(e).unwrap_or_else(|_| json!(e.to_string())),
    }
}

pub fn status(err: &Option<TransactionError>) -> Value {
    match err {
        None => json!({"Ok": null}),
        Some(_) => json!({"Err": transaction_error(err)}),
    }
}

pub fn inner_instructions(meta: &TransactionMetadata) -> Value {
    let groups: Vec<Value> = meta
        .inner_instructions
        .iter()
        .enumerate()
        .filter(|(_, list)| !list.is_empty())
        .map(|(index, list)| {
            let instructions: Vec<Value> = list
                .iter()
                .map(|inner| {
                    json!({
                        "programIdIndex": inner.instruction.program_id_index,
                        "accounts": inner.instruction.accounts,
                        "data": bs58::encode(&inner.instruction.data).into_string(),
                        "stackHeight": inner.stack_height,
                    })
                })
                .collect();
            json!({"index": index, "instructions": instructions})
        })
        .collect();
    Value::Array(groups)
}

pub fn return_data(meta: &TransactionMetadata) -> Value {
    if meta.return_data.data.is_empty() {
        return Value::Null;
    }
    json!({
        "programId": meta.return_data.program_id.to_string(),
        "data": [B64.encode(&meta.return_data.data), "base64"],
    })
}

/// A landed transaction as `getTransaction` returns it.
pub fn landed_transaction(landed: &Landed, encoding: &str) -> Result<Value, RpcError> {
    let tx = &landed.transaction;
    let transaction = match encoding {
        "base64" => json!([B64.encode(bincode::serialize(tx).expect("serialize transaction")), "base64"]),
        "base58" => json!([bs58::encode(bincode::serialize(tx).expect("serialize transaction")).into_string(), "base58"]),
        "json" | "jsonParsed" => transaction_json(tx),
        other => return Err(RpcError::invalid_params(format!("unsupported encoding {other:?}"))),
    };
    let static_len = tx.message.static_account_keys().len();
    let loaded = &landed.account_keys[static_len..];
    let writable_loaded: usize = tx
        .message
        .address_table_lookups()
        .map(|l| l.iter().map(|t| t.writable_indexes.len()).sum())
        .unwrap_or(0);
    let (loaded_writable, loaded_readonly) = loaded.split_at(writable_loaded.min(loaded.len()));
    let meta = &landed.meta;
    let version = match tx.message {
        solana_message::VersionedMessage::Legacy(_) => json!("legacy"),
        solana_message::VersionedMessage::V0(_) => json!(0),
    };
    Ok(json!({
        "slot": landed.slot,
        "blockTime": landed.block_time,
        "version": version,
        "transaction": transaction,
        "meta": {
            "err": transaction_error(&landed.err),
            "status": status(&landed.err),
            "fee": meta.fee,
            "preBalances": landed.pre_balances,
            "postBalances": landed.post_balances,
            "innerInstructions": inner_instructions(meta),
            "logMessages": meta.logs,
            "preTokenBalances": [],
            "postTokenBalances": [],
            "rewards": [],
            "loadedAddresses": {
                "writable": strings(loaded_writable),
                "readonly": strings(loaded_readonly),
            },
            "returnData": return_data(meta),
            "computeUnitsConsumed": meta.compute_units_consumed,
        }
    }))
}

fn strings(keys: &[Address]) -> Vec<String> {
    keys.iter().map(ToString::to_string).collect()
}

fn transaction_json(tx: &VersionedTransaction) -> Value {
    let message = &tx.message;
    let header = message.header();
    let instructions: Vec<Value> = message
        .instructions()
        .iter()
        .map(|ix| {
            json!({
                "programIdIndex": ix.program_id_index,
                "accounts": ix.accounts,
                "data": bs58::encode(&ix.data).into_string(),
                "stackHeight": null,
            })
        })
        .collect();
    let mut msg = json!({
        "accountKeys": strings(message.static_account_keys()),
        "header": {
            "numRequiredSignatures": header.num_required_signatures,
            "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
            "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
        },
        "recentBlockhash": message.recent_blockhash().to_string(),
        "instructions": instructions,
    });
    if let Some(lookups) = message.address_table_lookups() {
        msg["addressTableLookups"] = lookups
            .iter()
            .map(|l| {
                json!({
                    "accountKey": l.account_key.to_string(),
                    "writableIndexes": l.writable_indexes,
                    "readonlyIndexes": l.readonly_indexes,
                })
            })
            .collect();
    }
    json!({
        "signatures": tx.signatures.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "message": msg,
    })
}
