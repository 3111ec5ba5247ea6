package actions_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/actions"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

var reviewSecret = bytes.Repeat([]byte{7}, actions.MinReviewSecret)

func withReviewSecret(secret []byte) func(*actions.Config) {
	return func(c *actions.Config) { c.ReviewSecret = secret }
}

// send sends the instruction a builder returned, signed by payer.
func (h *harness) send(payer solana.PrivateKey, build func() (solana.Instruction, error)) {
	h.t.Helper()
	i, err := build()
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.env.Send(h.ctx, payer, nil, i); err != nil {
		h.t.Fatal(err)
	}
}

// bountyOf passes governance proposals 0 (fund the pool) and 1 (create
// bounty 0 with terms), voted by voter, and executes both.
func (h *harness) bountyOf(model solana.PublicKey, proposer, voter solana.PrivateKey, terms mt.BountyTerms) *mt.Bounty {
	h.t.Helper()
	for i, action := range []mt.ProposalAction{&mt.ProposalAction_FundBountyPool{Amount: 2_000 * native}, &mt.ProposalAction_CreateBounty{Terms: terms}} {
		args := mt.CreateProposalArgs{Action: action, ContentHash: sha256.Sum256([]byte("bounty")), Uri: "https://example.org/bounty.md"}
		h.send(proposer, func() (solana.Instruction, error) {
			return ix.CreateProposal(proposer.PublicKey(), model, uint64(i), args)
		})
		h.send(voter, func() (solana.Instruction, error) {
			return ix.CastVote(voter.PublicKey(), model, pda.Proposal(model, uint64(i)), mt.VoteChoice_Yes)
		})
	}
	h.travel(time.Unix(h.proposal(model, 1).VotingEnds, 0).Add(time.Second))
	for i := range uint64(2) {
		h.send(voter, func() (solana.Instruction, error) { return ix.FinalizeProposal(model, pda.Proposal(model, i)) })
	}
	h.travel(time.Unix(h.proposal(model, 1).ExecuteAfter, 0).Add(time.Second))
	h.send(voter, func() (solana.Instruction, error) {
		return ix.FundBountyPool(voter.PublicKey(), model, 0, ix.Native{Mint: h.env.NativeMint, Program: h.env.NativeProgram})
	})
	h.send(voter, func() (solana.Instruction, error) { return ix.CreateBounty(voter.PublicKey(), model, 1, 0) })
	return h.bountyAccount(model, 0)
}

// short is how actions name a wallet: its first and last four characters.
func short(k solana.PublicKey) string {
	s := k.String()
	return s[:4] + "…" + s[len(s)-4:]
}

