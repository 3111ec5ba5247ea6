package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/clients/settlement"
)

// fixedClock is a chain clock standing at a settable time.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// pricingBook quotes each model's QueryPricing at the serve time, as
// chaincache.Prices does; models in inactive are not active on chain.
type pricingBook struct {
	mu       sync.Mutex
	pricing  map[uint64]settlement.Pricing
	inactive map[uint64]bool
	stale    bool
}

func (b *pricingBook) Price(_ context.Context, id uint64, at time.Time) (Price, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.pricing[id]
	switch {
	case !ok:
		return Price{}, ErrNoModel
	case b.inactive[id]:
		return Price{}, ErrModelInactive
	case b.stale:
		return Price{}, ErrPriceStale
	}
	in, out := p.At(at.Unix())
	return Price{InputPer1k: in, OutputPer1k: out}, nil
}

// Runs are dated by the chain's clock (here a day ahead of the host's) and
// quoted at the price in effect at that time on either side of a
// scheduled switch: the receipt carries what settle will check and charge.
func TestRunsAreDatedAndPricedByTheChainClock(t *testing.T) {
	dayAhead := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	switchAt := dayAhead.Add(10 * time.Second)
	clock := &fixedClock{t: switchAt.Add(-time.Second)}
	book := &pricingBook{pricing: map[uint64]settlement.Pricing{
		1: {PreviousInputPer1k: 1000, PreviousOutputPer1k: 2000, InputPer1k: 3000, OutputPer1k: 5000, EffectiveAt: switchAt.Unix()},
		2: {InputPer1k: 500, OutputPer1k: 700, PreviousInputPer1k: 500, PreviousOutputPer1k: 700},
	}}
	o := defaultWorkers()
	o.mutate = func(c *Config) { c.Prices, c.Clock = book, clock }
	h := newHarness(t, o)
	for _, c := range []struct {
		at      time.Time
		in, out uint64
	}{{switchAt.Add(-time.Second), 1000, 2000}, {switchAt, 3000, 5000}, {switchAt.Add(time.Hour), 3000, 5000}} {
		clock.set(c.at)
		resp := h.do("POST", "/v1/chat/completions", keyRich, chatBody)
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, readAll(t, resp.Body))
		}
		readAll(t, resp.Body)
		id := resp.Header.Get("X-Run-Id")
		var found bool
		for _, e := range h.receiptsOf(keyRich) {
			r := e.Signed.Receipt
			if r.RunID.String() != id {
				continue
			}
			found = true
			if r.ServedAtMs != c.at.UnixMilli() || r.CompletedAtMs < r.ServedAtMs {
				t.Fatalf("run at chain time %v: served_at %v, completed_at %v (the host's clock is a day behind)", c.at, r.ServedAt(), r.CompletedAt())
			}
			if s := r.Models[0]; s.InputPer1k != c.in || s.OutputPer1k != c.out {
				t.Fatalf("run at %v (switch at %v) quoted %d/%d, settle charges %d/%d", c.at, switchAt, s.InputPer1k, s.OutputPer1k, c.in, c.out)
			}
			want, _ := Cost(r.Models, r.InputTokens, r.OutputTokens)
			if r.Cost != want {
				t.Fatalf("cost %d, want %d", r.Cost, want)
			}
		}
		if !found {
			t.Fatalf("no receipt for run %s", id)
		}
	}
}

// GET /v1/models lists exactly what a request would be served for: not a
// model inactive on chain (404 for a request), nor one with no healthy
// worker; GET /v1/models/{model} agrees.
func TestModelListAgreesWithServing(t *testing.T) {
	book := &pricingBook{pricing: map[uint64]settlement.Pricing{
		1: {InputPer1k: 1000, OutputPer1k: 2000, PreviousInputPer1k: 1000, PreviousOutputPer1k: 2000},
		2: {InputPer1k: 500, OutputPer1k: 700, PreviousInputPer1k: 500, PreviousOutputPer1k: 700},
	}, inactive: map[uint64]bool{2: true}}
	o := defaultWorkers()
	o.mutate = func(c *Config) { c.Prices = book }
	h := newHarness(t, o)
	listed := func() []string {
		resp := h.do("GET", "/v1/models", "", "")
		var list struct {
			Data []struct {
				ID        string `json:"id"`
				Available bool   `json:"available"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range list.Data {
			if !m.Available {
				t.Fatalf("listed unavailable model %s", m.ID)
			}
			out = append(out, m.ID)
		}
		return out
	}
	served := func(model string) int {
		body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hi"}],"max_tokens":4}`, model)
		resp := h.do("POST", "/v1/chat/completions", keyRich, body)
		readAll(t, resp.Body)
		return resp.StatusCode
	}
	get := func(model string) int {
		resp := h.do("GET", "/v1/models/"+model, "", "")
		readAll(t, resp.Body)
		return resp.StatusCode
	}

	// model-b is configured with a worker but not active on chain.
	if got := listed(); len(got) != 1 || got[0] != "model-a" {
		t.Fatalf("listed %v, want only model-a (model-b is not active on chain)", got)
	}
	if s := served("model-b"); s != http.StatusNotFound {
		t.Fatalf("request for the inactive model: HTTP %d", s)
	}
	if get("model-b") != http.StatusNotFound || get("model-a") != http.StatusOK {
		t.Fatal("GET /v1/models/{model} disagrees with the list")
	}
	// Active now: listed and served.
	book.mu.Lock()
	book.inactive = nil
	book.mu.Unlock()
	if got := listed(); len(got) != 2 || served("model-b") != http.StatusOK {
		t.Fatalf("after activation: listed %v", got)
	}
	// No healthy worker: listed nowhere.
	h.srvClose()
	if got := listed(); len(got) != 0 {
		t.Fatalf("listed %v with every worker down", got)
	}
	if get("model-a") != http.StatusNotFound {
		t.Fatal("GET /v1/models/model-a with every worker down")
	}
}

// A price the keeper cannot vouch for (a stale copy, the chain unreadable)
// is 503 price_unavailable, not a 404 or a quote.
func TestUnreadablePriceIs503(t *testing.T) {
	book := &pricingBook{pricing: map[uint64]settlement.Pricing{1: {InputPer1k: 1, OutputPer1k: 1}}, stale: true}
	o := defaultWorkers()
	o.mutate = func(c *Config) { c.Prices = book }
	h := newHarness(t, o)
	resp := h.do("POST", "/v1/chat/completions", keyRich, chatBody)
	e := apiErr(t, resp)
	if resp.StatusCode != 503 || *e.Code != "price_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("stale price: HTTP %d %+v", resp.StatusCode, e)
	}
	if len(h.receiptsOf(keyRich)) != 0 {
		t.Fatal("a run was served without a price")
	}
}
