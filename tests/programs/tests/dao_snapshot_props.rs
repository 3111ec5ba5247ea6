//! mt_treasury governance: property tests of the snapshot vote weight
//! (`Voter::vote_weight`, issue 14 (2)). Random deposits and withdrawals at
//! random times, under a random warm-up, against a reference that remembers
//! every balance the record ever had:
//!
//! 1. never counts late MT: the weight on a proposal created at `c` is at
//!    most the MT that was in the record at `c − warm-up` and stayed there
//!    ever since (no MT deposited later, none withdrawn since, counts);
//! 2. buying and depositing after a proposal exists adds nothing: no
//!    deposit raises the weight on any proposal created before the deposit
//!    has warmed up, and no withdrawal raises any weight;
//! 3. holders keep their weight: when no deposit was made in the warm-up
//!    before `c`, everything still deposited votes.

use mt_treasury::state::Voter;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Op {
    dt: i64,
    deposit: bool,
    amount: u64,
}

fn op() -> impl Strategy<Value = Op> {
    (0i64..200, any::<bool>(), 1u64..1_000).prop_map(|(dt, deposit, amount)| Op { dt, deposit, amount })
}

fn empty() -> Voter {
    Voter {
        model: Default::default(),
        owner: Default::default(),
        deposited: 0,
        warming: 0,
        warm_at: 0,
        locked_until: 0,
        reward_checkpoint: 0,
        rewards_owed: 0,
        rewards_claimed: 0,
        bump: 0,
        recent: 0,
        recent_votes_from: 0,
        settled_votes_from: 0,
    }
}

/// The most MT that can have stayed in the record from `c − warmup` (inclusive) until now.
fn stayed(history: &[(i64, u64)], c: i64, warmup: i64) -> u64 {
    let cut = c - warmup;
    // Balance at the cut: after the last operation at or before it.
    let at_cut = history.iter().take_while(|(t, _)| *t <= cut).last().map(|(_, b)| *b).unwrap_or(0);
    history.iter().filter(|(t, _)| *t > cut).map(|(_, b)| *b).fold(at_cut, u64::min)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn snapshot_weight_counts_only_mt_that_stayed_from_before_the_proposal(
        warmup in 1i64..300,
        ops in prop::collection::vec(op(), 1..40),
        start in 0i64..1_000,
    ) {
        let mut v = empty();
        let mut now = start;
        let mut history: Vec<(i64, u64)> = Vec::new();
        let mut last_deposit = i64::MIN;
        for o in &ops {
            now += o.dt;
            let probes: Vec<i64> = (start - 10..=now + warmup + 10).step_by(7).chain([now, now - 1, now + warmup - 1, now + warmup]).collect();
            let before: Vec<u64> = probes.iter().map(|c| v.vote_weight(*c)).collect();
            if o.deposit {
                v.deposited += o.amount;
                v.add_votes(o.amount, now, warmup).unwrap();
                last_deposit = now;
                // (2) a deposit adds nothing to proposals created before it warms up.
                for (c, w) in probes.iter().zip(&before) {
                    if *c < now + warmup {
                        prop_assert!(v.vote_weight(*c) <= *w, "deposit at {} raised the weight at {} from {} to {}", now, c, w, v.vote_weight(*c));
                    }
                }
            } else {
                let amount = o.amount.min(v.deposited);
                v.deposited -= amount;
                v.remove_votes(amount);
                for (c, w) in probes.iter().zip(&before) {
                    prop_assert!(v.vote_weight(*c) <= *w, "a withdrawal raised the weight at {}", c);
                }
            }
            prop_assert!(v.recent <= v.deposited);
            history.push((now, v.deposited));
            for c in &probes {
                // (1) never more than what stayed from c − warm-up until now.
                prop_assert!(v.vote_weight(*c) <= stayed(&history, *c, warmup), "weight at {} above what stayed", c);
                // (3) no deposit within the warm-up before c: all of it votes.
                if last_deposit <= c - warmup {
                    prop_assert_eq!(v.vote_weight(*c), v.deposited);
                }
            }
        }
    }
}
