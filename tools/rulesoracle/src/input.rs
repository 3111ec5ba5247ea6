//! Typed reads of a query's fields; a missing or mistyped field is a bad
//! query, never a default.
use anchor_lang::error::Error;
use anyhow::{anyhow, Result};
use serde_json::Value;

pub fn u64_(v: &Value, k: &str) -> Result<u64> {
    v[k].as_u64().ok_or_else(|| anyhow!("field {k:?}: want a u64, got {}", v[k]))
}

pub fn i64_(v: &Value, k: &str) -> Result<i64> {
    v[k].as_i64().ok_or_else(|| anyhow!("field {k:?}: want an i64, got {}", v[k]))
}

pub fn u16_(v: &Value, k: &str) -> Result<u16> {
    u16::try_from(u64_(v, k)?).map_err(|_| anyhow!("field {k:?}: want a u16"))
}

pub fn u128_(v: &Value, k: &str) -> Result<u128> {
    v[k].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| anyhow!("field {k:?}: want a u128 as a decimal string"))
}

pub fn bool_(v: &Value, k: &str) -> Result<bool> {
    v[k].as_bool().ok_or_else(|| anyhow!("field {k:?}: want a bool"))
}

pub fn str_<'a>(v: &'a Value, k: &str) -> Result<&'a str> {
    v[k].as_str().ok_or_else(|| anyhow!("field {k:?}: want a string"))
}

pub fn u64s(v: &Value, k: &str) -> Result<Vec<u64>> {
    let items = v[k].as_array().ok_or_else(|| anyhow!("field {k:?}: want an array"))?;
    items.iter().map(|x| x.as_u64().ok_or_else(|| anyhow!("field {k:?}: want u64 items"))).collect()
}

/// The program error's name, as the IDL and the Go clients spell it.
pub fn error_name(e: Error) -> String {
    match e {
        Error::AnchorError(a) => a.error_name.clone(),
        Error::ProgramError(p) => format!("{:?}", p.program_error),
    }
}
