package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/demo/driver"
)

// A raise that misses its soft cap: once its deadline passes the keeper's
// crank finalises it as failed, every contributor takes a refund to the
// base unit, once, and no MT can be claimed.
func TestFailedRaiseRefunds(t *testing.T) {
	w := newWorld(t)
	m := w.launch("failing", 150, 300, 100)
	w.startKeeper([]driver.KeeperModel{{Name: "failing", ID: m.ID}},
		[]driver.KeeperWorker{{Name: "gpu-0", URL: w.workersim("gpu-0", []string{"failing"}).URL, Models: []string{"failing"}}})
	id := strconv.FormatUint(m.ID, 10)
	w.ok(nil, &w.alice, "crowdfund", "contribute", id, "50")
	w.ok(nil, &w.bob, "crowdfund", "contribute", id, "30.000001")
	if w.nativeBalance(w.alice) != 950_000_000 || w.nativeBalance(w.bob) != 969_999_999 {
		t.Fatalf("contributions: alice %d, bob %d", w.nativeBalance(w.alice), w.nativeBalance(w.bob))
	}
	if ce := w.fails(&w.alice, "crowdfund", "refund", id); !strings.Contains(ce.Message, "open") {
		t.Errorf("refund while the raise is open: %v", ce)
	}

	// The deadline passes (time travel: the crank reads the chain's clock).
	w.travel(m.Crowdfund.End.Add(time.Second))
	m = w.waitModel(m.ID, "failed", time.Minute)
	if raised, _ := m.vault("raise (native)"); raised != 80_000_001 {
		t.Fatalf("raise vault after a failed finalisation: %d", raised)
	}
	for _, c := range []driver.Wallet{w.alice, w.bob} {
		var pos struct {
			Received *amount `json:"received"`
			Refunded bool    `json:"refunded"`
		}
		w.ok(&pos, &c, "crowdfund", "refund", id)
		if !pos.Refunded || w.nativeBalance(c) != 1_000_000_000 {
			t.Errorf("%s refunded %+v: balance %d, want all 1000 back", c.Name, pos, w.nativeBalance(c))
		}
	}
	if ce := w.fails(&w.alice, "crowdfund", "refund", id); !strings.Contains(ce.Message, "already refunded") {
		t.Errorf("second refund: %v", ce)
	}
	if ce := w.fails(&w.bob, "crowdfund", "claim", id); !strings.Contains(ce.Message, "failed") {
		t.Errorf("claim after a failed raise: %v", ce)
	}
	m = w.waitModel(m.ID, "failed", time.Second)
	if raised, _ := m.vault("raise (native)"); raised != 0 {
		t.Errorf("raise vault not empty after every refund: %d", raised)
	}
}

// A proposal under quorum: one holder with 5 000 of at least 30 000 circulating
// MT (quorum 20%) proposes a price change and votes for it alone. After the
// voting period the keeper's crank finalises it as failed; it cannot be
// executed and the price stays.
func TestProposalRejectedByQuorum(t *testing.T) {
	w := newWorld(t)
	ms := w.activeModels([]string{"governed"}, []driver.KeeperWorker{{Name: "gpu-0", URL: w.workersim("gpu-0", []string{"governed"}).URL, Models: []string{"governed"}}})
	m := ms[0]
	id := strconv.FormatUint(m.ID, 10)
	for _, c := range []driver.Wallet{w.alice, w.bob, w.carol} {
		w.ok(nil, &c, "crowdfund", "claim", id)
	}
	// Votes are a snapshot of MT deposited and warmed up before a proposal
	// is created: carol waits out the warm-up before proposing.
	var deposited struct {
		VotesFrom *time.Time `json:"votes_from"`
	}
	w.ok(&deposited, &w.carol, "dao", "deposit", id, "5000")
	if deposited.VotesFrom == nil {
		t.Fatalf("dao deposit: no votes_from")
	}
	w.travel(*deposited.VotesFrom)
	var p proposalView
	w.ok(&p, &w.carol, "dao", "propose", id, "--set-price", "--input-price", "1", "--output-price", "1")
	w.ok(&p, &w.carol, "dao", "vote", id, strconv.FormatUint(p.Index, 10), "yes")
	if p.QuorumMet || !p.ThresholdMet || p.State != "voting" {
		t.Fatalf("after carol's vote: %+v", p)
	}
	if ce := w.fails(&w.alice, "dao", "finalize", id, strconv.FormatUint(p.Index, 10)); !strings.Contains(ce.Message, "can still change") {
		t.Errorf("finalize during the vote: %v", ce)
	}

	w.travel(p.VotingEnds.Add(time.Second))
	p = w.waitProposal(m.ID, p.Index, "failed", time.Minute)
	if p.QuorumMet || p.ExecuteAfter != nil {
		t.Errorf("failed proposal: %+v", p)
	}
	if ce := w.fails(&w.alice, "dao", "execute", id, strconv.FormatUint(p.Index, 10)); !strings.Contains(ce.Message, "did not pass") {
		t.Errorf("execute a failed proposal: %v", ce)
	}
	after := w.waitModel(m.ID, "active", time.Second)
	if after.Pricing.InputPer1k.BaseUnits != 20_000 || after.Pricing.OutputPer1k.BaseUnits != 60_000 {
		t.Errorf("price changed by a failed proposal: %+v", after.Pricing)
	}
	// The deposit is free again once the vote is over.
	var v struct {
		Deposited amount `json:"deposited"`
	}
	w.ok(&v, &w.carol, "dao", "withdraw", id, "all")
	if v.Deposited.BaseUnits != 0 {
		t.Errorf("withdraw after the vote: %+v", v)
	}
}
