package actions_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/actions"
	"github.com/modelcommons/modelcommons/clients/allowlist"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

func path(id uint64, action string) string {
	if action == "" {
		return fmt.Sprintf("/api/actions/models/%d", id)
	}
	return fmt.Sprintf("/api/actions/models/%d/%s", id, action)
}

// A raise that succeeds, entirely from wallets: contribute (amount in the
// URL and in the body), finalise, claim; every refusal on the way is a
// spec error with a message that says why.
func TestCrowdfundSucceedsFromWallets(t *testing.T) {
	h := newHarness(t, nil)
	now := h.now()
	args := treasury.DefaultTerms(now, time.Hour) // 2 native per MT; soft cap 40 000, hard cap 100 000, 60 000 per wallet
	id, model := h.launch(args)
	alice, bob, carol := h.wallet(1_000*native), h.wallet(50_000*native), h.wallet(0)

	// The model's overview lists what can be done now: contribute.
	ov := h.getAction(path(id, ""))
	wantContains(t, "overview title", ov.Title, "Tiny Llama Commons", "TLC")
	contribute := link(t, ov, "Contribute")
	if len(contribute.Parameters) != 1 || contribute.Parameters[0].Name != "amount" || !contribute.Parameters[0].Required {
		t.Fatalf("contribute parameters: %+v", contribute.Parameters)
	}
	p := contribute.Parameters[0]
	if p.Max == nil || *p.Max != 60_000 || p.Min == nil || *p.Min != 0.000002 || p.Pattern == "" || p.PatternDescription == "" {
		t.Errorf("amount parameter: %+v (max %v, min %v)", p, p.Max, p.Min)
	}

	meta := h.getAction(path(id, "contribute"))
	if meta.Disabled || meta.Error != nil {
		t.Fatalf("contribute is disabled while the raise is open: %+v", meta.Error)
	}
	wantContains(t, "contribute description", meta.Description, "2 native tokens per TLC", "soft cap", "60,000 native tokens per wallet")

	// Alice contributes 100 through the linked action's href template.
	tr, sig := h.act(fill(link(t, meta, "Contribute").Href, map[string]string{"amount": "100"}), alice, nil)
	wantContains(t, "message", tr.Message, "100 native tokens", "50 TLC")
	c, err := h.env.Contribution(h.ctx, model, alice.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if c.Paid != 100*native || c.Mt != 50*mtUnit {
		t.Fatalf("alice's contribution: paid %d, MT %d", c.Paid, c.Mt)
	}
	if got := h.balance(h.env.NativeATA(alice.PublicKey())); got != 900*native {
		t.Errorf("alice holds %d native, want 900", got)
	}
	done := h.next(tr, alice.PublicKey(), sig)
	wantContains(t, "completed action", done.Description, "paid 100 native tokens for 50 TLC")

	// Refusals while the raise is open.
	url := h.url(path(id, "contribute"))
	for _, tc := range []struct {
		amount string
		status int
		says   string
	}{
		{"abc", http.StatusBadRequest, "not a number"},
		{"1e3", http.StatusBadRequest, "digits"},
		{"-5", http.StatusBadRequest, "negative"},
		{"0", http.StatusBadRequest, "greater than zero"},
		{"1.0000001", http.StatusBadRequest, "decimal places"},
		{"99999999999999999999999", http.StatusBadRequest, "too large"},
		{"", http.StatusBadRequest, "Enter the amount"},
		{"60000", http.StatusBadRequest, "per-wallet cap of 60,000 native tokens"},
		{"0.000001", http.StatusBadRequest, "buys no TLC"},
		{"901", http.StatusConflict, "holds 900 native tokens"},
	} {
		msg := h.refused(url+"?amount="+tc.amount, alice.PublicKey(), nil, tc.status)
		wantContains(t, "amount "+tc.amount, msg, tc.says)
	}
	for _, action := range []string{"claim", "refund", "finalize"} {
		msg := h.refused(h.url(path(id, action)), alice.PublicKey(), nil, http.StatusConflict)
		wantContains(t, action+" while open", msg, "still open")
		if a := h.getAction(path(id, action)); !a.Disabled || a.Error == nil {
			t.Errorf("GET %s while the raise is open is not disabled", action)
		}
	}

	// Bob's client sends the amount in the body's data; he reaches the soft cap.
	h.act(url, bob, map[string]any{"amount": "40000"})
	if c, err := h.env.Contribution(h.ctx, model, bob.PublicKey()); err != nil || c.Mt != 20_000*mtUnit {
		t.Fatalf("bob's contribution: %+v, %v", c, err)
	}

	// The raise ends: contributing is refused, finalising is offered to anyone.
	h.travel(now.Add(time.Hour + time.Second))
	msg := h.refused(url+"?amount=1", alice.PublicKey(), nil, http.StatusConflict)
	wantContains(t, "contribute after the end", msg, "has ended", "reached its soft cap")
	if a := h.getAction(path(id, "contribute")); !a.Disabled {
		t.Error("contribute is not disabled after the end")
	}
	msg = h.refused(h.url(path(id, "claim")), alice.PublicKey(), nil, http.StatusConflict)
	wantContains(t, "claim before finalising", msg, "not been finalised")
	ov = h.getAction(path(id, ""))
	fin := link(t, ov, "Finalise the raise")
	h.act(fin.Href, carol, nil) // carol has no native tokens; only SOL for the fee
	m, err := h.env.Model(h.ctx, model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Stage != mt.Stage_Active {
		t.Fatalf("stage %v after finalising", m.Stage)
	}
	h.refused(fin.Href, carol.PublicKey(), nil, http.StatusConflict)

	// Alice claims her MT into an associated account the transaction creates.
	ov = h.getAction(path(id, ""))
	claim := link(t, ov, "Claim TLC")
	tr, sig = h.act(claim.Href, alice, nil)
	wantContains(t, "claim message", tr.Message, "50 TLC")
	if got := h.balance(treasury.MtATA(alice.PublicKey(), model)); got != 50*mtUnit {
		t.Errorf("alice holds %d MT base units, want %d", got, 50*mtUnit)
	}
	wantContains(t, "claimed", h.next(tr, alice.PublicKey(), sig).Description, "holds 50 TLC")
	if h.exists(pda.Contribution(model, alice.PublicKey())) {
		t.Error("the claim left the contribution record open (its rent not returned)")
	}

	wantContains(t, "second claim", h.refused(claim.Href, alice.PublicKey(), nil, http.StatusConflict), "already claimed")
	wantContains(t, "claim without contributing", h.refused(claim.Href, carol.PublicKey(), nil, http.StatusConflict), "Nothing to claim")
	wantContains(t, "refund of a success", h.refused(h.url(path(id, "refund")), bob.PublicKey(), nil, http.StatusConflict), "no refunds")
	wantContains(t, "contribute when active", h.refused(url+"?amount=1", bob.PublicKey(), nil, http.StatusConflict), "succeeded")
}

// A raise that misses its soft cap: finalise, then refunds.
func TestFailedRaiseRefundsFromWallets(t *testing.T) {
	h := newHarness(t, nil)
	now := h.now()
	id, model := h.launch(treasury.DefaultTerms(now, time.Hour))
	alice := h.wallet(500 * native)

	meta := h.getAction(path(id, "contribute"))
	h.act(fill(link(t, meta, "Contribute").Href, map[string]string{"amount": "250.5"}), alice, nil)
	if got := h.balance(h.env.NativeATA(alice.PublicKey())); got != 249_500_000 {
		t.Fatalf("alice holds %d after contributing", got)
	}

	h.travel(now.Add(time.Hour + time.Second))
	fin := h.getAction(path(id, "finalize"))
	if fin.Disabled {
		t.Fatalf("finalise is disabled once due: %+v", fin.Error)
	}
	wantContains(t, "finalise description", fin.Description, "missed")
	h.act(link(t, fin, "Finalise the raise").Href, alice, nil)
	m, err := h.env.Model(h.ctx, model)
	if err != nil || m.Stage != mt.Stage_Failed {
		t.Fatalf("stage after finalising: %+v, %v", m, err)
	}

	ov := h.getAction(path(id, ""))
	refund := link(t, ov, "Take refund")
	// The refund goes to the wallet's associated account, recreated if closed.
	tr, sig := h.act(refund.Href, alice, nil)
	wantContains(t, "refund message", tr.Message, "250.5 native tokens")
	if got := h.balance(h.env.NativeATA(alice.PublicKey())); got != 500*native {
		t.Errorf("alice holds %d after the refund, want all 500 back", got)
	}
	wantContains(t, "refunded", h.next(tr, alice.PublicKey(), sig).Description, "500 native tokens")
	if h.exists(pda.Contribution(model, alice.PublicKey())) {
		t.Error("the refund left the contribution record open (its rent not returned)")
	}
	wantContains(t, "second refund", h.refused(refund.Href, alice.PublicKey(), nil, http.StatusConflict), "already refunded")
	wantContains(t, "claim of a failure", h.refused(h.url(path(id, "claim")), alice.PublicKey(), nil, http.StatusConflict), "failed")
	if a := h.getAction(path(id, "claim")); !a.Disabled {
		t.Error("claim is offered for a failed raise")
	}
}

// A restricted crowdfund: the server proves membership from the published
// list; outsiders and servers without the list are refused by name.
func TestAllowlistedCrowdfund(t *testing.T) {
	h := newHarness(t, nil)
	alice, outsider := h.wallet(100*native), h.wallet(100*native)
	list := []solana.PublicKey{alice.PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()}
	root := allowlistRoot(t, list)
	args := treasury.DefaultTerms(h.now(), time.Hour)
	args.Crowdfund.AllowlistRoot = &root
	id, model := h.launch(args)

	// This harness's server was not given the list.
	url := h.url(path(id, "contribute")) + "?amount=10"
	wantContains(t, "without the list", h.refused(url, alice.PublicKey(), nil, http.StatusConflict), "allowlist", "--allowlist")

	_, base := h.serve(func(c *actions.Config) { c.Allowlists = map[uint64][]solana.PublicKey{id: list} })
	withList := base + path(id, "contribute") + "?amount=10"
	wantContains(t, "outsider", h.refused(withList, outsider.PublicKey(), nil, http.StatusForbidden), "not on the allowlist")
	h.act(withList, alice, nil)
	if c, err := h.env.Contribution(h.ctx, model, alice.PublicKey()); err != nil || c.Paid != 10*native {
		t.Fatalf("alice's allowlisted contribution: %+v, %v", c, err)
	}
}

func allowlistRoot(t *testing.T, wallets []solana.PublicKey) [32]uint8 {
	t.Helper()
	tree, err := allowlist.New(wallets)
	if err != nil {
		t.Fatal(err)
	}
	return [32]uint8(tree.Root())
}
