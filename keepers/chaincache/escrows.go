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
	"golang.org/x/time/rate"

	"github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/poll"
)

// Escrows is an EscrowSource over inference_meter Escrow accounts:
// a first lookup reads the account; Run then refreshes every cached escrow
// with getMultipleAccounts every Refresh.
type Escrows struct {
	cfg    Config
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

// NewEscrows returns the source; call Run to keep it fresh.
func NewEscrows(cfg Config) *Escrows {
	cfg.defaults(2 * time.Second)
	c := &Escrows{
		cfg:    cfg,
		miss:   rate.NewLimiter(rate.Limit(cfg.MissRate), int(2*cfg.MissRate)),
		cache:  map[solana.PublicKey]*escrowEntry{},
		flight: map[solana.PublicKey]*lookup{},
	}
	c.lastOK.Store(time.Now().UnixNano())
	return c
}

// Escrow implements gateway.EscrowSource.
func (c *Escrows) Escrow(ctx context.Context, addr solana.PublicKey) (EscrowState, error) {
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

func (c *Escrows) resolve(addr solana.PublicKey, l *lookup) {
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
func (c *Escrows) fetch(ctx context.Context, addrs []solana.PublicKey) ([]*escrowEntry, error) {
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
		l := settlement.LaneOf(esc, c.cfg.Node)
		if l != nil && !c.cfg.Node.IsZero() && rules.CheckDomainLane(l.DomainSerial, c.cfg.DomainSerial) == nil {
			e.state.Lane = &Lane{Balance: l.Balance, RevokeRequestedAt: l.RevokeRequestedAt}
		}
	}
	return out, nil
}

// evictLocked drops idle entries (and, if force, the least recently used
// tenth when nothing is idle).
func (c *Escrows) evictLocked(now time.Time, force bool) {
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
func (c *Escrows) Refresh(ctx context.Context) error {
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
func (c *Escrows) RefreshEscrows(ctx context.Context, addrs []solana.PublicKey) error {
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
func (c *Escrows) Run(ctx context.Context) error {
	return poll.Every(ctx, c.cfg.Refresh, c.Refresh, func(err error) { c.cfg.Logger.Warn("escrow refresh failed", "err", err) })
}

// Healthy reports whether the RPC answered within Config.Stale.
func (c *Escrows) Healthy() bool {
	return time.Since(time.Unix(0, c.lastOK.Load())) < c.cfg.Stale
}
