package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"golang.org/x/time/rate"

	"github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
	"github.com/modelcommons/modelcommons/keepers/poll"
)

// AccountFetcher is the one RPC method the chain sources use
// (*rpc.Client implements it).
type AccountFetcher interface {
	GetMultipleAccountsWithOpts(ctx context.Context, accounts []solana.PublicKey, opts *rpc.GetMultipleAccountsOpts) (*rpc.GetMultipleAccountsResult, error)
}

// maxAccountsPerCall is getMultipleAccounts' limit.
const maxAccountsPerCall = 100

// ChainConfig configures the chain-backed sources.
type ChainConfig struct {
	RPC        AccountFetcher
	Commitment rpc.CommitmentType
	// Node is this keeper's node account (inference_meter Node PDA):
	// ChainEscrows reads each escrow's lane for it. Zero: no lane, nothing
	// is admitted.
	Node solana.PublicKey
	// Refresh is the polling interval (default 2s). For prices keep it well
	// below the protocol's min_period_secs (see ChainPrices).
	Refresh time.Duration
	// MinRefreshGap spaces ChainPrices' on-demand reads (default 500ms);
	// DemandTimeout bounds one (default 5s).
	MinRefreshGap time.Duration
	DemandTimeout time.Duration
	// Clock, if set, is told the chain's time whenever ChainPrices reads
	// the Clock sysvar (keepers/chainclock.Clock).
	Clock ClockObserver
	// MaxEscrows bounds the escrow cache (default 100 000); escrows unused
	// for IdleEvict (default 15 min) leave it.
	MaxEscrows int
	IdleEvict  time.Duration
	// NegativeTTL is how long "no such escrow" is remembered (default 10s).
	NegativeTTL time.Duration
	// MissRate bounds RPC lookups of escrows not in the cache, per second
	// (default 50, burst 100): unknown keys cannot drive RPC load.
	MissRate float64
	// Stale: the source reports unhealthy when no refresh succeeded for
	// this long (default 1 min).
	Stale  time.Duration
	Logger *slog.Logger
}

func (c *ChainConfig) defaults(refresh time.Duration) {
	if c.Commitment == "" {
		c.Commitment = rpc.CommitmentConfirmed
	}
	if c.Refresh <= 0 {
		c.Refresh = refresh
	}
	if c.MaxEscrows <= 0 {
		c.MaxEscrows = 100_000
	}
	if c.IdleEvict <= 0 {
		c.IdleEvict = 15 * time.Minute
	}
	if c.NegativeTTL <= 0 {
		c.NegativeTTL = 10 * time.Second
	}
	if c.MissRate <= 0 {
		c.MissRate = 50
	}
	if c.Stale <= 0 {
		c.Stale = time.Minute
	}
	if c.MinRefreshGap <= 0 {
		c.MinRefreshGap = 500 * time.Millisecond
	}
	if c.DemandTimeout <= 0 {
		c.DemandTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// ErrSourceBusy: too many lookups of unknown escrows right now.
var ErrSourceBusy = errors.New("too many lookups of unknown API keys; try again shortly")

// ErrUnavailable: the chain could not be asked.
var ErrUnavailable = errors.New("chain RPC unavailable")

// ChainEscrows is an EscrowSource over inference_meter Escrow accounts:
// a first lookup reads the account; Run then refreshes every cached escrow
// with getMultipleAccounts every Refresh.
type ChainEscrows struct {
	cfg    ChainConfig
	miss   *rate.Limiter
	mu     sync.Mutex
	cache  map[solana.PublicKey]*escrowEntry
	flight map[solana.PublicKey]*lookup
	lastOK atomic.Int64 // unix nanos of the last successful RPC answer
}

type escrowEntry struct {
	state     EscrowState
	exists    bool
	fetchedAt time.Time
	usedAt    time.Time
}

type lookup struct {
	done  chan struct{}
	entry *escrowEntry
	err   error
}

// NewChainEscrows returns the source; call Run to keep it fresh.
func NewChainEscrows(cfg ChainConfig) *ChainEscrows {
	cfg.defaults(2 * time.Second)
	c := &ChainEscrows{
		cfg:    cfg,
		miss:   rate.NewLimiter(rate.Limit(cfg.MissRate), int(2*cfg.MissRate)),
		cache:  map[solana.PublicKey]*escrowEntry{},
		flight: map[solana.PublicKey]*lookup{},
	}
	c.lastOK.Store(time.Now().UnixNano())
	return c
}

// Escrow implements EscrowSource.
func (c *ChainEscrows) Escrow(ctx context.Context, addr solana.PublicKey) (EscrowState, error) {
	now := time.Now()
	c.mu.Lock()
	if e, ok := c.cache[addr]; ok && (e.exists || now.Sub(e.fetchedAt) < c.cfg.NegativeTTL) {
		e.usedAt = now
		c.mu.Unlock()
		if !e.exists {
			return EscrowState{}, ErrNoEscrow
		}
		return e.state, nil
	}
	l, inFlight := c.flight[addr]
	if !inFlight {
		if !c.miss.Allow() {
			c.mu.Unlock()
			return EscrowState{}, ErrSourceBusy
		}
		l = &lookup{done: make(chan struct{})}
		c.flight[addr] = l
	}
	c.mu.Unlock()
	if !inFlight {
		go c.resolve(addr, l)
	}
	select {
	case <-l.done:
	case <-ctx.Done():
		return EscrowState{}, ctx.Err()
	}
	if l.err != nil {
		return EscrowState{}, l.err
	}
	if !l.entry.exists {
		return EscrowState{}, ErrNoEscrow
	}
	return l.entry.state, nil
}

func (c *ChainEscrows) resolve(addr solana.PublicKey, l *lookup) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	states, err := c.fetch(ctx, []solana.PublicKey{addr})
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flight, addr)
	if err != nil {
		l.err = err
		close(l.done)
		return
	}
	e := states[0]
	e.usedAt = time.Now()
	if len(c.cache) >= c.cfg.MaxEscrows {
		c.evictLocked(time.Now(), true)
	}
	c.cache[addr] = e
	l.entry = e
	close(l.done)
}

