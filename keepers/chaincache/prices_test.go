package chaincache

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
)

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

func TestPrices(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	model := func(id uint64, stage mt_treasury.Stage) []byte {
		b, err := mt_treasury.Model{Id: id, Stage: stage, Governance: mt_treasury.GovernanceRules{HoldUpSecs: 1 << 40}, Pricing: mt_treasury.QueryPricing{
			InputPer1k: 20, OutputPer1k: 40, PreviousInputPer1k: 10, PreviousOutputPer1k: 30, EffectiveAt: 1_000,
		}}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f.put(pda.Model(1), mt_treasury.ProgramID, mt_treasury.Account_Model, model(1, mt_treasury.Stage_Active))
	f.put(pda.Model(2), mt_treasury.ProgramID, mt_treasury.Account_Model, model(2, mt_treasury.Stage_Funding))
	f.put(pda.Model(3), solana.NewWallet().PublicKey(), mt_treasury.Account_Model, model(3, mt_treasury.Stage_Active))
	f.putClock(900)
	p := NewPrices(Config{RPC: f}, []uint64{1, 2, 3, 4})
	if err := p.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Boundary: from effective_at on, the new price.
	cases := []struct {
		at   int64
		want Price
	}{{999, Price{10, 30}}, {1000, Price{20, 40}}, {5000, Price{20, 40}}}
	for _, c := range cases {
		got, err := p.Price(ctx, 1, time.Unix(c.at, 0))
		if err != nil || got != c.want {
			t.Fatalf("at %d: %+v %v", c.at, got, err)
		}
	}
	if _, err := p.Price(ctx, 2, time.Now()); !errors.Is(err, ErrModelInactive) {
		t.Fatalf("funding model: %v", err)
	}
	for _, id := range []uint64{3, 4} {
		if _, err := p.Price(ctx, id, time.Now()); !errors.Is(err, ErrNoModel) {
			t.Fatalf("model %d: %v", id, err)
		}
	}
	if !p.Healthy() {
		t.Fatal("fresh price book unhealthy")
	}
}

// A request for a watched model that just became active is served at
// once — the keeper reads the model on demand instead of answering 404
// until its next poll — and on-demand reads are shared and spaced.
func TestPricesRefreshOnDemand(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	f.putClock(1_000)
	gov := mt_treasury.GovernanceRules{HoldUpSecs: 3600}
	price := mt_treasury.QueryPricing{InputPer1k: 20, OutputPer1k: 40, PreviousInputPer1k: 20, PreviousOutputPer1k: 40}
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Funding, Governance: gov, Pricing: price})
	obs := &observer{}
	p := NewPrices(Config{RPC: f, Refresh: time.Hour, MinRefreshGap: 200 * time.Millisecond, Clock: obs}, []uint64{1, 2})
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
func TestPricesHoldUpHorizon(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	gov := mt_treasury.GovernanceRules{HoldUpSecs: 60}
	f.putClock(10_000)
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Active, Governance: gov,
		Pricing: mt_treasury.QueryPricing{InputPer1k: 20, OutputPer1k: 40, PreviousInputPer1k: 20, PreviousOutputPer1k: 40}})
	p := NewPrices(Config{RPC: f, Refresh: time.Hour, MinRefreshGap: time.Nanosecond}, []uint64{1})
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
func TestPricesStaleCopyWaitsOutTheGap(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	f.putClock(1_000)
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Active, Governance: mt_treasury.GovernanceRules{HoldUpSecs: 60},
		Pricing: mt_treasury.QueryPricing{InputPer1k: 20, OutputPer1k: 40, PreviousInputPer1k: 20, PreviousOutputPer1k: 40}})
	p := NewPrices(Config{RPC: f, Refresh: time.Hour, MinRefreshGap: 300 * time.Millisecond}, []uint64{1, 2})
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
func TestPricesNeedTheClock(t *testing.T) {
	f := &fakeRPC{accounts: map[solana.PublicKey]*rpc.Account{}}
	f.putModel(t, mt_treasury.Model{Id: 1, Stage: mt_treasury.Stage_Active})
	p := NewPrices(Config{RPC: f}, []uint64{1})
	if err := p.Refresh(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("read without the clock sysvar: %v", err)
	}
}
