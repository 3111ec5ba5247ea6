package chaincache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
	"github.com/modelcommons/modelcommons/keepers/poll"
)

// Prices is a gateway.PriceBook over mt_treasury Model accounts. It reads
// every watched model in one getMultipleAccounts call per 99 models, with
// the Clock sysvar in the same call (so it knows the chain's time of each
// copy, and tells Config.Clock): every Config.Refresh (Run), and
// on demand when a request names a watched model it cannot quote — one it
// has no active copy of (a raise just finalised) or whose copy is too old
// for the serve time. On-demand reads are shared (one at a time, the
// requests that need it wait for it within their context) and spaced by
// Config.MinRefreshGap (a request for an unknown or inactive model is
// refused at once rather than wait for the gap; one with a stale copy
// waits), so unknown or inactive models cannot drive RPC load.
//
// A copy read when the chain's clock said C is quoted only for serve times
// before C + the model's governance hold-up: execute_proposal schedules a
// new price at its own time + hold_up, so no change executed after the read
// takes effect earlier (provided the hold-up itself was not lowered
// meanwhile, which the operator rule below covers). Later serve times need
// a fresh copy (ErrPriceStale if the chain cannot be read). Because the
// model stores the previous price and the switch time, a copy that has
// seen a scheduled change quotes both sides of the switch exactly as
// settlement charges them.
//
// The operator rule: Refresh must stay well below the protocol's
// min_period_secs (the shortest hold-up any model may have), or requests
// wait for on-demand reads after a change the poll has not seen yet.
type Prices struct {
	cfg    Config
	ids    []uint64
	addrs  []solana.PublicKey
	mu     sync.RWMutex
	models map[uint64]priceCopy
	slots  map[uint64]uint64 // the slot of each model's latest read
	lastOK atomic.Int64

	demandMu   sync.Mutex
	demand     *refreshFlight
	demandLast time.Time
	demands    atomic.Int64
}

// priceCopy is a model as read, with the chain's time of the read.
type priceCopy struct {
	model  mt_treasury.Model
	readAt int64 // the Clock sysvar's unix_timestamp in the same read
}

// quotableUntil is the first serve second this copy may be out of date for.
func (c priceCopy) quotableUntil() int64 {
	return c.readAt + max(c.model.Governance.HoldUpSecs, 1)
}

type refreshFlight struct {
	done chan struct{}
	err  error
}

// NewPrices watches the given model ids. Call Refresh once before
// serving, then Run.
func NewPrices(cfg Config, ids []uint64) *Prices {
	cfg.defaults(2 * time.Second)
	p := &Prices{cfg: cfg, ids: ids, models: map[uint64]priceCopy{}, slots: map[uint64]uint64{}}
	for _, id := range ids {
		p.addrs = append(p.addrs, pda.Model(id))
	}
	return p
}

// Refresh re-reads every watched model (and the chain's clock with them).
func (p *Prices) Refresh(ctx context.Context) error {
	const per = maxAccountsPerCall - 1 // each call also reads the clock sysvar
	for i := 0; i < len(p.addrs); i += per {
		chunk := p.addrs[i:min(i+per, len(p.addrs))]
		keys := append(append(make([]solana.PublicKey, 0, len(chunk)+1), chunk...), chainclock.SysvarAddress)
		res, err := p.cfg.RPC.GetMultipleAccountsWithOpts(ctx, keys, &rpc.GetMultipleAccountsOpts{Encoding: solana.EncodingBase64, Commitment: p.cfg.Commitment})
		if err != nil {
			return fmt.Errorf("%w: read models: %v", ErrUnavailable, err)
		}
		if len(res.Value) != len(keys) {
			return fmt.Errorf("%w: getMultipleAccounts returned %d accounts for %d", ErrUnavailable, len(res.Value), len(keys))
		}
		clock := res.Value[len(chunk)]
		if clock == nil || clock.Data == nil {
			return fmt.Errorf("%w: read models: %v", ErrUnavailable, chainclock.ErrBadSysvar)
		}
		_, now, err := chainclock.ParseSysvar(clock.Data.GetBinary())
		if err != nil {
			return fmt.Errorf("%w: read models: %v", ErrUnavailable, err)
		}
		if p.cfg.Clock != nil {
			p.cfg.Clock.Observe(now)
		}
		slot := res.Context.Slot
		p.mu.Lock()
		for j, acc := range res.Value[:len(chunk)] {
			id := p.ids[i+j]
			if slot < p.slots[id] {
				continue // a later read (on demand, meanwhile) already applied
			}
			p.slots[id] = slot
			if acc == nil || acc.Data == nil || acc.Owner != mt_treasury.ProgramID {
				delete(p.models, id)
				continue
			}
			m, err := mt_treasury.ParseAccount_Model(acc.Data.GetBinary())
			if err != nil || m.Id != id {
				delete(p.models, id)
				continue
			}
			p.models[id] = priceCopy{model: *m, readAt: now}
		}
		p.mu.Unlock()
	}
	p.lastOK.Store(time.Now().UnixNano())
	return nil
}

