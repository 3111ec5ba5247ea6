//! `idlgen <program-dir>... --out <dir>`: builds each program's IDL the way
//! the Anchor CLI does (compile with `idl-build`, run the printing test,
//! stitch the pieces) and writes `<out>/<program>.json`, pretty-printed with a
//! trailing newline so that regenerating an unchanged program changes no byte.
//!
//! It also writes `<out>/anchor_errors.json`: Anchor's own framework error
//! codes (constraint and account errors, 100–5000) as the pinned anchor-lang
//! defines them, so clients can name them as they name our programs' errors.

use std::path::PathBuf;

use anchor_lang_idl::build::IdlBuilder;

mod anchor_errors;
use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let mut programs = Vec::new();
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            _ => programs.push(PathBuf::from(arg)),
        }
    }
    let Some(out) = out else { bail!("usage: idlgen <program-dir>... --out <dir>") };
    if programs.is_empty() {
        bail!("usage: idlgen <program-dir>... --out <dir>");
    }
    // anchor-lang-idl 0.1.4 passes a literal "+{toolchain}" to cargo when
    // RUSTUP_TOOLCHAIN is set (rustup sets it for child processes). The
    // nested cargo finds the same toolchain through rust-toolchain.toml.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    let errors = anchor_errors::extract()?;
    let path = out.join("anchor_errors.json");
    std::fs::write(&path, serde_json::to_string_pretty(&errors)? + "\n").with_context(|| format!("write {}", path.display()))?;
    eprintln!("idlgen: wrote {} ({} framework errors)", path.display(), errors.len());
    for dir in programs {
        let dir = dir.canonicalize().with_context(|| format!("program directory {}", dir.display()))?;
        eprintln!("idlgen: building IDL of {}", dir.display());
        let idl = IdlBuilder::new()
            .program_path(dir.clone())
            .build()
            .with_context(|| format!("build IDL of {}", dir.display()))?;
        let path = out.join(format!("{}.json", idl.metadata.name));
        let mut json = serde_json::to_string_pretty(&idl)?;
        json.push('\n');
        std::fs::write(&path, json).with_context(|| format!("write {}", path.display()))?;
        eprintln!("idlgen: wrote {}", path.display());
    }
    Ok(())
}