func (h *harness) bountyAccount(model solana.PublicKey, id uint64) *mt.Bounty {
	h.t.Helper()
	info, err := h.env.Chain.RPC.GetAccountInfo(h.ctx, pda.Bounty(model, id))
	if err != nil {
		h.t.Fatal(err)
	}
	b, err := mt.ParseAccount_Bounty(info.Value.Data.GetBinary())
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) reviewAccount(model solana.PublicKey, contributor, reviewer solana.PublicKey) *mt.Review {
	h.t.Helper()
	info, err := h.env.Chain.RPC.GetAccountInfo(h.ctx, pda.Review(pda.Submission(pda.Bounty(model, 0), contributor), reviewer))
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := mt.ParseAccount_Review(info.Value.Data.GetBinary())
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// A bounty worked from wallets: the overview links the open bounty, a
// contributor submits through its form, two depositors commit hidden
// reviews and reveal them with one click each, every refusal is a clear
// message before any transaction is built.
func TestBountyFromWallets(t *testing.T) {
	h := newHarness(t, withReviewSecret(reviewSecret))
	id, model, alice, bob, _ := h.active()
	h.act(h.url(path(id, "deposit"))+"?amount=15000", alice, nil)
	h.act(h.url(path(id, "deposit"))+"?amount=1000", bob, nil)
	h.travel(time.Unix(max(h.voter(model, alice.PublicKey()).RecentVotesFrom, h.voter(model, bob.PublicKey()).RecentVotesFrom), 0))

	terms := mt.BountyTerms{TaskHash: sha256.Sum256([]byte("label 1 000 prompts")), Reward: 900 * native, ReviewFee: 30 * native,
		SubmissionBond: 10 * native, ReviewBond: 4 * native, MaxSubmissions: 3, MinReviewers: 1, ThresholdBps: 6_000, SubmitSecs: 600, ReviewSecs: 600}
	b := h.bountyOf(model, bob, alice, terms)
	bountyURL := fmt.Sprintf("/api/actions/models/%d/bounties/0", id)

	// The overview links the open bounty; its own action offers the submit form.
	ov := h.getAction(path(id, ""))
	wantContains(t, "overview", ov.Description, "Open bounties: #0 (900 native tokens reward, taking submissions")
	submit := link(t, ov, "Submit to bounty #0")
	if len(submit.Parameters) != 2 || submit.Parameters[0].Name != "content_hash" || submit.Parameters[1].Name != "uri" {
		t.Fatalf("submit form: %+v", submit.Parameters)
	}
	ba := h.getAction(bountyURL)
	wantContains(t, "bounty", ba.Description, "reward 900 native tokens", "0 of 3 submissions", hex.EncodeToString(terms.TaskHash[:]), "Submissions until")
	link(t, ba, "Submit to bounty #0")
	if sa := h.getAction(bountyURL + "/submit"); sa.Disabled {
		t.Errorf("submit is disabled while the bounty takes submissions: %+v", sa.Error)
	} else {
		wantContains(t, "submit description", sa.Description, "submit before you publish")
	}

	// Carol submits her work through the overview's form.
	carol, dave := h.wallet(100*native), h.wallet(100*native)
	work := sha256.Sum256([]byte("carol's labels"))
	before := h.balance(h.env.NativeATA(carol.PublicKey()))
	tr, sig := h.act(fill(submit.Href, map[string]string{"content_hash": hex.EncodeToString(work[:]), "uri": "https://example.org/carol.jsonl"}), carol, nil)
	wantContains(t, "submit message", tr.Message, "bounty #0", "bond of 10 native tokens")
	wantContains(t, "submit done", h.next(tr, carol.PublicKey(), sig).Description, "submission 1 of 3")
	if paid := before - h.balance(h.env.NativeATA(carol.PublicKey())); paid != 10*native {
		t.Errorf("carol paid %d native base units of bond", paid)
	}
	if b := h.bountyAccount(model, 0); b.Submissions != 1 {
		t.Fatalf("bounty submissions %d", b.Submissions)
	}

	submitURL := h.url(bountyURL + "/submit")
	other := sha256.Sum256([]byte("other work"))
	q := func(hash [32]byte) string {
		return "?content_hash=" + hex.EncodeToString(hash[:]) + "&uri=https://example.org/w"
	}
	t.Run("submit refusals", func(t *testing.T) {
		wantContains(t, "bad hash", h.refused(submitURL+"?content_hash=abc&uri=https://x", dave.PublicKey(), nil, http.StatusBadRequest), "64 hexadecimal digits")
		wantContains(t, "no uri", h.refused(submitURL+"?content_hash="+hex.EncodeToString(other[:]), dave.PublicKey(), nil, http.StatusBadRequest), "uri")
		wantContains(t, "twice", h.refused(submitURL+q(other), carol.PublicKey(), nil, http.StatusConflict), "already submitted to bounty #0")
		wantContains(t, "same work", h.refused(submitURL+q(work), dave.PublicKey(), nil, http.StatusConflict), "already submitted in")
		wantContains(t, "no native account", h.refused(submitURL+q(other), solana.NewWallet().PublicKey(), nil, http.StatusConflict), "no native tokens account")
		wantContains(t, "unknown bounty", h.refused(h.url(fmt.Sprintf("/api/actions/models/%d/bounties/9/submit", id))+q(other), dave.PublicKey(), nil, http.StatusNotFound), "no bounty #9")
	})

	subURL := h.url(fmt.Sprintf("%s/submissions/%s", bountyURL, carol.PublicKey()))
	t.Run("review refusals", func(t *testing.T) {
		wantContains(t, "self review", h.refused(subURL+"/review/approve", carol.PublicKey(), nil, http.StatusConflict), "your own submission")
		wantContains(t, "no weight", h.refused(subURL+"/review/approve", dave.PublicKey(), nil, http.StatusConflict), "None of your TLC counts on bounty #0")
		wantContains(t, "bad choice", h.refused(subURL+"/review/maybe", alice.PublicKey(), nil, http.StatusBadRequest), "approve, reject or spam")
		wantContains(t, "no submission", h.refused(h.url(fmt.Sprintf("%s/submissions/%s/review/approve", bountyURL, dave.PublicKey())), alice.PublicKey(), nil, http.StatusNotFound), "no submission")
		wantContains(t, "reveal too early", h.refused(subURL+"/reveal", alice.PublicKey(), nil, http.StatusConflict), "revealed from")
		// A server without a review secret takes no reviews.
		_, plain := h.serve(nil)
		wantContains(t, "no secret", wantError(t, h.post(plain+strings.TrimPrefix(subURL, h.base)+"/review/approve", alice.PublicKey(), nil), http.StatusConflict), "without a review secret")
	})

	// Submissions close; alice and bob commit hidden reviews from the bounty's review choices.
	h.travel(time.Unix(b.SubmitEnds, 0))
	if sa := h.getAction(bountyURL + "/submit"); !sa.Disabled || sa.Error == nil || !strings.Contains(sa.Error.Message, "stopped taking submissions") {
		t.Errorf("submit after its window: disabled %v, %+v", sa.Disabled, sa.Error)
	}
	wantContains(t, "submit late", h.refused(submitURL+q(other), dave.PublicKey(), nil, http.StatusConflict), "stopped taking submissions")
	if ra := h.getAction(strings.TrimPrefix(subURL, h.base) + "/review/approve"); ra.Disabled {
		t.Errorf("review is disabled in the commit window: %+v", ra.Error)
	}
	if ra := h.getAction(strings.TrimPrefix(subURL, h.base) + "/reveal"); !ra.Disabled || ra.Error == nil || !strings.Contains(ra.Error.Message, "revealed from") {
		t.Errorf("reveal in the commit window: disabled %v, %+v", ra.Disabled, ra.Error)
	}
	ba = h.getAction(bountyURL)
	review := link(t, ba, "Review "+short(carol.PublicKey()))
	wantContains(t, "review choice", review.Parameters[0].Label, "https://example.org/carol.jsonl")
	tr, sig = h.act(fill(review.Href, map[string]string{"choice": "approve"}), alice, nil)
	wantContains(t, "commit message", tr.Message, "hidden review (approve)", "15,000 TLC", "bond of 4 native tokens")
	wantContains(t, "commit done", h.next(tr, alice.PublicKey(), sig).Description, "committed (hidden", "1 reviews committed")
	h.act(subURL+"/review/reject", bob, nil)
	if r := h.reviewAccount(model, carol.PublicKey(), alice.PublicKey()); r.Revealed || r.Weight != 15_000*mtUnit {
		t.Fatalf("alice's review: %+v", r)
	}
	wantContains(t, "commit twice", h.refused(subURL+"/review/spam", alice.PublicKey(), nil, http.StatusConflict), "already committed")

	// The reveal window: one click reveals what was committed.
	h.travel(time.Unix(b.CommitEnds, 0))
	wantContains(t, "commit late", h.refused(subURL+"/review/approve", dave.PublicKey(), nil, http.StatusConflict), "stopped taking reviews")
	_, stranger := h.serve(withReviewSecret(bytes.Repeat([]byte{8}, actions.MinReviewSecret)))
	wantContains(t, "other secret", wantError(t, h.post(stranger+strings.TrimPrefix(subURL, h.base)+"/reveal", alice.PublicKey(), nil), http.StatusConflict), "not committed through this action server")
	reveal := link(t, h.getAction(bountyURL), "Reveal review of "+short(carol.PublicKey()))
	if ra := h.getAction(strings.TrimPrefix(subURL, h.base) + "/review/approve"); !ra.Disabled || ra.Error == nil || !strings.Contains(ra.Error.Message, "stopped taking reviews") {
		t.Errorf("review in the reveal window: disabled %v, %+v", ra.Disabled, ra.Error)
	}
	tr, sig = h.act(reveal.Href, alice, nil)
	wantContains(t, "reveal message", tr.Message, "Reveal your review (approve)")
	wantContains(t, "reveal done", h.next(tr, alice.PublicKey(), sig).Description, "revealed: approve", "1 revealed")
	h.act(subURL+"/reveal", bob, nil)
	if r := h.reviewAccount(model, carol.PublicKey(), alice.PublicKey()); !r.Revealed || r.Choice != mt.ReviewChoice_Approve {
		t.Errorf("alice's review after reveal: %+v", r)
	}
	if r := h.reviewAccount(model, carol.PublicKey(), bob.PublicKey()); !r.Revealed || r.Choice != mt.ReviewChoice_Reject {
		t.Errorf("bob's review after reveal: %+v", r)
	}
	wantContains(t, "reveal twice", h.refused(subURL+"/reveal", alice.PublicKey(), nil, http.StatusConflict), "already revealed")
	wantContains(t, "reveal without review", h.refused(subURL+"/reveal", dave.PublicKey(), nil, http.StatusConflict), "committed no review")

	// After the reveal window the bounty is closed and no longer on the overview.
	h.travel(time.Unix(b.RevealEnds, 0))
	if ba = h.getAction(bountyURL); !ba.Disabled || ba.Error == nil || !strings.Contains(ba.Error.Message, "closed") {
		t.Errorf("bounty after its reveal window: disabled %v, %+v", ba.Disabled, ba.Error)
	}
	wantContains(t, "reveal late", h.refused(subURL+"/reveal", bob.PublicKey(), nil, http.StatusConflict), "reveal window ended")
	if strings.Contains(h.getAction(path(id, "")).Description, "Open bounties") {
		t.Error("the overview still lists the closed bounty")
	}
}
