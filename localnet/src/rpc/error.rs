//! JSON-RPC errors with the codes Solana's RPC uses, so clients that branch on
//! them (preflight failure, blockhash not found, …) behave as against a real node.

use serde_json::Value;

#[derive(Debug)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }

    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(-32700, message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(-32600, message)
    }

    pub fn method_not_found(method: &str) -> Self {
        Self::new(-32601, format!("Method not found: {method}"))
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(-32602, format!("Invalid params: {}", message.into()))
    }

    /// `sendTransaction` preflight failed; `data` carries err, logs and units
    /// like a real node's `RpcSimulateTransactionResult`.
    pub fn preflight_failure(message: impl Into<String>, data: Value) -> Self {
        RpcError { code: -32002, message: message.into(), data: Some(data) }
    }

    pub fn signature_verification_failure() -> Self {
        Self::new(-32003, "Transaction signature verification failure")
    }

    pub fn transaction_history_not_available() -> Self {
        Self::new(-32011, "Transaction history is not available from this node")
    }
}
