package cli_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

type bountyView struct {
	ID          uint64    `json:"id"`
	Phase       string    `json:"phase"`
	Submissions uint16    `json:"submissions"`
	Accepted    uint16    `json:"accepted"`
	Settled     bool      `json:"settled"`
	Award       tokens    `json:"award"`
	CommitEnds  time.Time `json:"commit_ends"`
	RevealEnds  time.Time `json:"reveal_ends"`
	Entries     []struct {
		Contributor string `json:"contributor"`
		Outcome     string `json:"outcome"`
		Reveals     uint16 `json:"reveals"`
	} `json:"entries"`
}

// contribute runs the contribution economy on active model 0 after
// govern and the creator's vesting: the creator deposits its vested MT
// (the quorum base now counts it) and votes with alice; alice proposes funding the bounty pool and a bounty, the DAO
// passes and executes both; carol submits work, alice approves it and bob
// rejects it (commit, then reveal), anyone finalises, everyone claims, to
// the base unit; carol's reputation shows the accepted work.
func (e *env) contribute(t *testing.T, p protocolView, creator, alice, bob, carol wallet) {
	var v voterView
	e.ok(&v, &creator, "dao", "deposit", "0", "200000")
	e.travel(v.WarmAt.Add(time.Second))
	var prop struct {
		Proposal uint64 `json:"proposal"`
	}
	e.ok(&prop, &alice, "bounty", "fund", "0", "2", "--uri", "https://example.org/fund")
	fund := prop.Proposal
	task := strings.Repeat("ab", 32)
	if ce := e.fails(&alice, "bounty", "create", "0", "--reward", "1", "--submission-bond", "0.05", "--review-bond", "0.02"); !strings.Contains(ce.Error, "task") {
		t.Errorf("a bounty without its task: %+v", ce)
	}
	e.ok(&prop, &alice, "bounty", "create", "0", "--reward", "1", "--review-fee", "0.1", "--submission-bond", "0.05", "--review-bond", "0.02",
		"--max-submissions", "2", "--min-reviewers", "2", "--submit-window", "1h", "--review-window", "1h", "--content-hash", task, "--uri", "https://example.org/task")
	create := prop.Proposal
	var pv proposalView
	for _, i := range []uint64{fund, create} {
		e.ok(&pv, &alice, "dao", "vote", "0", strconv.FormatUint(i, 10), "yes")
		e.ok(&pv, &creator, "dao", "vote", "0", strconv.FormatUint(i, 10), "yes")
	}
	e.travel(pv.VotingEnds)
	for _, i := range []uint64{fund, create} {
		e.ok(&pv, &carol, "dao", "finalize", "0", strconv.FormatUint(i, 10))
	}
	if pv.State != "passed" || pv.ExecuteAfter == nil {
		t.Fatalf("finalize create: %+v", pv)
	}
	e.travel(*pv.ExecuteAfter)
	// The bounty cannot be created before the pool holds its reservation.
	if ce := e.fails(&carol, "dao", "execute", "0", strconv.FormatUint(create, 10)); !strings.Contains(ce.Error, "bounty pool has 0") {
		t.Errorf("create before funding: %+v", ce)
	}
	e.ok(&pv, &carol, "dao", "execute", "0", strconv.FormatUint(fund, 10))
	e.ok(&pv, &carol, "dao", "execute", "0", strconv.FormatUint(create, 10))
	if pv.State != "executed" {
		t.Fatalf("execute create: %+v", pv)
	}
	var pool struct {
		Available tokens       `json:"available"`
		Reserved  tokens       `json:"reserved"`
		Bounties  []bountyView `json:"bounties"`
	}
	e.ok(&pool, nil, "bounty", "list", "0")
	if pool.Available.BaseUnits != 800_000 || pool.Reserved.BaseUnits != 1_200_000 || len(pool.Bounties) != 1 || pool.Bounties[0].Phase != "taking submissions" {
		t.Fatalf("bounty list: %+v", pool)
	}

	work := strings.Repeat("cd", 32)
	carolBefore := e.nativeBalance(carol, p)
	var b bountyView
	e.ok(&b, &carol, "bounty", "submit", "0", "0", "--content-hash", work, "--uri", "https://example.org/work")
	if b.Submissions != 1 || e.nativeBalance(carol, p) != carolBefore-50_000 {
		t.Fatalf("submit: %+v", b)
	}
	if ce := e.fails(&carol, "bounty", "submit", "0", "0", "--content-hash", strings.Repeat("ef", 32), "--uri", "https://example.org/w2"); !strings.Contains(ce.Error, "already submitted") {
		t.Errorf("double submission: %+v", ce)
	}
	if ce := e.fails(&alice, "bounty", "submit", "0", "0", "--content-hash", work, "--uri", "https://example.org/copy"); !strings.Contains(ce.Error, "already submitted in this model") {
		t.Errorf("the same work again: %+v", ce)
	}
	if ce := e.fails(&carol, "bounty", "review", "0", "0", carol.Pub(), "approve"); !strings.Contains(ce.Error, "your own") {
		t.Errorf("self review: %+v", ce)
	}
	aliceBefore, bobBefore := e.nativeBalance(alice, p), e.nativeBalance(bob, p)
	e.ok(&b, &alice, "bounty", "review", "0", "0", carol.Pub(), "approve")
	e.ok(&b, &bob, "bounty", "review", "0", "0", carol.Pub(), "reject")
	if ce := e.fails(&alice, "bounty", "review", "0", "0", carol.Pub(), "approve"); !strings.Contains(ce.Error, "already committed") {
		t.Errorf("double review: %+v", ce)
	}
	e.travel(b.CommitEnds)
	if ce := e.fails(&bob, "bounty", "review", "0", "0", carol.Pub(), "approve"); !strings.Contains(ce.Error, "you committed reject") {
		t.Errorf("reveal another choice: %+v", ce)
	}
	e.ok(&b, &alice, "bounty", "review", "0", "0", carol.Pub(), "approve")
	e.ok(&b, &bob, "bounty", "review", "0", "0", carol.Pub(), "reject")
	if ce := e.fails(&carol, "bounty", "finalize", "0", "0"); !strings.Contains(ce.Error, "reveal window ends") {
		t.Errorf("finalize early: %+v", ce)
	}
	e.travel(b.RevealEnds)
	e.ok(&b, &carol, "bounty", "finalize", "0", "0")
	if !b.Settled || b.Accepted != 1 || b.Award.BaseUnits != 1_000_000 {
		t.Fatalf("finalize: %+v", b)
	}
	e.ok(&b, nil, "bounty", "show", "0", "0")
	if len(b.Entries) != 1 || b.Entries[0].Outcome != "accepted" || b.Entries[0].Reveals != 2 {
		t.Fatalf("bounty show: %+v", b)
	}

	// 5 000 MT approve, 3 000 reject: 62.5 % ≥ 60 % accepted, not clear
	// (< 2/3), so bob keeps his whole bond; alice alone wins the 0.1 fee.
	for _, w := range []wallet{carol, alice, bob} {
		e.ok(nil, &w, "bounty", "claim", "0", "0")
	}
	if got := e.nativeBalance(carol, p); got != carolBefore+1_000_000 {
		t.Errorf("carol: %d, want %d (award 1, bond back)", got, carolBefore+1_000_000)
	}
	if got := e.nativeBalance(alice, p); got != aliceBefore+100_000 {
		t.Errorf("alice: %d, want %d (fee 0.1, bond back)", got, aliceBefore+100_000)
	}
	if got := e.nativeBalance(bob, p); got != bobBefore {
		t.Errorf("bob: %d, want %d (bond back)", got, bobBefore)
	}
	if ce := e.fails(&carol, "bounty", "claim", "0", "0"); !strings.Contains(ce.Error, "nothing to claim") {
		t.Errorf("claim twice: %+v", ce)
	}
	var rep struct {
		Submitted        uint32 `json:"submitted"`
		Accepted         uint32 `json:"accepted"`
		ReviewsCommitted uint32 `json:"reviewsCommitted"`
		ReviewsAgreed    uint32 `json:"reviewsAgreed"`
	}
	e.ok(&rep, nil, "reputation", "show", "0", "--wallet", carol.Pub())
	if rep.Submitted != 1 || rep.Accepted != 1 {
		t.Errorf("carol's reputation: %+v", rep)
	}
	e.ok(&rep, nil, "reputation", "show", "0", "--wallet", alice.Pub())
	if rep.ReviewsCommitted != 1 || rep.ReviewsAgreed != 1 {
		t.Errorf("alice's reputation: %+v", rep)
	}
}
