//! Solana JSON-RPC 2.0 over HTTP, answering from the [`Chain`](crate::chain::Chain).
//!
//! Implements the methods a wallet, `solana-go` or `@solana/web3.js` client
//! uses to read accounts, send, simulate and confirm transactions, plus the
//! surfpool-compatible `surfnet_timeTravel`, `surfnet_pauseClock` and
//! `surfnet_resumeClock` for deadline tests. Every transaction is final as soon
//! as it lands, so all commitments answer the same.

mod encode;
mod error;
mod handle;
mod methods;

use std::net::SocketAddr;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

pub use error::RpcError;
pub use handle::ChainHandle;

/// Reported by `getVersion`: the runtime crates the chain executes with.
pub const CORE_VERSION: &str = "3.1.14";

/// Serves JSON-RPC on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, chain: ChainHandle) -> std::io::Result<()> {
    let app = Router::new()
        .route("/", post(handle_http).get(health))
        .route("/health", axum::routing::get(health))
        .with_state(chain);
    axum::serve(listener, app).await
}

async fn health() -> &'static str {
    "ok"
}

async fn handle_http(State(chain): State<ChainHandle>, body: axum::body::Bytes) -> Json<Value> {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return Json(error_response(Value::Null, RpcError::parse(e.to_string()))),
    };
    match request {
        Value::Array(batch) if !batch.is_empty() => {
            let mut out = Vec::with_capacity(batch.len());
            for call in batch {
                out.push(handle_call(&chain, call).await);
            }
            Json(Value::Array(out))
        }
        Value::Object(_) => Json(handle_call(&chain, request).await),
        _ => Json(error_response(Value::Null, RpcError::invalid_request("expected a request object or a non-empty batch"))),
    }
}

async fn handle_call(chain: &ChainHandle, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return error_response(id, RpcError::invalid_request("missing method"));
    };
    let params = match call.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(p)) => p.clone(),
        Some(_) => return error_response(id, RpcError::invalid_params("params must be an array")),
    };
    match methods::dispatch(chain, method, params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
        Err(err) => error_response(id, err),
    }
}

fn error_response(id: Value, err: RpcError) -> Value {
    let mut body = json!({"code": err.code, "message": err.message});
    if let Some(data) = err.data {
        body["data"] = data;
    }
    json!({"jsonrpc": "2.0", "error": body, "id": id})
}

/// Binds `host:port` (port 0 picks a free one) and returns the listener with
/// the address it got.
pub async fn bind(host: &str, port: u16) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind((host, port)).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}
