//! inference_meter's settlement arithmetic, answered by the program's own functions.
use anyhow::Result;
use inference_meter::math::{distribute, share_cost, split};
use serde_json::{json, Value};

use crate::input::*;
use crate::Answer;

/// Answers inference_meter's rules; None for a rule that is not one of them.
pub fn answer(rule: &str, v: &Value) -> Result<Option<Answer>> {
    let a: Answer = match rule {
        "share_cost" => share_cost(
            u64_(v, "input")?,
            u64_(v, "output")?,
            u64_(v, "input_per_1k")?,
            u64_(v, "output_per_1k")?,
            u16_(v, "weight_bps")?,
        )
        .map(|c| json!({ "cost": c }))
        .map_err(error_name),
        "split" => split(u64_(v, "charged")?, u16_(v, "fee_bps")?, u16_(v, "operator_bps")?)
            .map(|s| json!({ "to_protocol": s.to_protocol, "to_operator": s.to_operator, "to_model": s.to_model }))
            .map_err(error_name),
        "distribute" => {
            let costs = u64s(v, "costs")?;
            let mut parts = vec![0u64; costs.len()];
            distribute(&costs, u64_(v, "charged")?, &mut parts).map(|()| json!({ "parts": parts })).map_err(error_name)
        }
        _ => return Ok(None),
    };
    Ok(Some(a))
}