// Price implements gateway.PriceBook: the price in effect at the serve time at
// (the chain's clock), from QueryPricing's previous and current prices and
// effective_at. A model it cannot quote is read again first (on demand).
func (p *Prices) Price(ctx context.Context, id uint64, at time.Time) (Price, error) {
	c, err := p.quotable(id, at)
	// A stale copy of an active model waits out the gap between on-demand
	// reads; a missing or inactive model does not (404 at once).
	if err != nil && p.refreshOnDemand(ctx, errors.Is(err, ErrPriceStale)) {
		c, err = p.quotable(id, at)
	}
	if err != nil {
		return Price{}, err
	}
	in, out := settlement.PricingOf(&c.model).At(at.Unix())
	return Price{InputPer1k: in, OutputPer1k: out}, nil
}

// quotable returns the copy of model id if it may be quoted at at.
func (p *Prices) quotable(id uint64, at time.Time) (priceCopy, error) {
	p.mu.RLock()
	c, ok := p.models[id]
	p.mu.RUnlock()
	switch {
	case !ok:
		return c, fmt.Errorf("model %d: %w", id, ErrNoModel)
	case c.model.Stage != mt_treasury.Stage_Active:
		return c, fmt.Errorf("model %d: %w", id, ErrModelInactive)
	case at.Unix() >= c.quotableUntil():
		return c, fmt.Errorf("model %d read at chain time %d, hold-up %ds, serve time %d: %w", id, c.readAt, c.model.Governance.HoldUpSecs, at.Unix(), ErrPriceStale)
	}
	return c, nil
}

// refreshOnDemand reads the models now — joining a read already under way,
// or starting one unless the last started less than MinRefreshGap ago (then,
// if patient, once the gap has passed) — and reports whether a read
// completed successfully while the caller waited.
func (p *Prices) refreshOnDemand(ctx context.Context, patient bool) bool {
	for {
		p.demandMu.Lock()
		f := p.demand
		if f == nil {
			if wait := p.cfg.MinRefreshGap - time.Since(p.demandLast); wait > 0 {
				p.demandMu.Unlock()
				if !patient {
					return false
				}
				select {
				case <-ctx.Done():
					return false
				case <-time.After(wait):
				}
				continue
			}
			p.demandLast = time.Now()
			f = &refreshFlight{done: make(chan struct{})}
			p.demand = f
			p.demands.Add(1)
			go p.runDemand(f)
		}
		p.demandMu.Unlock()
		select {
		case <-f.done:
			return f.err == nil
		case <-ctx.Done():
			return false
		}
	}
}

func (p *Prices) runDemand(f *refreshFlight) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.DemandTimeout)
	f.err = p.Refresh(ctx)
	cancel()
	if f.err != nil {
		p.cfg.Logger.Warn("on-demand price refresh failed", "err", f.err)
	}
	p.demandMu.Lock()
	p.demand = nil
	p.demandMu.Unlock()
	close(f.done)
}

// DemandRefreshes counts the on-demand reads started so far.
func (p *Prices) DemandRefreshes() int64 { return p.demands.Load() }

// Run refreshes every Config.Refresh until ctx ends.
func (p *Prices) Run(ctx context.Context) error {
	return poll.Every(ctx, p.cfg.Refresh, p.Refresh, func(err error) { p.cfg.Logger.Warn("price refresh failed", "err", err) })
}

// Healthy reports whether a refresh succeeded within Config.Stale.
func (p *Prices) Healthy() bool {
	return time.Since(time.Unix(0, p.lastOK.Load())) < p.cfg.Stale
}
