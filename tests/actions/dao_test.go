package actions_test

import (
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

// active launches a model whose raise succeeded from wallets: alice and bob
// contributed, it was finalised, both claimed their MT (alice 20 000, bob
// 5 000). It returns the model and the time the raise ended.
func (h *harness) active() (id uint64, model solana.PublicKey, alice, bob solana.PrivateKey, ended time.Time) {
	h.t.Helper()
	start := h.now()
	id, model = h.launch(treasury.DefaultTerms(start, time.Hour))
	alice, bob = h.wallet(50_000*native), h.wallet(20_000*native)
	h.act(h.url(path(id, "contribute"))+"?amount=40000", alice, nil)
	h.act(h.url(path(id, "contribute"))+"?amount=10000", bob, nil)
	ended = start.Add(time.Hour + time.Second)
	h.travel(ended)
	h.act(h.url(path(id, "finalize")), bob, nil)
	h.act(h.url(path(id, "claim")), alice, nil)
	h.act(h.url(path(id, "claim")), bob, nil)
	if got := h.balance(treasury.MtATA(alice.PublicKey(), model)); got != 20_000*mtUnit {
		h.t.Fatalf("alice holds %d MT base units after claiming", got)
	}
	return id, model, alice, bob, ended
}

func (h *harness) voter(model, owner solana.PublicKey) *mt.Voter {
	h.t.Helper()
	info, err := h.env.Chain.RPC.GetAccountInfo(h.ctx, pda.Voter(model, owner))
	if err != nil {
		h.t.Fatalf("voter record of %s: %v", owner, err)
	}
	v, err := mt.ParseAccount_Voter(info.Value.Data.GetBinary())
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

func (h *harness) proposal(model solana.PublicKey, index uint64) *mt.Proposal {
	h.t.Helper()
	info, err := h.env.Chain.RPC.GetAccountInfo(h.ctx, pda.Proposal(model, index))
	if err != nil {
		h.t.Fatal(err)
	}
	p, err := mt.ParseAccount_Proposal(info.Value.Data.GetBinary())
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// propose opens proposal number index by proposer (who has MT deposited):
// pay 100 native tokens from the model treasury to the proposer.
func (h *harness) propose(proposer solana.PrivateKey, modelAddr solana.PublicKey, index uint64) {
	h.t.Helper()
	doc := "https://example.org/proposals/fund-retraining.md"
	sum := sha256.Sum256([]byte("Fund retraining on the 2026 corpus."))
	dest := h.env.NativeATA(proposer.PublicKey())
	action := &mt.ProposalAction_TransferNative{Destination: dest, Amount: 100 * native}
	ix, err := ix.CreateProposal(proposer.PublicKey(), modelAddr, index, mt.CreateProposalArgs{Action: action, ContentHash: sum, Uri: doc})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.env.Send(h.ctx, proposer, nil, ix); err != nil {
		h.t.Fatalf("create proposal: %v", err)
	}
}

// signal opens signal proposal number index by proposer.
func (h *harness) signal(proposer solana.PrivateKey, modelAddr solana.PublicKey, index uint64, uri string) {
	h.t.Helper()
	ix, err := ix.CreateProposal(proposer.PublicKey(), modelAddr, index, mt.CreateProposalArgs{Action: &mt.ProposalAction_Signal{}, ContentHash: sha256.Sum256([]byte(uri)), Uri: uri})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.env.Send(h.ctx, proposer, nil, ix); err != nil {
		h.t.Fatalf("create signal proposal: %v", err)
	}
}

// depositRevenue pays amount native base units of revenue into the model, as settlement does.
func (h *harness) depositRevenue(model solana.PublicKey, amount uint64) {
	h.t.Helper()
	payer := h.wallet(amount)
	ix, err := ix.DepositRevenue(payer.PublicKey(), model, h.env.NativeATA(payer.PublicKey()), ix.Native{Mint: h.env.NativeMint, Program: h.env.NativeProgram}, amount)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.env.Send(h.ctx, payer, nil, ix); err != nil {
		h.t.Fatalf("deposit revenue: %v", err)
	}
}

// Holders govern from their wallets: deposit, vote on an open proposal
// (listed with its title and tallies), see their deposit locked, start
// earning after the warm-up, claim their share of revenue, withdraw.
func TestGovernAndEarnFromWallets(t *testing.T) {
	h := newHarness(t, nil)
	id, model, alice, bob, _ := h.active()
	carol := h.wallet(0)

	ov := h.getAction(path(id, ""))
	deposit := link(t, ov, "Deposit to vote")
	link(t, ov, "Withdraw")
	link(t, ov, "Claim rewards")
	// Each action's own metadata: enabled, with its button (and amount form).
	for action, label := range map[string]string{"deposit": "Deposit to vote", "withdraw": "Withdraw", "rewards": "Claim rewards"} {
		a := h.getAction(path(id, action))
		if a.Disabled {
			t.Errorf("%s is disabled on an active model: %+v", action, a.Error)
		}
		l := link(t, a, label)
		if action != "rewards" && (len(l.Parameters) != 1 || l.Parameters[0].Name != "amount" || !strings.Contains(l.Href, "{amount}")) {
			t.Errorf("%s form: %+v", action, l)
		}
	}
	wantContains(t, "deposit description", h.getAction(path(id, "deposit")).Description, "70% of the revenue", "warm-up of 1h")

	// Deposits: alice 15 000 MT through the overview's form, bob 1 000 (enough to propose).
	tr, sig := h.act(fill(deposit.Href, map[string]string{"amount": "15000"}), alice, nil)
	wantContains(t, "deposit message", tr.Message, "15,000 TLC", "warm-up")
	wantContains(t, "deposit done", h.next(tr, alice.PublicKey(), sig).Description, "15,000 TLC deposited", "5,000 TLC in your wallet")
	h.act(h.url(path(id, "deposit"))+"?amount=1000", bob, nil)
	if v := h.voter(model, alice.PublicKey()); v.Deposited != 15_000*mtUnit {
		t.Fatalf("alice deposited %d", v.Deposited)
	}
	wantContains(t, "deposit more than held", h.refused(h.url(path(id, "deposit"))+"?amount=5001", alice.PublicKey(), nil, http.StatusConflict), "holds 5,000 TLC")
	wantContains(t, "deposit without MT", h.refused(h.url(path(id, "deposit"))+"?amount=1", carol.PublicKey(), nil, http.StatusConflict), "holds 0 TLC")

	// Nothing to claim while the deposit warms up.
	msg := h.refused(h.url(path(id, "rewards")), alice.PublicKey(), nil, http.StatusConflict)
	wantContains(t, "claim while warming", msg, "Nothing to claim yet", "warming up")
	wantContains(t, "claim without a deposit", h.refused(h.url(path(id, "rewards")), carol.PublicKey(), nil, http.StatusConflict), "never deposited")

	// Votes are a snapshot of MT deposited and warmed up before a proposal
	// is created: wait out the warm-up (1 h) before proposing.
	h.travel(time.Unix(h.voter(model, bob.PublicKey()).RecentVotesFrom, 0))

	// Bob proposes; the overview offers a vote on it, the proposal's own
	// action shows its title and tallies.
	h.propose(bob, model, 0)
	ov = h.getAction(path(id, ""))
	vote := link(t, ov, "Vote on #0")
	if len(vote.Parameters) != 1 || vote.Parameters[0].Name != "choice" || len(vote.Parameters[0].Options) != 3 {
		t.Fatalf("vote parameters: %+v", vote.Parameters)
	}
	wantContains(t, "choice label", vote.Parameters[0].Label, "Proposal #0: pay 100 native tokens from the model treasury to ")
	pa := h.getAction("/api/actions/models/0/proposals/0")
	wantContains(t, "proposal title", pa.Title, "Proposal #0: pay 100 native tokens from the model treasury to ")
	wantContains(t, "proposal tallies", pa.Description, "Yes 0 TLC, no 0 TLC, abstain 0 TLC; 0 votes", "quorum", "fund-retraining.md", "sha256 ")
	if pa.Disabled {
		t.Fatalf("open proposal is disabled: %+v", pa.Error)
	}
	for _, label := range []string{"Vote yes", "Vote no", "Abstain"} {
		link(t, pa, label)
	}

	// Alice votes yes with her whole deposit through the overview's choice.
	tr, sig = h.act(fill(vote.Href, map[string]string{"choice": "yes"}), alice, nil)
	wantContains(t, "vote message", tr.Message, "Vote yes on #0", "15,000 TLC", "locked")
	if p := h.proposal(model, 0); p.Yes != 15_000*mtUnit || p.Votes != 1 {
		t.Fatalf("tally after alice's vote: yes %d, votes %d", p.Yes, p.Votes)
	}
	wantContains(t, "vote done", h.next(tr, alice.PublicKey(), sig).Description, "Yes 15,000 TLC (100%)")
	h.act(link(t, pa, "Abstain").Href, bob, nil)
	pa = h.getAction("/api/actions/models/0/proposals/0")
	wantContains(t, "tallies after two votes", pa.Description, "Yes 15,000 TLC (100%), no 0 TLC (0%), abstain 1,000 TLC; 2 votes", "As it stands, it passes")

	// A second open proposal (a signal): the overview offers a vote on each, newest first.
	h.signal(alice, model, 1, "https://example.org/proposals/adopt-the-new-license.md")
	var votes []string
	for _, l := range h.getAction(path(id, "")).Links.Actions {
		if strings.HasPrefix(l.Label, "Vote on") {
			votes = append(votes, l.Label)
		}
	}
	if strings.Join(votes, ",") != "Vote on #1,Vote on #0" {
		t.Errorf("votes offered: %v", votes)
	}
	wantContains(t, "signal title", h.getAction("/api/actions/models/0/proposals/1").Title, "Proposal #1: a signal vote")

	pURL := h.url("/api/actions/models/0/proposals/0")
	wantContains(t, "second vote", h.refused(pURL+"/no", alice.PublicKey(), nil, http.StatusConflict), "already voted yes")
	wantContains(t, "vote without a deposit", h.refused(pURL+"/yes", carol.PublicKey(), nil, http.StatusConflict), "no TLC deposited")
	wantContains(t, "bad choice", h.refused(pURL+"/maybe", alice.PublicKey(), nil, http.StatusBadRequest), "yes, no or abstain")
	wantContains(t, "unknown proposal", h.refused(h.url("/api/actions/models/0/proposals/7/yes"), alice.PublicKey(), nil, http.StatusNotFound), "no proposal #7")

	// Her deposit is locked until voting ends.
	wantContains(t, "locked withdrawal", h.refused(h.url(path(id, "withdraw"))+"?amount=1", alice.PublicKey(), nil, http.StatusConflict), "locked until")
	wantContains(t, "withdraw too much", h.refused(h.url(path(id, "withdraw"))+"?amount=15001", alice.PublicKey(), nil, http.StatusBadRequest), "only 15,000 TLC deposited")
	wantContains(t, "withdraw without a deposit", h.refused(h.url(path(id, "withdraw"))+"?amount=1", carol.PublicKey(), nil, http.StatusConflict), "no TLC deposited")

	// After the end of the vote (the warm-up is long over):
	// voting is closed, the first "claim" starts the deposit earning, revenue
	// arrives, the next claim pays alice her share.
	voteEnds := h.proposal(model, 0).VotingEnds
	h.travel(time.Unix(voteEnds, 0).Add(time.Second))
	pa = h.getAction("/api/actions/models/0/proposals/0")
	if !pa.Disabled || pa.Error == nil || !strings.Contains(pa.Error.Message, "closed") {
		t.Errorf("proposal after its end: disabled %v, %+v", pa.Disabled, pa.Error)
	}
	wantContains(t, "vote after the end", h.refused(pURL+"/no", bob.PublicKey(), nil, http.StatusConflict), "closed")
	h.wantNoVotes(id)

	tr, _ = h.act(h.url(path(id, "rewards")), alice, nil)
	wantContains(t, "start earning", tr.Message, "start", "earning")
	if v := h.voter(model, alice.PublicKey()); v.Warming != 0 {
		t.Fatalf("alice's deposit still warming after her checkpoint: %d", v.Warming)
	}
	h.act(h.url(path(id, "rewards")), bob, nil) // bob's too

	h.depositRevenue(model, 1_600*native) // 70% to depositors: 1 120, split 15:1
	before := h.balance(h.env.NativeATA(alice.PublicKey()))
	tr, sig = h.act(h.url(path(id, "rewards")), alice, nil)
	wantContains(t, "claim message", tr.Message, "Claim 1,050 native tokens")
	if got := h.balance(h.env.NativeATA(alice.PublicKey())) - before; got != 1_050*native {
		t.Errorf("alice received %d native base units of rewards, want %d", got, 1_050*native)
	}
	wantContains(t, "claimed", h.next(tr, alice.PublicKey(), sig).Description, "1,050 native tokens in all")
	wantContains(t, "second claim", h.refused(h.url(path(id, "rewards")), alice.PublicKey(), nil, http.StatusConflict), "Nothing to claim yet")

	// The lock is over: alice withdraws part of her deposit.
	tr, _ = h.act(h.url(path(id, "withdraw"))+"?amount=5000.5", alice, nil)
	wantContains(t, "withdraw message", tr.Message, "5,000.5 TLC", "9,999.5 TLC stay deposited")
	if got := h.balance(treasury.MtATA(alice.PublicKey(), model)); got != 10_000_500_000 {
		t.Errorf("alice holds %d MT base units after withdrawing", got)
	}
}

// wantNoVotes checks the overview offers no vote (every proposal is closed).
func (h *harness) wantNoVotes(id uint64) {
	h.t.Helper()
	for _, l := range h.getAction(path(id, "")).Links.Actions {
		if strings.HasPrefix(l.Label, "Vote on") {
			h.t.Errorf("the overview offers %q on a closed proposal", l.Label)
		}
	}
}

// Trading from wallets: anyone opens the market; buy and sell with a
// slippage bound; bad amounts and slippage are refused by name.
func TestTradeFromWallets(t *testing.T) {
	h := newHarness(t, nil)
	id, model, alice, _, _ := h.active()
	carol := h.wallet(1_000 * native)

	buyURL := h.url(path(id, "buy"))
	if a := h.getAction(path(id, "buy")); !a.Disabled || !strings.Contains(a.Error.Message, "not open yet") {
		t.Errorf("buy before the market opens: %+v", a)
	}
	wantContains(t, "open-market description", h.getAction(path(id, "open-market")).Description, "seeded with 20,000 TLC")
	wantContains(t, "buy before the market opens", h.refused(buyURL+"?amount=10", carol.PublicKey(), nil, http.StatusConflict), "not open yet")
	ov := h.getAction(path(id, ""))
	open := link(t, ov, "Open the market")
	h.act(open.Href, carol, nil)
	m, err := h.env.Model(h.ctx, model)
	if err != nil || m.Market.OpenedAt == 0 {
		t.Fatalf("market after opening: %+v, %v", m, err)
	}
	wantContains(t, "open twice", h.refused(open.Href, carol.PublicKey(), nil, http.StatusConflict), "already open")

	ov = h.getAction(path(id, ""))
	buy := link(t, ov, "Buy TLC")
	if len(buy.Parameters) != 2 || buy.Parameters[1].Name != "slippage" || buy.Parameters[1].Required {
		t.Fatalf("buy parameters: %+v", buy.Parameters)
	}
	meta := h.getAction(path(id, "buy"))
	wantContains(t, "buy description", meta.Description, "The pool holds", "1 TLC ≈")
	sell := link(t, h.getAction(path(id, "sell")), "Sell TLC")
	if len(sell.Parameters) != 2 || !strings.Contains(sell.Href, "amount={amount}&slippage={slippage}") {
		t.Errorf("sell form: %+v", sell)
	}
	if a := h.getAction(path(id, "open-market")); !a.Disabled {
		t.Error("open-market is offered for an open market")
	}

	// Carol buys with 100 native tokens at 2% slippage.
	tr, sig := h.act(fill(buy.Href, map[string]string{"amount": "100", "slippage": "2"}), carol, nil)
	wantContains(t, "buy message", tr.Message, "Buy about", "for 100 native tokens", "2% slippage bound")
	got := h.balance(treasury.MtATA(carol.PublicKey(), model))
	if got == 0 {
		t.Fatal("carol received no MT")
	}
	if held := h.balance(h.env.NativeATA(carol.PublicKey())); held != 900*native {
		t.Errorf("carol holds %d native base units after buying with 100", held)
	}
	wantContains(t, "trade done", h.next(tr, carol.PublicKey(), sig).Description, "Your wallet now holds")

	// She sells half back; her client sends the amount in the body and leaves slippage out.
	half := got / 2
	sellAmount := amount.Format(half, 6)
	tr, _ = h.act(h.url(path(id, "sell")), carol, map[string]any{"amount": sellAmount})
	wantContains(t, "sell message", tr.Message, "Sell "+sellAmount, "1% slippage bound")
	if left := h.balance(treasury.MtATA(carol.PublicKey(), model)); left != got-half {
		t.Errorf("carol holds %d MT base units after selling %d of %d", left, half, got)
	}

	sellURL := h.url(path(id, "sell"))
	for _, tc := range []struct {
		url    string
		wallet solana.PublicKey
		status int
		says   string
	}{
		{buyURL + "?amount=10&slippage=60", carol.PublicKey(), http.StatusBadRequest, "out of range"},
		{buyURL + "?amount=10&slippage=abc", carol.PublicKey(), http.StatusBadRequest, "not a percentage"},
		{buyURL + "?amount=10&slippage=0.123", carol.PublicKey(), http.StatusBadRequest, "not a percentage"},
		{buyURL + "?amount=0.000001", carol.PublicKey(), http.StatusBadRequest, "too small"},
		{buyURL + "?amount=x", carol.PublicKey(), http.StatusBadRequest, "not a number"},
		{buyURL + "?amount=5000", carol.PublicKey(), http.StatusConflict, "your wallet holds"},
		{sellURL + "?amount=999999", alice.PublicKey(), http.StatusConflict, "your wallet holds 20,000 TLC"},
	} {
		wantContains(t, tc.url, h.refused(tc.url, tc.wallet, nil, tc.status), tc.says)
	}
}
