//! `rulesoracle`: the programs' own rule code behind a line protocol, so the
//! Go copies of those rules (clients/rules, clients/settlement) can be
//! checked against it on random inputs.
//!
//! Each stdin line is `{"rule": "<name>", "in": {...}}`; each stdout line is
//! `{"ok": {...}}` with the rule's result or `{"err": "<ErrorName>"}` with the
//! program error it returned (e.g. `MathOverflow`). u128 values travel as
//! decimal strings. A malformed query gets `{"bad": "<why>"}`, so a test
//! never mistakes its own mistake for the program's answer.
use std::io::{BufRead, Write};

use anyhow::{anyhow, Result};
use serde_json::{json, Value};

mod bounty;
mod input;
mod meter;
mod treasury;

/// What a rule returns: a result, or the name of the program error.
pub type Answer = std::result::Result<Value, String>;

fn answer(rule: &str, input: &Value) -> Result<Answer> {
    if let Some(a) = bounty::answer(rule, input)? {
        return Ok(a);
    }
    if let Some(a) = treasury::answer(rule, input)? {
        return Ok(a);
    }
    if let Some(a) = meter::answer(rule, input)? {
        return Ok(a);
    }
    Err(anyhow!("unknown rule {rule:?}"))
}

fn main() -> Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Value>(&line) {
            Err(e) => json!({ "bad": format!("not JSON: {e}") }),
            Ok(q) => {
                let rule = q["rule"].as_str().unwrap_or_default().to_string();
                match answer(&rule, &q["in"]) {
                    Ok(Ok(v)) => json!({ "ok": v }),
                    Ok(Err(name)) => json!({ "err": name }),
                    Err(e) => json!({ "bad": format!("{e:#}") }),
                }
            }
        };
        serde_json::to_writer(&mut out, &reply)?;
        out.write_all(b"\n")?;
        // The Go side waits for each answer before it sends the next query.
        out.flush()?;
    }
    Ok(())
}
