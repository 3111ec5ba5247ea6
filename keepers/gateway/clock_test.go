package gateway

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
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
// ChainPrices does; models in inactive are not active on chain.
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

// --- ChainPrices against a fake RPC ---

func (f *fakeRPC) putClock(unix int64) {
	data := make([]byte, 40)
	binary.LittleEndian.PutUint64(data[32:40], uint64(unix))
	f.mu.Lock()
	f.accounts[chainclock.SysvarAddress] = &rpc.Account{Owner: solana.SysVarRentPubkey, Data: rpc.DataBytesOrJSONFromBytes(data), Lamports: 1}
	f.mu.Unlock()
}

func (f *fakeRPC) putModel(t *testing.T, m mt_treasury.Model) {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f.put(pda.Model(m.Id), mt_treasury.ProgramID, mt_treasury.Account_Model, b)
}

type observer struct{ last atomic.Int64 }

func (o *observer) Observe(unix int64) { o.last.Store(unix) }

// A request for a watched model that just became active is served at
// once — the keeper reads the model on demand instead of answering 404
// until its next poll — and on-demand reads are shared and spaced.
func TestChainPricesRefreshOnDemand(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	f.putClock(1_000)
	gov := mt_treasury.GovernanceRules{HoldUpSecs: 3600}
	price := mt_treasury.QueryPricing{InputPer1k: 20, OutputPer1k: 40, PreviousInputPer1k: 20, PreviousOutputPer1k: 40}
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Funding, Governance: gov, Pricing: price})
	obs := &observer{}
	p := NewChainPrices(ChainConfig{RPC: f, Refresh: time.Hour, MinRefreshGap: 200 * time.Millisecond, Clock: obs}, []uint64{1, 2})
	ctx := context.Background()
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if obs.last.Load() != 1_000 {
		t.Fatalf("the clock observer got %d, want the sysvar's 1000", obs.last.Load())
	}
	at := time.Unix(1_001, 0)
	if _, err := p.Price(ctx, 1, at); !errors.Is(err, ErrModelInactive) {
		t.Fatalf("funding model: %v", err)
	}
	// The raise is finalised; no poll runs (Refresh is an hour).
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Active, Governance: gov, Pricing: price})
	time.Sleep(250 * time.Millisecond)
	got, err := p.Price(ctx, 1, at)
	if err != nil || got != (Price{20, 40}) {
		t.Fatalf("right after activation: %+v %v", got, err)
	}
	// A model that does not exist: 50 concurrent requests, then 50 more
	// within the gap, make one read.
	time.Sleep(250 * time.Millisecond)
	calls := f.calls.Load()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Price(ctx, 2, at); !errors.Is(err, ErrNoModel) {
				t.Errorf("missing model: %v", err)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 50; i++ {
		if _, err := p.Price(ctx, 2, at); !errors.Is(err, ErrNoModel) {
			t.Fatalf("missing model: %v", err)
		}
	}
	if n := f.calls.Load() - calls; n != 1 {
		t.Fatalf("%d RPC reads for 100 requests of a missing model within the gap, want 1", n)
	}
}

// A copy of a model is quoted only until the chain time of its read plus
// the model's hold-up; a later serve time reads the model again, which
// shows a change scheduled meanwhile, and both sides of the switch are
// quoted as settlement charges them. With the chain unreadable it is
// ErrPriceStale, never the old price.
func TestChainPricesHoldUpHorizon(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	gov := mt_treasury.GovernanceRules{HoldUpSecs: 60}
	f.putClock(10_000)
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Active, Governance: gov,
		Pricing: mt_treasury.QueryPricing{InputPer1k: 20, OutputPer1k: 40, PreviousInputPer1k: 20, PreviousOutputPer1k: 40}})
	p := NewChainPrices(ChainConfig{RPC: f, Refresh: time.Hour, MinRefreshGap: time.Nanosecond}, []uint64{1})
	ctx := context.Background()
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	calls := f.calls.Load()
	if got, err := p.Price(ctx, 1, time.Unix(10_059, 0)); err != nil || got != (Price{20, 40}) || f.calls.Load() != calls {
		t.Fatalf("within the hold-up of the read: %+v %v (%d reads)", got, err, f.calls.Load()-calls)
	}
	// Governance doubled the price at 10 030, effective 10 090; the keeper
	// has not polled since 10 000.
	f.putClock(10_061)
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Active, Governance: gov,
		Pricing: mt_treasury.QueryPricing{InputPer1k: 40, OutputPer1k: 80, PreviousInputPer1k: 20, PreviousOutputPer1k: 40, EffectiveAt: 10_090}})
	for _, c := range []struct {
		at   int64
		want Price
	}{{10_060, Price{20, 40}}, {10_089, Price{20, 40}}, {10_090, Price{40, 80}}, {10_120, Price{40, 80}}} {
		got, err := p.Price(ctx, 1, time.Unix(c.at, 0))
		if err != nil || got != c.want {
			t.Fatalf("serve time %d: %+v %v, want %+v", c.at, got, err, c.want)
		}
	}
	if n := f.calls.Load() - calls; n != 1 {
		t.Fatalf("%d reads, want 1 (at the first serve time past the horizon)", n)
	}
	f.down.Store(true)
	if got, err := p.Price(ctx, 1, time.Unix(10_121+60, 0)); !errors.Is(err, ErrPriceStale) {
		t.Fatalf("past the horizon with the chain unreadable: %+v %v", got, err)
	}
	if got, err := p.Price(ctx, 1, time.Unix(10_100, 0)); err != nil || got != (Price{40, 80}) {
		t.Fatalf("within the horizon with the chain unreadable: %+v %v", got, err)
	}
}

// A request whose copy went stale (the chain's clock jumped past the
// hold-up) right after an on-demand read for another model waits out the
// gap and is served, instead of failing on the throttle.
func TestChainPricesStaleCopyWaitsOutTheGap(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	f.putClock(1_000)
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Active, Governance: mt_treasury.GovernanceRules{HoldUpSecs: 60},
		Pricing: mt_treasury.QueryPricing{InputPer1k: 20, OutputPer1k: 40, PreviousInputPer1k: 20, PreviousOutputPer1k: 40}})
	p := NewChainPrices(ChainConfig{RPC: f, Refresh: time.Hour, MinRefreshGap: 300 * time.Millisecond}, []uint64{1, 2})
	ctx := context.Background()
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Price(ctx, 2, time.Unix(1_001, 0)); !errors.Is(err, ErrNoModel) {
		t.Fatalf("missing model: %v", err)
	}
	f.putClock(1_000 + 86_400) // time travel
	start := time.Now()
	if _, err := p.Price(ctx, 2, time.Unix(1_002, 0)); !errors.Is(err, ErrNoModel) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("missing model within the gap: %v after %s (want an immediate refusal)", err, time.Since(start))
	}
	got, err := p.Price(ctx, 1, time.Unix(1_000+86_400, 0))
	if err != nil || got != (Price{20, 40}) || p.DemandRefreshes() != 2 {
		t.Fatalf("stale copy within the gap: %+v %v after %d on-demand reads", got, err, p.DemandRefreshes())
	}
}

// Every read includes the clock sysvar; without it the read fails.
func TestChainPricesNeedTheClock(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Active})
	p := NewChainPrices(ChainConfig{RPC: f}, []uint64{1})
	if err := p.Refresh(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("read without the clock sysvar: %v", err)
	}
}
