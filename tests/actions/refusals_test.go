package actions_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

// Refusals that depend on the chain: each is the spec's error shape with a
// message a wallet can show, and no transaction.
func TestRefusalsAgainstChainState(t *testing.T) {
	h := newHarness(t, nil)
	now := h.now()
	later := treasury.DefaultTerms(now, 2*time.Hour)
	later.Crowdfund.Start = now.Add(time.Hour).Unix()
	id, _ := h.launch(later)
	alice := h.wallet(100 * native)

	t.Run("unknown model", func(t *testing.T) {
		wantContains(t, "GET", wantError(t, h.do(http.MethodGet, h.url(path(99, "contribute")), nil), http.StatusNotFound), "no model 99")
		wantContains(t, "POST", h.refused(h.url(path(99, "claim")), alice.PublicKey(), nil, http.StatusNotFound), "no model 99")
	})

	t.Run("raise not open yet", func(t *testing.T) {
		a := h.getAction(path(id, "contribute"))
		if !a.Disabled || a.Error == nil || !strings.Contains(a.Error.Message, "opens") {
			t.Errorf("contribute before the start: disabled %v, error %+v", a.Disabled, a.Error)
		}
		wantContains(t, "POST", h.refused(h.url(path(id, "contribute"))+"?amount=1", alice.PublicKey(), nil, http.StatusConflict), "not opened yet", "(in ")
		ov := h.getAction(path(id, ""))
		if !ov.Disabled || ov.Links != nil {
			t.Errorf("overview before the start offers actions: %+v", ov.Links)
		}
	})

	h.travel(now.Add(time.Hour))

	t.Run("a wallet without SOL is told so (from the simulation)", func(t *testing.T) {
		// Native tokens but no SOL at all: every check passes, the
		// simulation refuses the fee payer, the message says why.
		poor := solana.NewWallet()
		if _, err := h.env.Send(h.ctx, h.env.Admin, nil,
			tokens.CreateATAIdempotent(h.env.Admin.PublicKey(), poor.PublicKey(), h.env.NativeMint, h.env.NativeProgram),
			tokens.MintTo(h.env.NativeMint, h.env.NativeATA(poor.PublicKey()), h.env.Admin.PublicKey(), 10*native, h.env.NativeProgram)); err != nil {
			t.Fatal(err)
		}
		msg := h.refused(h.url(path(id, "contribute"))+"?amount=1", poor.PublicKey(), nil, http.StatusConflict)
		wantContains(t, "no SOL", msg, "no SOL")
	})

	t.Run("paused protocol", func(t *testing.T) {
		pause := func(paused bool) {
			ix, err := h.env.UpdateProtocolIx(h.env.Admin.PublicKey(), mt.UpdateProtocolArgs{Paused: &paused})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.env.Send(h.ctx, h.env.Admin, nil, ix); err != nil {
				t.Fatal(err)
			}
		}
		pause(true)
		wantContains(t, "paused", h.refused(h.url(path(id, "contribute"))+"?amount=1", alice.PublicKey(), nil, http.StatusConflict), "paused")
		pause(false)
		h.act(h.url(path(id, "contribute"))+"?amount=1", alice, nil)
	})

	t.Run("icon", func(t *testing.T) {
		a := h.getAction(path(id, ""))
		res := h.do(http.MethodGet, a.Icon, nil)
		if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(res.Body), ">TLC<") {
			t.Errorf("icon %s: %d %s %s", a.Icon, res.Status, res.Header.Get("Content-Type"), res.Body)
		}
	})
}
