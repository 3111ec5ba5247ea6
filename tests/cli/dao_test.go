package cli_test

import (
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

type voterView struct {
	Deposited      tokens     `json:"deposited"`
	Warming        tokens     `json:"warming"`
	WarmAt         *time.Time `json:"warm_at"`
	VoteWeightNow  tokens     `json:"vote_weight_now"`
	VotesFrom      *time.Time `json:"votes_from"`
	LockedUntil    *time.Time `json:"locked_until"`
	RewardsOwed    tokens     `json:"rewards_owed"`
	RewardsPending tokens     `json:"rewards_pending"`
}

type proposalView struct {
	Index        uint64     `json:"index"`
	State        string     `json:"state"`
	Yes          tokens     `json:"yes"`
	No           tokens     `json:"no"`
	Votes        uint32     `json:"votes"`
	QuorumMet    bool       `json:"quorum_met"`
	ThresholdMet bool       `json:"threshold_met"`
	VotingEnds   time.Time  `json:"voting_ends"`
	ExecuteAfter *time.Time `json:"execute_after"`
	Next         string     `json:"next"`
}

type quoteView struct {
	Side       string  `json:"side"`
	Pay        tokens  `json:"pay"`
	Receive    tokens  `json:"receive"`
	MinReceive tokens  `json:"min_receive"`
	Fee        tokens  `json:"fee"`
	Received   *tokens `json:"received"`
}

// govern runs the mini-DAO part of the lifecycle on active model 0:
// holders deposit MT, wait out the warm-up, one proposes a treasury
// transfer, both vote, anyone finalises and executes it after the hold-up;
// then revenue arrives and is shared pro rata, a holder claims it, and
// MT is bought and sold on the model's market.
func (e *env) govern(t *testing.T, p protocolView, alice, bob, carol wallet) {
	// Deposits: after the warm-up (one voting period, 1h), votes on
	// proposals created from then on and a share of revenue.
	var v voterView
	e.ok(&v, &alice, "dao", "deposit", "0", "5000")
	if v.Deposited.BaseUnits != 5_000_000_000 || v.Warming.BaseUnits != 5_000_000_000 || v.WarmAt == nil ||
		v.VoteWeightNow.BaseUnits != 0 || v.VotesFrom == nil || !v.VotesFrom.Equal(*v.WarmAt) {
		t.Fatalf("dao deposit: %+v", v)
	}
	e.ok(&v, &bob, "dao", "deposit", "0", "3050")
	if ce := e.fails(&carol, "dao", "deposit", "0", "26"); !strings.Contains(ce.Error, "holds 25") {
		t.Errorf("deposit more than held: %+v", ce)
	}
	if ce := e.fails(&alice, "dao", "checkpoint", "0"); !strings.Contains(ce.Error, "warming up") {
		t.Errorf("checkpoint during the warm-up: %+v", ce)
	}
	e.travel(v.WarmAt.Add(time.Second))
	e.ok(&v, &carol, "dao", "checkpoint", "0", "--wallet", alice.Pub())
	e.ok(&v, &carol, "dao", "checkpoint", "0", "--wallet", bob.Pub())
	if v.Warming.BaseUnits != 0 {
		t.Fatalf("checkpoint: %+v", v)
	}

	// A proposal: pay carol 1 native token from the treasury.
	if ce := e.fails(&carol, "dao", "propose", "0", "--transfer-native", carol.Pub(), "--amount", "1"); !strings.Contains(ce.Error, "needs 100 MT deposited") {
		t.Errorf("propose without a deposit: %+v", ce)
	}
	if ce := e.fails(&alice, "dao", "propose", "0", "--signal"); !strings.Contains(ce.Error, "--uri") {
		t.Errorf("signal without a document: %+v", ce)
	}
	var prop proposalView
	e.ok(&prop, &alice, "dao", "propose", "0", "--transfer-native", carol.Pub(), "--amount", "1", "--uri", "https://example.org/p0")
	if prop.Index != 0 || prop.State != "voting" {
		t.Fatalf("propose: %+v", prop)
	}
	// MT deposited once the proposal exists adds nothing to it.
	e.ok(nil, &carol, "dao", "deposit", "0", "5")
	if ce := e.fails(&carol, "dao", "vote", "0", "0", "no"); !strings.Contains(ce.Error, "snapshot") {
		t.Errorf("vote with MT deposited after the proposal: %+v", ce)
	}
	e.ok(&prop, &alice, "dao", "vote", "0", "0", "yes")
	e.ok(&prop, &bob, "dao", "vote", "0", "0", "yes")
	if prop.Votes != 2 || prop.Yes.BaseUnits != 8_050_000_000 || !prop.QuorumMet || !prop.ThresholdMet {
		t.Fatalf("votes: %+v", prop)
	}
	if ce := e.fails(&bob, "dao", "vote", "0", "0", "no"); !strings.Contains(ce.Error, "already voted") {
		t.Errorf("double vote: %+v", ce)
	}
	if ce := e.fails(&alice, "dao", "withdraw", "0", "all"); !strings.Contains(ce.Error, "locked until") {
		t.Errorf("withdraw while locked: %+v", ce)
	}
	if ce := e.fails(&alice, "dao", "cancel", "0", "0"); !strings.Contains(ce.Error, "vote") {
		t.Errorf("cancel after votes: %+v", ce)
	}
	if ce := e.fails(&carol, "dao", "finalize", "0", "0"); !strings.Contains(ce.Error, "can still change") {
		t.Errorf("finalize early: %+v", ce)
	}
	e.travel(prop.VotingEnds)
	e.ok(&prop, &carol, "dao", "finalize", "0", "0")
	if prop.State != "passed" || prop.ExecuteAfter == nil {
		t.Fatalf("finalize: %+v", prop)
	}
	if ce := e.fails(&carol, "dao", "execute", "0", "0"); !strings.Contains(ce.Error, "hold-up") {
		t.Errorf("execute during the hold-up: %+v", ce)
	}
	e.travel(*prop.ExecuteAfter)
	before := e.nativeBalance(carol, p)
	e.ok(&prop, &carol, "dao", "execute", "0", "0")
	if prop.State != "executed" || e.nativeBalance(carol, p) != before+1_000_000 {
		t.Fatalf("execute: %+v (carol %d → %d)", prop, before, e.nativeBalance(carol, p))
	}
	if ce := e.fails(&carol, "dao", "execute", "0", "0"); !strings.Contains(ce.Error, "already executed") {
		t.Errorf("execute twice: %+v", ce)
	}

	// Revenue: 70% to depositors, pro rata through the accumulator, rounded down.
	var rev struct {
		ToDepositors tokens `json:"to_depositors"`
		ToTreasury   tokens `json:"to_treasury"`
	}
	e.ok(&rev, &carol, "rewards", "deposit-revenue", "0", "10")
	if rev.ToDepositors.BaseUnits != 7_000_000 || rev.ToTreasury.BaseUnits != 3_000_000 {
		t.Fatalf("revenue split: %+v", rev)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	inc := new(big.Int).Quo(new(big.Int).Mul(big.NewInt(7_000_000), scale), big.NewInt(8_050_000_000))
	share := func(deposit int64) uint64 {
		return new(big.Int).Quo(new(big.Int).Mul(big.NewInt(deposit), inc), scale).Uint64()
	}
	var pos struct {
		Claimable tokens  `json:"claimable"`
		Received  *tokens `json:"received"`
	}
	e.ok(&pos, nil, "rewards", "show", "0", "--wallet", bob.Pub())
	if pos.Claimable.BaseUnits != share(3_050_000_000) {
		t.Errorf("bob's rewards = %d, want %d", pos.Claimable.BaseUnits, share(3_050_000_000))
	}
	before = e.nativeBalance(alice, p)
	e.ok(&pos, &alice, "rewards", "claim", "0")
	if pos.Received == nil || pos.Received.BaseUnits != share(5_000_000_000) || e.nativeBalance(alice, p) != before+share(5_000_000_000) {
		t.Errorf("alice claims %+v, want %d", pos, share(5_000_000_000))
	}
	if ce := e.fails(&alice, "rewards", "claim", "0"); !strings.Contains(ce.Error, "nothing to claim") {
		t.Errorf("claim twice: %+v", ce)
	}

	// The market: the quote is what the swap gives.
	var q, got quoteView
	e.ok(&q, nil, "market", "quote", "0", "buy", "1")
	if q.Receive.BaseUnits == 0 || q.Fee.BaseUnits != 3_000 {
		t.Fatalf("quote: %+v", q)
	}
	e.ok(&got, &carol, "market", "buy", "0", "1")
	if got.Received == nil || got.Received.BaseUnits != q.Receive.BaseUnits {
		t.Errorf("buy received %+v, quoted %d", got.Received, q.Receive.BaseUnits)
	}
	e.ok(&q, nil, "market", "quote", "0", "sell", "10")
	e.ok(&got, &carol, "market", "sell", "0", "10")
	if got.Received == nil || got.Received.BaseUnits != q.Receive.BaseUnits {
		t.Errorf("sell received %+v, quoted %d", got.Received, q.Receive.BaseUnits)
	}
	if ce := e.fails(&carol, "market", "buy", "0", "1", "--min-out", "1000000"); !strings.Contains(ce.Error, "less than --min-out") {
		t.Errorf("slippage bound: %+v", ce)
	}

	var m struct {
		Market struct {
			Open  bool   `json:"open"`
			Swaps uint64 `json:"swaps"`
		} `json:"market"`
	}
	e.ok(&m, nil, "model", "show", "0")
	if !m.Market.Open || m.Market.Swaps != 2 {
		t.Errorf("market after two swaps: %+v", m.Market)
	}

	// After voting ended the deposit is free again.
	e.ok(&v, &bob, "dao", "withdraw", "0", "50")
	if v.Deposited.BaseUnits != 3_000_000_000 {
		t.Errorf("withdraw: %+v", v)
	}
}

// activeModel launches model 0 and makes it active: alice and bob buy 300
// and 200 MT-worth (3 and 2 native), the raise is finalised and both claim.
// The creator's allocation vests from day 30, so during these tests the
// circulating supply (the quorum base) is the 500 MT sold: vested MT counts
// as circulating even before the creator claims it.
func (e *env) activeModel(t *testing.T) (p protocolView, creator, alice, bob wallet) {
	creator, alice, bob = e.wallet("creator", 5), e.wallet("alice", 5), e.wallet("bob", 5)
	_, p = e.setup(creator, alice, bob)
	var m modelView
	spec := writeSpec(t, e.dir, "1", "1000")
	data, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.NewReplacer(`cliff = "1h"`, `cliff = "30d"`, `duration = "10h"`, `duration = "60d"`).Replace(string(data)))
	if err := os.WriteFile(spec, data, 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok(&m, &creator, "model", "launch", "--spec", spec)
	e.ok(nil, &alice, "crowdfund", "contribute", "0", "3")
	e.ok(nil, &bob, "crowdfund", "contribute", "0", "2")
	e.travel(m.Crowdfund.End)
	e.ok(&m, &bob, "model", "finalize", "0")
	e.ok(nil, &alice, "crowdfund", "claim", "0")
	e.ok(nil, &bob, "crowdfund", "claim", "0")
	return p, creator, alice, bob
}

// Rule changes by governance: a price change executes and the model
// charges the new price; a proposal without enough turnout fails; a
// proposer cancels before any vote.
func TestGovernanceChangesRules(t *testing.T) {
	e := newEnv(t)
	_, _, alice, bob := e.activeModel(t)
	var v, vb voterView
	e.ok(&v, &alice, "dao", "deposit", "0", "300")
	e.ok(&vb, &bob, "dao", "deposit", "0", "100")
	if ce := e.fails(&alice, "dao", "propose", "0", "--set-price", "--input-price", "0.005", "--output-price", "0.01"); !strings.Contains(ce.Error, "warmed up") {
		t.Errorf("propose before the warm-up: %+v", ce)
	}
	// Bob proposes too: travel past the later of the two warm-ups (on a
	// loaded machine his deposit lands a second or more after alice's).
	warm := *v.VotesFrom
	if vb.VotesFrom.After(warm) {
		warm = *vb.VotesFrom
	}
	e.travel(warm)

	var prop proposalView
	e.ok(&prop, &alice, "dao", "propose", "0", "--set-price", "--input-price", "0.005", "--output-price", "0.01")
	e.ok(&prop, &alice, "dao", "vote", "0", "0", "yes")
	// Bob's proposal gets no vote at all: under the 20% quorum.
	e.ok(nil, &bob, "dao", "propose", "0", "--set-revenue", "--depositor-share-bps", "9000")
	// A proposal cancelled by its proposer before any vote.
	e.ok(&prop, &alice, "dao", "propose", "0", "--signal", "--uri", "https://example.org/s", "--content-hash", strings.Repeat("ab", 32))
	e.ok(&prop, &alice, "dao", "cancel", "0", "2")
	if prop.State != "cancelled" {
		t.Errorf("cancel: %+v", prop)
	}
	if ce := e.fails(&bob, "dao", "cancel", "0", "0"); !strings.Contains(ce.Error, "proposer") {
		t.Errorf("cancel by another: %+v", ce)
	}

	e.travel(prop.VotingEnds.Add(time.Second))
	e.ok(&prop, &bob, "dao", "finalize", "0", "1")
	if prop.State != "failed" || prop.QuorumMet {
		t.Errorf("proposal under quorum: %+v", prop)
	}
	if ce := e.fails(&bob, "dao", "execute", "0", "1"); !strings.Contains(ce.Error, "did not pass") {
		t.Errorf("execute a failed proposal: %+v", ce)
	}
	e.ok(&prop, &bob, "dao", "finalize", "0", "0")
	e.travel(*prop.ExecuteAfter)
	e.ok(&prop, &bob, "dao", "execute", "0", "0")
	var m struct {
		Pricing struct {
			InputPer1k  tokens `json:"input_per_1k"`
			OutputPer1k tokens `json:"output_per_1k"`
		} `json:"pricing"`
		Governance struct {
			Proposals uint64 `json:"proposals"`
		} `json:"governance"`
	}
	e.ok(&m, nil, "model", "show", "0")
	if prop.State != "executed" || m.Pricing.InputPer1k.BaseUnits != 5_000 || m.Pricing.OutputPer1k.BaseUnits != 10_000 || m.Governance.Proposals != 3 {
		t.Errorf("price change: %+v %+v", prop, m)
	}
	var list struct {
		Proposals []proposalView `json:"proposals"`
		You       *voterView     `json:"you"`
	}
	e.ok(&list, &alice, "dao", "show", "0")
	if len(list.Proposals) != 3 || list.Proposals[2].State != "cancelled" || list.You == nil || list.You.Deposited.BaseUnits != 300_000_000 {
		t.Errorf("dao show: %+v", list)
	}
}

// A passed proposal nobody executes within 14 days of its hold-up expires:
// `dao show` says so and `dao execute` refuses with what to do instead.
func TestPassedProposalExpires(t *testing.T) {
	e := newEnv(t)
	_, _, alice, _ := e.activeModel(t)
	var v voterView
	e.ok(&v, &alice, "dao", "deposit", "0", "300")
	e.travel(*v.VotesFrom)
	var prop proposalView
	e.ok(&prop, &alice, "dao", "propose", "0", "--signal", "--uri", "https://example.org/s", "--content-hash", strings.Repeat("cd", 32))
	e.ok(&prop, &alice, "dao", "vote", "0", "0", "yes")
	e.travel(prop.VotingEnds.Add(time.Second))
	e.ok(&prop, &alice, "dao", "finalize", "0", "0")
	if prop.State != "passed" || !strings.Contains(prop.Next, "until") {
		t.Fatalf("passed: %+v", prop)
	}
	e.travel(prop.ExecuteAfter.Add(14 * 24 * time.Hour))
	e.ok(&prop, nil, "dao", "show", "0", "0")
	if !strings.Contains(prop.Next, "expired") {
		t.Errorf("show after the window: %+v", prop)
	}
	if ce := e.fails(&alice, "dao", "execute", "0", "0"); !strings.Contains(ce.Error, "expired") || !strings.Contains(ce.Fix, "propose it again") {
		t.Errorf("execute after the window: %+v", ce)
	}
}
