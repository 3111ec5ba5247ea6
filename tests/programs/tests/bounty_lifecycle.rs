//! A whole bounty, to the base unit: the DAO funds the pool and creates a
//! bounty by proposal; three contributors submit (one spam); five MT
//! depositors commit and reveal reviews (one never reveals, one is on the
//! losing side twice); anyone finalises and settles; everyone claims.

mod bounty_common;
mod treasury_common;

use bounty_common::*;
use mt_treasury::errors::TreasuryError;
use mt_treasury::events::{BountySettled, ReviewClaimed, SubmissionFinalized};
use mt_treasury::state::{ReviewChoice, SubmissionOutcome};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use treasury_common::*;

use ReviewChoice::{Approve as A, Reject as R, Spam as S};

#[test]
fn contribute_review_and_earn_to_the_base_unit() {
    let mut w = World::new();
    let treasury_before = w.d.f.h.token_balance(&w.d.keys.treasury);
    w.fund(2_000 * NATIVE);
    assert_eq!(w.d.f.h.token_balance(&w.d.keys.treasury), treasury_before - 2_000 * NATIVE);
    assert_eq!(w.pool().available, 2_000 * NATIVE);
    w.assert_books();

    let id = w.create(terms());
    assert_eq!(w.pool().available, 2_000 * NATIVE - 990 * NATIVE, "reward 900 + 3 × review fee 30 reserved");
    assert_eq!(w.pool().reserved, 990 * NATIVE);

    let (x, y, z) = (w.contributor(), w.contributor(), w.contributor());
    for (c, h) in [(&x, [11; 32]), (&y, [12; 32]), (&z, [13; 32])] {
        w.submit(c, id, h).expect("submit");
        assert_eq!(w.native(&c.pubkey()), 90 * NATIVE, "bond of 10 posted");
    }
    w.assert_books();

    let r: Vec<Keypair> = w.reviewers.iter().map(|k| k.insecure_clone()).collect();
    // Weights 10 000, 7 500, 5 000, 4 000, 3 500 MT.
    let plan: [(&Keypair, [ReviewChoice; 5]); 3] = [(&x, [A, A, A, R, A]), (&y, [A; 5]), (&z, [S, S, R, A, S])];
    for (c, choices) in &plan {
        for (i, choice) in choices.iter().enumerate() {
            w.commit(&r[i], id, &c.pubkey(), *choice).expect("commit");
        }
    }
    for i in 0..5 {
        assert_eq!(w.d.voter(&r[i].pubkey()).locked_until, w.bounty(id).reveal_ends, "reviewing locks the MT");
        assert_eq!(w.native(&r[i].pubkey()), 1_000 * NATIVE - 12 * NATIVE, "three review bonds of 4");
    }
    w.assert_books();

    w.warp_to_reveal(id);
    for (c, choices) in &plan {
        for (i, choice) in choices.iter().enumerate() {
            if c.pubkey() == x.pubkey() && i == 4 {
                continue; // r4 never reveals its review of x
            }
            w.reveal(&r[i], id, &c.pubkey(), *choice).expect("reveal");
        }
    }

    w.warp_to_end(id);
    let fx: SubmissionFinalized = event(&w.finalize(id, &x.pubkey()).unwrap());
    assert_eq!(fx.outcome, SubmissionOutcome::Accepted);
    assert!(fx.clear, "22 500 of 26 500 ≥ 2/3");
    assert_eq!(fx.fee_pool, (30 + 4 + 2) * NATIVE, "fee + r4's lost bond + r3's slash");
    let fy: SubmissionFinalized = event(&w.finalize(id, &y.pubkey()).unwrap());
    assert_eq!((fy.outcome, fy.fee_pool), (SubmissionOutcome::Accepted, 30 * NATIVE));
    let fz: SubmissionFinalized = event(&w.finalize(id, &z.pubkey()).unwrap());
    assert_eq!(fz.outcome, SubmissionOutcome::Spam, "21 000 of 30 000 call it spam");
    assert_eq!(fz.fee_pool, (30 + 2 + 10) * NATIVE, "fee + r3's slash + z's bond");
    w.assert_books();

    let settled: BountySettled = event(&w.settle(id).unwrap());
    assert_eq!((settled.accepted, settled.award, settled.released), (2, 450 * NATIVE, 0));
    w.assert_books();

    // Contributors: x and y get the award and their bond; z lost its bond.
    for c in [&x, &y] {
        w.claim_submission(c, id).expect("claim");
        assert_eq!(w.native(&c.pubkey()), 90 * NATIVE + 460 * NATIVE);
    }
    assert_error(&w.claim_submission(&z, id), TreasuryError::NothingToClaim);

    // Reviewers, to the base unit: (submission, reviewer) → amount paid.
    let expected: [(&Keypair, usize, u64); 14] = [
        (&x, 0, 4 * NATIVE + 16 * NATIVE), // 36 × 10 000 / 22 500
        (&x, 1, 4 * NATIVE + 12 * NATIVE),
        (&x, 2, 4 * NATIVE + 8 * NATIVE),
        (&x, 3, 2 * NATIVE), // lost half its bond
        (&y, 0, 4 * NATIVE + 10 * NATIVE),
        (&y, 1, 4 * NATIVE + 7_500_000),
        (&y, 2, 4 * NATIVE + 5 * NATIVE),
        (&y, 3, 4 * NATIVE + 4 * NATIVE),
        (&y, 4, 4 * NATIVE + 3_500_000),
        (&z, 0, 4 * NATIVE + 16_153_846), // 42 × 10 000 / 26 000, rounded down
        (&z, 1, 4 * NATIVE + 12_115_384),
        (&z, 2, 4 * NATIVE + 8_076_923),
        (&z, 3, 2 * NATIVE),
        (&z, 4, 4 * NATIVE + 5_653_846),
    ];
    let available_before = w.pool().available;
    let (mut dust, mut to_reviewers) = (0, 0);
    for (c, i, amount) in expected {
        let before = w.native(&r[i].pubkey());
        let e: ReviewClaimed = event(&w.claim_review(&r[i], id, &c.pubkey()).expect("claim review"));
        assert_eq!(w.native(&r[i].pubkey()) - before, amount, "reviewer {i} on {}", c.pubkey());
        dust += e.dust_released;
        to_reviewers += amount;
    }
    assert_error(&w.claim_review(&r[4], id, &x.pubkey()), TreasuryError::NothingToClaim);
    assert_eq!(dust, 1, "42 NATIVE over 26 000 weight leaves one base unit");
    assert_eq!(w.pool().available, available_before + 1);

    let p = w.pool();
    assert_eq!((p.reserved, p.held), (0, 0), "everything owed was paid");
    assert_eq!(p.available, 1_010 * NATIVE + 1);
    assert_eq!(w.vault_balance(), p.available);
    // Reviewers posted 14 revealed bonds + r4's lost one (60) and won 108 − 1 dust of fee pools;
    // 2 × 2 of that came from r3's slashes and 4 from r4's bond, 10 from z's bond.
    assert_eq!(to_reviewers, 160 * NATIVE - 1);
    assert_eq!(p.paid_out, 920 * NATIVE + to_reviewers);

    let rep = |w: &World, k: &Keypair| w.reputation(&k.pubkey());
    assert_eq!((rep(&w, &x).accepted, rep(&w, &x).submitted), (1, 1));
    assert_eq!((rep(&w, &z).spam, rep(&w, &z).accepted), (1, 0));
    let r3 = rep(&w, &r[3]);
    assert_eq!((r3.reviews_committed, r3.reviews_revealed, r3.reviews_agreed, r3.reviews_slashed), (3, 3, 1, 2));
    let r4 = rep(&w, &r[4]);
    assert_eq!((r4.reviews_committed, r4.reviews_revealed, r4.reviews_agreed), (3, 2, 2));
}