// fetch reads escrow accounts (at most maxAccountsPerCall).
func (c *ChainEscrows) fetch(ctx context.Context, addrs []solana.PublicKey) ([]*escrowEntry, error) {
	res, err := c.cfg.RPC.GetMultipleAccountsWithOpts(ctx, addrs, &rpc.GetMultipleAccountsOpts{Encoding: solana.EncodingBase64, Commitment: c.cfg.Commitment})
	if err != nil {
		return nil, fmt.Errorf("%w: getMultipleAccounts: %v", ErrUnavailable, err)
	}
	if len(res.Value) != len(addrs) {
		return nil, fmt.Errorf("%w: getMultipleAccounts returned %d accounts for %d", ErrUnavailable, len(res.Value), len(addrs))
	}
	c.lastOK.Store(time.Now().UnixNano())
	now := time.Now()
	out := make([]*escrowEntry, len(addrs))
	for i, acc := range res.Value {
		e := &escrowEntry{fetchedAt: now}
		out[i] = e
		if acc == nil || acc.Data == nil {
			continue
		}
		if acc.Owner != inference_meter.ProgramID {
			c.cfg.Logger.Warn("escrow address owned by another program", "escrow", addrs[i], "owner", acc.Owner)
			continue
		}
		esc, err := inference_meter.ParseAccount_Escrow(acc.Data.GetBinary())
		if err != nil {
			c.cfg.Logger.Warn("undecodable escrow account", "escrow", addrs[i], "err", err)
			continue
		}
		e.exists = true
		e.state = EscrowState{
			Address: addrs[i], Owner: esc.Owner, KeyHash: esc.KeyHash, Balance: esc.Balance, Spent: esc.Spent,
			SpendLimit: esc.SpendLimit, AllowedModels: esc.AllowedModels, RotatedTo: esc.RotatedTo,
		}
		if l := settlement.LaneOf(esc, c.cfg.Node); l != nil && !c.cfg.Node.IsZero() {
			e.state.Lane = &Lane{Balance: l.Balance, RevokeRequestedAt: l.RevokeRequestedAt}
		}
	}
	return out, nil
}

// evictLocked drops idle entries (and, if force, the least recently used
// tenth when nothing is idle).
func (c *ChainEscrows) evictLocked(now time.Time, force bool) {
	for a, e := range c.cache {
		if now.Sub(e.usedAt) > c.cfg.IdleEvict || (!e.exists && now.Sub(e.fetchedAt) > c.cfg.NegativeTTL) {
			delete(c.cache, a)
		}
	}
	if !force || len(c.cache) < c.cfg.MaxEscrows {
		return
	}
	oldest := now
	for _, e := range c.cache {
		if e.usedAt.Before(oldest) {
			oldest = e.usedAt
		}
	}
	cut := oldest.Add(now.Sub(oldest) / 10)
	for a, e := range c.cache {
		if !e.usedAt.After(cut) {
			delete(c.cache, a)
		}
	}
}

