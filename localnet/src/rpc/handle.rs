//! The chain lives on one thread; RPC handlers send it closures.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use solana_address::Address;

use crate::chain::Chain;

type Job = Box<dyn FnOnce(&mut Chain) + Send>;

/// A cheap, cloneable handle to the chain thread.
#[derive(Clone)]
pub struct ChainHandle {
    jobs: mpsc::Sender<Job>,
}

impl ChainHandle {
    /// Starts the chain thread, producing a block every `slot_duration`.
    /// Its programs' ProgramData accounts name `upgrade_authority`.
    pub fn spawn(slot_duration: Duration, max_history: usize, upgrade_authority: Address) -> Self {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("chain".into())
            .spawn(move || run(rx, slot_duration, max_history, upgrade_authority))
            .expect("spawn chain thread");
        ChainHandle { jobs }
    }

    /// Runs `f` on the chain thread and returns its result.
    pub async fn call<R: Send + 'static>(&self, f: impl FnOnce(&mut Chain) -> R + Send + 'static) -> R {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |chain| {
                let _ = tx.send(f(chain));
            }))
            .expect("chain thread is gone");
        rx.await.expect("chain thread dropped a job")
    }
}

fn run(jobs: mpsc::Receiver<Job>, slot_duration: Duration, max_history: usize, upgrade_authority: Address) {
    let mut chain = Chain::with_upgrade_authority(max_history, &upgrade_authority);
    let mut next_block = Instant::now() + slot_duration;
    loop {
        let wait = next_block.saturating_duration_since(Instant::now());
        match jobs.recv_timeout(wait) {
            Ok(job) => job(&mut chain),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        // Produce blocks on time even under a steady stream of jobs.
        if Instant::now() >= next_block {
            chain.produce_block();
            next_block += slot_duration;
            if next_block < Instant::now() {
                next_block = Instant::now() + slot_duration;
            }
        }
    }
}
