//! Shared set-up for the bounty tests: an active model with five MT holders
//! (deposited and warmed up, so they can review), builders for every bounty
//! instruction, and the pool's books.
#![allow(dead_code)]

use mt_treasury::instructions::SubmitWorkArgs;
use mt_treasury::state::{
    review_commitment, seeds, Bounty, BountyPool, BountyTerms, ProposalAction, Reputation, Review, ReviewChoice, Submission,
    VoteChoice, MT_UNIT,
};
use program_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::treasury_common::*;

pub const MT: u64 = MT_UNIT;
pub const SALT: [u8; 32] = [9; 32];

pub fn pool_pda(model: &Pubkey) -> Pubkey {
    pda(&[seeds::BOUNTY_POOL, model.as_ref()])
}
pub fn pool_vault_pda(model: &Pubkey) -> Pubkey {
    pda(&[seeds::BOUNTY_VAULT, model.as_ref()])
}
pub fn bounty_pda(model: &Pubkey, id: u64) -> Pubkey {
    pda(&[seeds::BOUNTY, model.as_ref(), &id.to_le_bytes()])
}
pub fn submission_pda(bounty: &Pubkey, contributor: &Pubkey) -> Pubkey {
    pda(&[seeds::SUBMISSION, bounty.as_ref(), contributor.as_ref()])
}
pub fn review_pda(submission: &Pubkey, reviewer: &Pubkey) -> Pubkey {
    pda(&[seeds::REVIEW, submission.as_ref(), reviewer.as_ref()])
}
pub fn reputation_pda(model: &Pubkey, wallet: &Pubkey) -> Pubkey {
    pda(&[seeds::REPUTATION, model.as_ref(), wallet.as_ref()])
}
pub fn work_pda(model: &Pubkey, content_hash: &[u8; 32]) -> Pubkey {
    pda(&[seeds::WORK, model.as_ref(), content_hash.as_ref()])
}

/// Terms used unless a test says otherwise: 900 NATIVE reward, 30 NATIVE
/// review fee per submission, bonds of 10 (submission) and 4 (review),
/// up to 3 submissions, 3 reviewers, 60 % to decide.
pub fn terms() -> BountyTerms {
    BountyTerms {
        task_hash: [1; 32],
        reward: 900 * NATIVE,
        review_fee: 30 * NATIVE,
        submission_bond: 10 * NATIVE,
        review_bond: 4 * NATIVE,
        max_submissions: 3,
        min_reviewers: 3,
        threshold_bps: 6_000,
        min_reputation: 0,
        submit_secs: 600,
        review_secs: 600,
    }
}

/// An active model whose five holders (10 000, 7 500, 5 000, 4 000 and
/// 3 500 MT) have deposited everything, warmed up; a pool proposal can pass
/// on holder 0's vote alone.
pub struct World {
    pub d: Active,
    pub reviewers: Vec<Keypair>,
}

impl World {
    pub fn new() -> Self {
        let mut d = Active::new(&[20_000 * NATIVE, 15_000 * NATIVE, 10_000 * NATIVE, 8_000 * NATIVE, 7_000 * NATIVE]);
        let reviewers: Vec<Keypair> = d.holders.iter().map(|k| k.insecure_clone()).collect();
        for (r, mt) in reviewers.iter().zip([10_000, 7_500, 5_000, 4_000, 3_500]) {
            d.deposit_mt(r, mt * MT).expect("deposit");
        }
        d.warm_votes();
        World { d, reviewers }
    }

    pub fn model(&self) -> Pubkey {
        self.d.keys.model
    }

    /// Proposes `action` as holder 0, passes it on holder 0's vote and
    /// moves to its execution time; returns the proposal index.
    pub fn pass(&mut self, action: ProposalAction) -> u64 {
        let a = self.reviewers[0].insecure_clone();
        let index = self.d.propose(&a, action).expect("propose");
        self.d.vote(&a, index, VoteChoice::Yes).expect("vote");
        self.d.warp_to_voting_end(index);
        self.d.finalize_proposal(&a, index).expect("finalize proposal");
        let at = self.d.proposal(index).execute_after;
        self.d.warp(at);
        index
    }