// Refresh re-reads every cached escrow once.
func (c *ChainEscrows) Refresh(ctx context.Context) error {
	c.mu.Lock()
	c.evictLocked(time.Now(), false)
	addrs := make([]solana.PublicKey, 0, len(c.cache))
	for a, e := range c.cache {
		if e.exists {
			addrs = append(addrs, a)
		}
	}
	c.mu.Unlock()
	return c.RefreshEscrows(ctx, addrs)
}

// RefreshEscrows re-reads the given cached escrows now. The settler calls
// it when a batch lands and before it marks the batch settled in the
// journal: the escrows' new balances must be visible before this keeper's
// unsettled spend drops, or admission would briefly count the settled runs
// twice in the user's favour.
func (c *ChainEscrows) RefreshEscrows(ctx context.Context, addrs []solana.PublicKey) error {
	var errs []error
	for i := 0; i < len(addrs); i += maxAccountsPerCall {
		chunk := addrs[i:min(i+maxAccountsPerCall, len(addrs))]
		states, err := c.fetch(ctx, chunk)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.mu.Lock()
		for j, a := range chunk {
			if old, ok := c.cache[a]; ok {
				states[j].usedAt = old.usedAt
				c.cache[a] = states[j]
			}
		}
		c.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Run refreshes until ctx ends.
func (c *ChainEscrows) Run(ctx context.Context) error {
	return poll.Every(ctx, c.cfg.Refresh, c.Refresh, func(err error) { c.cfg.Logger.Warn("escrow refresh failed", "err", err) })
}

// Healthy reports whether the RPC answered within ChainConfig.Stale.
func (c *ChainEscrows) Healthy() bool {
	return time.Since(time.Unix(0, c.lastOK.Load())) < c.cfg.Stale
}

// ChainPrices is a PriceBook over mt_treasury Model accounts. It reads
// every watched model in one getMultipleAccounts call per 99 models, with
// the Clock sysvar in the same call (so it knows the chain's time of each
// copy, and tells ChainConfig.Clock): every ChainConfig.Refresh (Run), and
// on demand when a request names a watched model it cannot quote — one it
// has no active copy of (a raise just finalised) or whose copy is too old
// for the serve time. On-demand reads are shared (one at a time, the
// requests that need it wait for it within their context) and spaced by
// ChainConfig.MinRefreshGap (a request for an unknown or inactive model is
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
type ChainPrices struct {
	cfg    ChainConfig
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

// ErrModelInactive: the model exists but is not Active (settlement would
// refuse its runs).
var ErrModelInactive = errors.New("model is not active on chain")

// ErrPriceStale: the keeper's copy of the model is older than the model's
// hold-up at the serve time and could not be read again; a price change it
// has not seen might be in effect.
var ErrPriceStale = errors.New("the keeper's copy of the model's price is too old to quote at the serve time and could not be read again")

// NewChainPrices watches the given model ids. Call Refresh once before
// serving, then Run.
func NewChainPrices(cfg ChainConfig, ids []uint64) *ChainPrices {
	cfg.defaults(2 * time.Second)
	p := &ChainPrices{cfg: cfg, ids: ids, models: map[uint64]priceCopy{}, slots: map[uint64]uint64{}}
	for _, id := range ids {
		p.addrs = append(p.addrs, pda.Model(id))
	}
	return p
}

// Refresh re-reads every watched model (and the chain's clock with them).
func (p *ChainPrices) Refresh(ctx context.Context) error {
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

// Price implements PriceBook: the price in effect at the serve time at
// (the chain's clock), from QueryPricing's previous and current prices and
// effective_at. A model it cannot quote is read again first (on demand).
func (p *ChainPrices) Price(ctx context.Context, id uint64, at time.Time) (Price, error) {
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
func (p *ChainPrices) quotable(id uint64, at time.Time) (priceCopy, error) {
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
func (p *ChainPrices) refreshOnDemand(ctx context.Context, patient bool) bool {
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

func (p *ChainPrices) runDemand(f *refreshFlight) {
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
func (p *ChainPrices) DemandRefreshes() int64 { return p.demands.Load() }

// Run refreshes every ChainConfig.Refresh until ctx ends.
func (p *ChainPrices) Run(ctx context.Context) error {
	return poll.Every(ctx, p.cfg.Refresh, p.Refresh, func(err error) { p.cfg.Logger.Warn("price refresh failed", "err", err) })
}

// Healthy reports whether a refresh succeeded within ChainConfig.Stale.
func (p *ChainPrices) Healthy() bool {
	return time.Since(time.Unix(0, p.lastOK.Load())) < p.cfg.Stale
}
