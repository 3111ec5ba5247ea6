//! Bounty payout math, property tests over the review rule itself
//! (`ReviewTally::settle`, `review_payout`, `Submission::contributor_payout`,
//! `Bounty::settlement`) with random terms, weights, choices and no-shows.
//! Checked, to the base unit:
//! - a submission's money is conserved: its review fee + every review bond
//!   + the contributor's bond = what reviewers are paid + what the
//!   contributor is paid + what goes back to the pool (a fee pool nobody
//!   won, or the winners' rounding dust);
//! - no winner is paid more than its exact pro-rata share of the fee pool,
//!   and the dust is below one base unit per winner;
//! - a bounty's reservation = awards paid + what settling releases + the
//!   review fees moved at finalisation.

use anchor_lang::prelude::Pubkey;
use mt_treasury::state::{
    review_payout, Bounty, BountyTerms, Review, ReviewChoice, ReviewTally, Submission, SubmissionOutcome,
};
use proptest::prelude::*;

fn choice(i: u8) -> ReviewChoice {
    [ReviewChoice::Approve, ReviewChoice::Reject, ReviewChoice::Spam][i as usize % 3]
}

fn terms(fee: u64, sbond: u64, rbond: u64, min_reviewers: u16, threshold_bps: u16) -> BountyTerms {
    BountyTerms {
        task_hash: [1; 32],
        reward: 1_000,
        review_fee: fee,
        submission_bond: sbond,
        review_bond: rbond,
        max_submissions: 10,
        min_reviewers,
        threshold_bps,
        min_reputation: 0,
        submit_secs: 60,
        review_secs: 60,
    }
}

fn submission(outcome: SubmissionOutcome, tally: ReviewTally, bond: u64) -> Submission {
    Submission {
        bounty: Pubkey::default(),
        contributor: Pubkey::default(),
        content_hash: [2; 32],
        uri: String::new(),
        bond,
        submitted_at: 0,
        tally,
        outcome,
        fee_pool: 0,
        winning_weight: 0,
        winners: 0,
        clear: false,
        slash: 0,
        fee_paid: 0,
        winner_claims: 0,
        claimed: false,
        bump: 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn a_submission_conserves_every_base_unit(
        reviews in prop::collection::vec((1u64..=u32::MAX as u64, 0u8..3, any::<bool>()), 0..12),
        fee in 0u64..1_000_000_000,
        sbond in 1u64..1_000_000_000,
        rbond in 1u64..1_000_000_000,
        min_reviewers in 1u16..6,
        threshold_bps in 1u16..=10_000,
    ) {
        let t = terms(fee, sbond, rbond, min_reviewers, threshold_bps);
        let mut tally = ReviewTally::default();
        let mut rs = Vec::new();
        for &(weight, c, revealed) in &reviews {
            tally.commits += 1;
            if revealed {
                tally.record(choice(c), weight).unwrap();
            }
            rs.push(Review {
                submission: Pubkey::default(),
                reviewer: Pubkey::default(),
                commitment: [3; 32],
                weight,
                bond: rbond,
                revealed,
                choice: choice(c),
                claimed: false,
                bump: 0,
            });
        }
        let st = tally.settle(&t).unwrap();
        let mut s = submission(st.outcome, tally, sbond);
        s.fee_pool = st.fee_pool;
        s.winning_weight = st.winning_weight;
        s.winners = st.winners;
        s.clear = st.clear;
        s.slash = st.slash;

        let mut paid_reviewers: u128 = 0;
        let mut fees: u128 = 0;
        let mut winners = 0u16;
        for r in &rs {
            let p = review_payout(r, &s).unwrap();
            paid_reviewers += p.amount as u128;
            fees += p.fee as u128;
            if p.winner {
                winners += 1;
                let exact = st.fee_pool as u128 * r.weight as u128;
                prop_assert!(p.fee as u128 * st.winning_weight as u128 <= exact, "never above the pro-rata share");
            }
        }
        prop_assert_eq!(winners, st.winners);
        let back_to_pool: u128 = if st.winners == 0 { st.fee_pool as u128 } else { st.fee_pool as u128 - fees };
        if st.winners > 0 {
            prop_assert!(back_to_pool < st.winners as u128, "dust below one base unit per winner");
        }
        let contributor = s.contributor_payout(0).unwrap() as u128;
        let into = fee as u128 + rbond as u128 * rs.len() as u128 + sbond as u128;
        prop_assert_eq!(into, paid_reviewers + contributor + back_to_pool);
        if st.outcome == SubmissionOutcome::Spam {
            prop_assert_eq!(contributor, 0);
        }
    }

    #[test]
    fn a_bounty_reservation_is_spent_or_released_exactly(
        reward in 1u64..u32::MAX as u64,
        fee in 0u64..1_000_000,
        max_submissions in 1u16..=1_000,
        subs in 0u16..=1_000,
        accepted in 0u16..=1_000,
    ) {
        let submissions = subs.min(max_submissions);
        let accepted = accepted.min(submissions);
        let terms = BountyTerms { reward, max_submissions, ..terms(fee, 1, 1, 1, 5_000) };
        let b = Bounty {
            model: Pubkey::default(),
            id: 0,
            proposal: Pubkey::default(),
            terms,
            created_at: 0,
            submit_ends: 0,
            commit_ends: 0,
            reveal_ends: 0,
            submissions,
            finalized: submissions,
            accepted,
            settled: false,
            award: 0,
            bump: 0,
        };
        let (award, owed, released) = b.settlement().unwrap();
        prop_assert_eq!(owed, award * accepted as u64);
        prop_assert!(owed <= reward);
        let fees_finalized = fee as u128 * submissions as u128;
        prop_assert_eq!(terms.reservation().unwrap() as u128, owed as u128 + released as u128 + fees_finalized);
        if accepted > 0 {
            prop_assert!(reward - owed < accepted as u64, "rounding keeps less than one unit per winner");
        }
    }
}
