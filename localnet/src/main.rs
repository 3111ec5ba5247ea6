//! `localnet`: a local Solana chain with our programs, over JSON-RPC.

use std::time::Duration;

use clap::Parser;
use localnet::programs;
use localnet::rpc::{self, ChainHandle};

#[derive(Parser)]
#[command(about = "Local Solana chain: LiteSVM with the mt_treasury and inference_meter programs as host builtins, served over JSON-RPC")]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// JSON-RPC port; 0 picks a free one (printed when ready).
    #[arg(long, default_value_t = 8899)]
    port: u16,
    /// Milliseconds per slot.
    #[arg(long, default_value_t = 400)]
    slot_ms: u64,
    /// How many landed transactions to remember for status and history queries.
    #[arg(long, default_value_t = 200_000)]
    max_history: usize,
    /// Upgrade authority recorded in each program's ProgramData account (the
    /// only key that may run mt_treasury's init_protocol); default: the
    /// development key keys/localnet-upgrade-authority.json.
    #[arg(long)]
    upgrade_authority: Option<String>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let upgrade_authority = match &args.upgrade_authority {
        Some(key) => key.parse().map_err(|e| anyhow::anyhow!("--upgrade-authority {key}: {e:?}"))?,
        None => programs::default_upgrade_authority(),
    };
    let chain = ChainHandle::spawn(Duration::from_millis(args.slot_ms.max(1)), args.max_history, upgrade_authority);
    let (listener, addr) = rpc::bind(&args.bind, args.port).await?;
    for (name, id) in programs::deployed() {
        println!("program {name} {id} upgrade-authority {upgrade_authority}");
    }
    // Tests and scripts wait for this exact line.
    println!("localnet ready rpc=http://{addr}");
    tokio::select! {
        served = rpc::serve(listener, chain) => served?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