    pub fn fund_accounts(&self, payer: &Pubkey, index: u64) -> mt_treasury::accounts::FundBountyPool {
        let model = self.model();
        mt_treasury::accounts::FundBountyPool {
            payer: *payer,
            protocol: protocol_pda(),
            model,
            proposal: proposal_pda(&model, index),
            bounty_pool: pool_pda(&model),
            bounty_vault: pool_vault_pda(&model),
            treasury_vault: self.d.keys.treasury,
            native_mint: self.d.f.native_mint,
            native_token_program: self.d.f.native_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn fund_tx(&mut self, index: u64) -> TxResult {
        let payer = self.reviewers[0].insecure_clone();
        let ix = Harness::ix(PROGRAM, self.fund_accounts(&payer.pubkey(), index), mt_treasury::instruction::FundBountyPool {});
        self.d.exec(ix, &[&payer])
    }

    /// Passes and executes a pool funding of `amount`.
    pub fn fund(&mut self, amount: u64) {
        let index = self.pass(ProposalAction::FundBountyPool { amount });
        self.fund_tx(index).expect("fund pool");
    }

    pub fn create_accounts(&self, payer: &Pubkey, index: u64) -> mt_treasury::accounts::CreateBounty {
        let model = self.model();
        let id = if self.d.f.h.exists(&pool_pda(&model)) { self.pool().bounty_count } else { 0 };
        mt_treasury::accounts::CreateBounty {
            payer: *payer,
            protocol: protocol_pda(),
            model,
            proposal: proposal_pda(&model, index),
            bounty_pool: pool_pda(&model),
            bounty: bounty_pda(&model, id),
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn create_tx(&mut self, index: u64) -> TxResult {
        let payer = self.reviewers[0].insecure_clone();
        let ix = Harness::ix(PROGRAM, self.create_accounts(&payer.pubkey(), index), mt_treasury::instruction::CreateBounty {});
        self.d.exec(ix, &[&payer])
    }

    /// Passes and executes a bounty with `terms`; returns its id.
    pub fn create(&mut self, terms: BountyTerms) -> u64 {
        let index = self.pass(ProposalAction::CreateBounty { terms });
        let id = self.pool().bounty_count;
        self.create_tx(index).expect("create bounty");
        id
    }

    pub fn submit_accounts(&self, contributor: &Pubkey, id: u64, content_hash: &[u8; 32]) -> mt_treasury::accounts::SubmitWork {
        let model = self.model();
        let bounty = bounty_pda(&model, id);
        mt_treasury::accounts::SubmitWork {
            contributor: *contributor,
            protocol: protocol_pda(),
            model,
            bounty,
            submission: submission_pda(&bounty, contributor),
            work_claim: work_pda(&model, content_hash),
            reputation: reputation_pda(&model, contributor),
            bounty_pool: pool_pda(&model),
            bounty_vault: pool_vault_pda(&model),
            source: self.d.native_ata(contributor),
            native_mint: self.d.f.native_mint,
            native_token_program: self.d.f.native_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn submit_ix(&self, accounts: mt_treasury::accounts::SubmitWork, content_hash: [u8; 32]) -> Instruction {
        let args = SubmitWorkArgs { content_hash, uri: "https://example.org/work.md".into() };
        Harness::ix(PROGRAM, accounts, mt_treasury::instruction::SubmitWork { args })
    }

    pub fn submit(&mut self, contributor: &Keypair, id: u64, content_hash: [u8; 32]) -> TxResult {
        let ix = self.submit_ix(self.submit_accounts(&contributor.pubkey(), id, &content_hash), content_hash);
        self.d.exec(ix, &[contributor])
    }

    pub fn commit_accounts(&self, reviewer: &Pubkey, id: u64, contributor: &Pubkey) -> mt_treasury::accounts::CommitReview {
        let model = self.model();
        let bounty = bounty_pda(&model, id);
        let submission = submission_pda(&bounty, contributor);
        mt_treasury::accounts::CommitReview {
            reviewer: *reviewer,
            protocol: protocol_pda(),
            model,
            bounty,
            submission,
            voter: voter_pda(&model, reviewer),
            review: review_pda(&submission, reviewer),
            reputation: reputation_pda(&model, reviewer),
            bounty_pool: pool_pda(&model),
            bounty_vault: pool_vault_pda(&model),
            source: self.d.native_ata(reviewer),
            native_mint: self.d.f.native_mint,
            native_token_program: self.d.f.native_program,
            system_program: anchor_lang::system_program::ID,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn commit_with(&mut self, reviewer: &Keypair, id: u64, contributor: &Pubkey, commitment: [u8; 32]) -> TxResult {
        let accounts = self.commit_accounts(&reviewer.pubkey(), id, contributor);
        let ix = Harness::ix(PROGRAM, accounts, mt_treasury::instruction::CommitReview { commitment });
        self.d.exec(ix, &[reviewer])
    }

    /// Commits `choice` with [`SALT`].
    pub fn commit(&mut self, reviewer: &Keypair, id: u64, contributor: &Pubkey, choice: ReviewChoice) -> TxResult {
        let submission = submission_pda(&bounty_pda(&self.model(), id), contributor);
        let commitment = review_commitment(choice, &SALT, &submission, &reviewer.pubkey());
        self.commit_with(reviewer, id, contributor, commitment)
    }

    pub fn reveal_accounts(&self, reviewer: &Pubkey, id: u64, contributor: &Pubkey) -> mt_treasury::accounts::RevealReview {
        let model = self.model();
        let bounty = bounty_pda(&model, id);
        let submission = submission_pda(&bounty, contributor);
        mt_treasury::accounts::RevealReview {
            reviewer: *reviewer,
            model,
            bounty,
            submission,
            review: review_pda(&submission, reviewer),
            reputation: reputation_pda(&model, reviewer),
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn reveal_with(&mut self, reviewer: &Keypair, id: u64, contributor: &Pubkey, choice: ReviewChoice, salt: [u8; 32]) -> TxResult {
        let accounts = self.reveal_accounts(&reviewer.pubkey(), id, contributor);
        let ix = Harness::ix(PROGRAM, accounts, mt_treasury::instruction::RevealReview { choice, salt });
        self.d.exec(ix, &[reviewer])
    }

    pub fn reveal(&mut self, reviewer: &Keypair, id: u64, contributor: &Pubkey, choice: ReviewChoice) -> TxResult {
        self.reveal_with(reviewer, id, contributor, choice, SALT)
    }

    pub fn finalize_accounts(&self, id: u64, contributor: &Pubkey) -> mt_treasury::accounts::FinalizeSubmission {
        let model = self.model();
        let bounty = bounty_pda(&model, id);
        mt_treasury::accounts::FinalizeSubmission {
            model,
            bounty,
            submission: submission_pda(&bounty, contributor),
            reputation: reputation_pda(&model, contributor),
            bounty_pool: pool_pda(&model),
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    /// Finalises, paid by holder 0 (anyone may).
    pub fn finalize(&mut self, id: u64, contributor: &Pubkey) -> TxResult {
        let payer = self.reviewers[0].insecure_clone();
        let ix = Harness::ix(PROGRAM, self.finalize_accounts(id, contributor), mt_treasury::instruction::FinalizeSubmission {});
        self.d.exec(ix, &[&payer])
    }

    pub fn settle(&mut self, id: u64) -> TxResult {
        let model = self.model();
        let accounts = mt_treasury::accounts::SettleBounty {
            model,
            bounty: bounty_pda(&model, id),
            bounty_pool: pool_pda(&model),
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        };
        let payer = self.reviewers[0].insecure_clone();
        self.d.exec(Harness::ix(PROGRAM, accounts, mt_treasury::instruction::SettleBounty {}), &[&payer])
    }

    pub fn claim_submission_accounts(&self, contributor: &Pubkey, id: u64) -> mt_treasury::accounts::ClaimSubmission {
        let model = self.model();
        let bounty = bounty_pda(&model, id);
        mt_treasury::accounts::ClaimSubmission {
            contributor: *contributor,
            protocol: protocol_pda(),
            model,
            bounty,
            submission: submission_pda(&bounty, contributor),
            bounty_pool: pool_pda(&model),
            bounty_vault: pool_vault_pda(&model),
            destination: self.d.native_ata(contributor),
            native_mint: self.d.f.native_mint,
            native_token_program: self.d.f.native_program,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn claim_submission(&mut self, contributor: &Keypair, id: u64) -> TxResult {
        let accounts = self.claim_submission_accounts(&contributor.pubkey(), id);
        self.d.exec(Harness::ix(PROGRAM, accounts, mt_treasury::instruction::ClaimSubmission {}), &[contributor])
    }

    pub fn claim_review_accounts(&self, reviewer: &Pubkey, id: u64, contributor: &Pubkey) -> mt_treasury::accounts::ClaimReview {
        let model = self.model();
        let bounty = bounty_pda(&model, id);
        let submission = submission_pda(&bounty, contributor);
        mt_treasury::accounts::ClaimReview {
            reviewer: *reviewer,
            protocol: protocol_pda(),
            model,
            bounty,
            submission,
            review: review_pda(&submission, reviewer),
            reputation: reputation_pda(&model, reviewer),
            bounty_pool: pool_pda(&model),
            bounty_vault: pool_vault_pda(&model),
            destination: self.d.native_ata(reviewer),
            native_mint: self.d.f.native_mint,
            native_token_program: self.d.f.native_program,
            event_authority: event_authority(&PROGRAM),
            program: PROGRAM,
        }
    }

    pub fn claim_review(&mut self, reviewer: &Keypair, id: u64, contributor: &Pubkey) -> TxResult {
        let accounts = self.claim_review_accounts(&reviewer.pubkey(), id, contributor);
        self.d.exec(Harness::ix(PROGRAM, accounts, mt_treasury::instruction::ClaimReview {}), &[reviewer])
    }

    // ---- reads ----

    pub fn pool(&self) -> BountyPool {
        self.d.f.h.account(&pool_pda(&self.model()))
    }
    pub fn bounty(&self, id: u64) -> Bounty {
        self.d.f.h.account(&bounty_pda(&self.model(), id))
    }
    pub fn submission(&self, id: u64, contributor: &Pubkey) -> Submission {
        self.d.f.h.account(&submission_pda(&bounty_pda(&self.model(), id), contributor))
    }
    pub fn review(&self, id: u64, contributor: &Pubkey, reviewer: &Pubkey) -> Review {
        let submission = submission_pda(&bounty_pda(&self.model(), id), contributor);
        self.d.f.h.account(&review_pda(&submission, reviewer))
    }
    pub fn reputation(&self, wallet: &Pubkey) -> Reputation {
        self.d.f.h.account(&reputation_pda(&self.model(), wallet))
    }
    pub fn vault_balance(&self) -> u64 {
        self.d.f.h.token_balance(&pool_vault_pda(&self.model()))
    }
    pub fn native(&self, owner: &Pubkey) -> u64 {
        self.d.f.h.token_balance(&self.d.native_ata(owner))
    }

    /// The pool's books match its vault to the base unit.
    #[track_caller]
    pub fn assert_books(&self) {
        let p = self.pool();
        assert_eq!(self.vault_balance(), p.available + p.reserved + p.held, "vault = available {} + reserved {} + held {}", p.available, p.reserved, p.held);
    }

    /// A contributor wallet with 100 NATIVE.
    pub fn contributor(&mut self) -> Keypair {
        self.d.f.wallet(100 * NATIVE)
    }

    pub fn warp_to_reveal(&mut self, id: u64) {
        let at = self.bounty(id).commit_ends;
        self.d.warp(at);
    }

    pub fn warp_to_end(&mut self, id: u64) {
        let at = self.bounty(id).reveal_ends;
        self.d.warp(at);
    }
}
