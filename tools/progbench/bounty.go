package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/tests/dao"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

// runBounty measures mt_treasury's bounties (programs/mt-treasury/BOUNTIES.md)
// on the protocol the mt_treasury suite created: the two proposals (with
// the longest URI the program accepts), the pool's funding and the
// bounty's creation executed from them, two submissions (one with the
// longest work URI), two reviewers' commits and reveals, finalisation,
// settlement and both claims. Voting period, hold-up, warm-up and the
// bounty's windows are short, so a real cluster only waits that long.
func runBounty(ctx context.Context, b *bench) ([]row, error) {
	if b.protocol == nil {
		return nil, errors.New("the mt_treasury suite must run first: it creates the protocol")
	}
	d := &daoBench{b: b, e: dao.Env{Env: b.protocol}}
	if err := d.bounties(ctx); err != nil {
		return nil, err
	}
	return d.rows, nil
}

func (d *daoBench) bounties(ctx context.Context) error {
	e := d.e
	now, err := e.Chain.Now(ctx)
	if err != nil {
		return err
	}
	a, err := e.LaunchActive(ctx, dao.Terms(now, 10*time.Second))
	if err != nil {
		return err
	}
	model := a.Model
	alice, bob := a.Holders[0], a.Holders[1]
	p, err := e.Protocol(ctx)
	if err != nil {
		return err
	}
	native := ix.NativeOf(p)

	// ---- proposals: fund the pool, create the bounty ----
	// Both holders deposit all their MT: alice alone meets the quorum, and
	// both review with it once it has warmed up.
	if err := d.quiet(ctx, alice, must(e.DepositMtIx(alice.PublicKey(), model, 30_000*treasury.MtUnit))); err != nil {
		return err
	}
	if err := d.quiet(ctx, bob, must(e.DepositMtIx(bob.PublicKey(), model, 20_000*treasury.MtUnit))); err != nil {
		return err
	}
	if err := e.WaitVotes(ctx, model, alice.PublicKey(), bob.PublicKey()); err != nil {
		return err
	}
	terms := mt.BountyTerms{TaskHash: [32]byte{1}, Reward: 900 * treasury.NativeUnit, ReviewFee: 30 * treasury.NativeUnit,
		SubmissionBond: 10 * treasury.NativeUnit, ReviewBond: 4 * treasury.NativeUnit, MaxSubmissions: 3, MinReviewers: 2,
		ThresholdBps: 6_000, SubmitSecs: 30, ReviewSecs: 30}
	longestURI := "https://" + strings.Repeat("u", int(mt.MAX_URI_LEN)-len("https://"))
	doc := [32]uint8{0xb0, 0x0}
	proposals := []struct {
		name   string
		action mt.ProposalAction
	}{
		{"fund bounty pool", &mt.ProposalAction_FundBountyPool{Amount: 2_000 * treasury.NativeUnit}},
		{"create bounty", &mt.ProposalAction_CreateBounty{Terms: terms}},
	}
	m, err := e.Model(ctx, model)
	if err != nil {
		return err
	}
	first := m.ProposalCount
	for i, pr := range proposals {
		index := first + uint64(i)
		args := mt.CreateProposalArgs{Action: pr.action, ContentHash: doc, Uri: longestURI}
		name := fmt.Sprintf("create_proposal (%s, longest URI (%d bytes))", pr.name, len(longestURI))
		if err := d.send(ctx, name, alice, map[solana.PublicKey]string{pda.Proposal(model, index): "Proposal"}, func() (solana.Instruction, error) {
			return e.CreateProposalIx(alice.PublicKey(), model, index, args)
		}); err != nil {
			return err
		}
		if err := d.quiet(ctx, alice, must(e.CastVoteIx(alice.PublicKey(), model, index, mt.VoteChoice_Yes))); err != nil {
			return err
		}
	}
	last, err := e.Proposal(ctx, model, first+1)
	if err != nil {
		return err
	}
	if err := d.waitUntil(ctx, last.VotingEnds); err != nil {
		return err
	}
	for i := range proposals {
		if err := d.quiet(ctx, bob, must(e.FinalizeProposalIx(model, first+uint64(i)))); err != nil {
			return err
		}
	}
	if last, err = e.Proposal(ctx, model, first+1); err != nil {
		return err
	}
	if err := d.waitUntil(ctx, last.ExecuteAfter); err != nil {
		return err
	}
	if err := d.send(ctx, "fund_bounty_pool (first: creates the pool and its vault)", bob,
		map[solana.PublicKey]string{pda.BountyPool(model): "BountyPool", pda.BountyVault(model): "bounty vault"}, func() (solana.Instruction, error) {
			return ix.FundBountyPool(bob.PublicKey(), model, first, native)
		}); err != nil {
		return err
	}
	const id = 0 // the model's first bounty
	bounty := pda.Bounty(model, id)
	if err := d.send(ctx, "create_bounty", bob, map[solana.PublicKey]string{bounty: "Bounty"}, func() (solana.Instruction, error) {
		return ix.CreateBounty(bob.PublicKey(), model, first+1, id)
	}); err != nil {
		return err
	}

	// ---- submissions ----
	workURI := "https://" + strings.Repeat("w", int(mt.MAX_SUBMISSION_URI_LEN)-len("https://"))
	var contributors []solana.PrivateKey
	for i := range 2 {
		c, err := e.Wallet(ctx, 100*treasury.NativeUnit)
		if err != nil {
			return err
		}
		args := mt.SubmitWorkArgs{ContentHash: [32]byte{byte(11 + i)}, Uri: workURI}
		names := map[solana.PublicKey]string{pda.Submission(bounty, c.PublicKey()): "Submission",
			pda.WorkClaim(model, args.ContentHash): "WorkClaim", pda.Reputation(model, c.PublicKey()): "Reputation"}
		build := func() (solana.Instruction, error) {
			return ix.SubmitWork(c.PublicKey(), model, id, e.NativeATA(c.PublicKey()), native, args)
		}
		if i == 0 {
			name := fmt.Sprintf("submit_work (first of a wallet: creates its Reputation; longest URI (%d bytes))", len(workURI))
			if err := d.send(ctx, name, c, names, build); err != nil {
				return err
			}
		} else if err := d.quiet(ctx, c, must(build())); err != nil {
			return err
		}
		contributors = append(contributors, c)
	}

	// ---- reviews: both reviewers approve both submissions ----
	reviewers := []solana.PrivateKey{alice, bob}
	salt := [32]byte{9}
	reviewNames := func(r, c solana.PrivateKey) map[solana.PublicKey]string {
		return map[solana.PublicKey]string{pda.Review(pda.Submission(bounty, c.PublicKey()), r.PublicKey()): "Review",
			pda.Reputation(model, r.PublicKey()): "Reputation"}
	}
	for i, r := range reviewers {
		for j, c := range contributors {
			commitment := rules.ReviewCommitment(mt.ReviewChoice_Approve, salt, pda.Submission(bounty, c.PublicKey()), r.PublicKey())
			build := func() (solana.Instruction, error) {
				return ix.CommitReview(r.PublicKey(), model, id, c.PublicKey(), e.NativeATA(r.PublicKey()), native, commitment)
			}
			var name string
			switch {
			case i == 0 && j == 0:
				name = "commit_review (first of a wallet: creates the Review and its Reputation)"
			case i == 0 && j == 1:
				name = "commit_review (again: creates the Review)"
			}
			if name == "" {
				if err := d.quiet(ctx, r, must(build())); err != nil {
					return err
				}
				continue
			}
			if err := d.send(ctx, name, r, reviewNames(r, c), build); err != nil {
				return err
			}
		}
	}
	bv, err := d.bounty(ctx, bounty)
	if err != nil {
		return err
	}
	if err := d.waitUntil(ctx, bv.CommitEnds); err != nil {
		return err
	}
	for i, r := range reviewers {
		for j, c := range contributors {
			build := func() (solana.Instruction, error) {
				return ix.RevealReview(r.PublicKey(), model, id, c.PublicKey(), mt.ReviewChoice_Approve, salt)
			}
			if i == 0 && j == 0 {
				if err := d.send(ctx, "reveal_review", r, nil, build); err != nil {
					return err
				}
				continue
			}
			if err := d.quiet(ctx, r, must(build())); err != nil {
				return err
			}
		}
	}
	if err := d.waitUntil(ctx, bv.RevealEnds); err != nil {
		return err
	}

	// ---- decision and payouts ----
	x, y := contributors[0], contributors[1]
	if err := d.send(ctx, "finalize_submission", bob, nil, func() (solana.Instruction, error) {
		return ix.FinalizeSubmission(model, id, x.PublicKey())
	}); err != nil {
		return err
	}
	if err := d.quiet(ctx, bob, must(ix.FinalizeSubmission(model, id, y.PublicKey()))); err != nil {
		return err
	}
	if err := d.send(ctx, "settle_bounty", bob, nil, func() (solana.Instruction, error) { return ix.SettleBounty(model, id) }); err != nil {
		return err
	}
	if err := d.send(ctx, "claim_submission (award and bond)", x, nil, func() (solana.Instruction, error) {
		return ix.ClaimSubmission(x.PublicKey(), model, id, e.NativeATA(x.PublicKey()), native)
	}); err != nil {
		return err
	}
	return d.send(ctx, "claim_review (fee share and bond)", alice, nil, func() (solana.Instruction, error) {
		return ix.ClaimReview(alice.PublicKey(), model, id, x.PublicKey(), e.NativeATA(alice.PublicKey()), native)
	})
}

func (d *daoBench) bounty(ctx context.Context, addr solana.PublicKey) (*mt.Bounty, error) {
	accs, err := d.b.accounts(ctx, []solana.PublicKey{addr})
	if err != nil {
		return nil, err
	}
	if len(accs) == 0 || accs[0] == nil {
		return nil, fmt.Errorf("bounty %s not found", addr)
	}
	return mt.ParseAccount_Bounty(accs[0].Data.GetBinary())
}
