//! Reads Anchor's framework `ErrorCode` enum from the source of the
//! anchor-lang crate this workspace is locked to (`src/error.rs`). The enum has no
//! reverse mapping from code to name, and the IDL carries only a program's
//! own errors, so the source is the one place the table exists.

use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

pub fn extract() -> Result<Vec<Value>> {
    let source = std::fs::read_to_string(locate()?).context("read anchor-lang error source")?;
    let body = source
        .split("pub enum ErrorCode {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .ok_or_else(|| anyhow!("ErrorCode enum not found in anchor-lang's src/error.rs"))?;
    let mut errors = Vec::new();
    let mut message: Option<String> = None;
    let mut next_code: u32 = 0;
    for line in body.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#[msg(\"") {
            message = Some(rest.trim_end_matches("\")]").to_owned());
            continue;
        }
        if line.is_empty() || line.starts_with("//") || line.starts_with('#') {
            continue;
        }
        let variant = line.trim_end_matches(',');
        let (name, code) = match variant.split_once('=') {
            Some((name, code)) => (name.trim(), code.trim().parse::<u32>().with_context(|| format!("code of {name}"))?),
            None => (variant, next_code),
        };
        if !name.chars().all(|c| c.is_ascii_alphanumeric()) || name.is_empty() {
            bail!("unexpected line in ErrorCode: {line:?}");
        }
        errors.push(json!({"code": code, "name": name, "msg": message.take().unwrap_or_default()}));
        next_code = code + 1;
    }
    if errors.len() < 50 {
        bail!("only {} Anchor errors found; has the enum's layout changed?", errors.len());
    }
    Ok(errors)
}

fn locate() -> Result<String> {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--locked"])
        .output()
        .context("run cargo metadata")?;
    if !output.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)?;
    let packages = metadata["packages"].as_array().ok_or_else(|| anyhow!("no packages in cargo metadata"))?;
    let package = packages
        .iter()
        .find(|p| p["name"] == "anchor-lang")
        .ok_or_else(|| anyhow!("anchor-lang is not in the dependency graph"))?;
    let manifest = package["manifest_path"].as_str().ok_or_else(|| anyhow!("no manifest path"))?;
    Ok(manifest.trim_end_matches("Cargo.toml").to_owned() + "src/error.rs")
}
