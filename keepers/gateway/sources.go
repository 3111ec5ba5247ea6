package gateway

import (
	"context"
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/chaincache"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// The escrow and price states, and the errors of reading them, are the
// chain caches' (keepers/chaincache): the settler refreshes them, the
// gateway reads them.
type (
	EscrowState = chaincache.EscrowState
	Lane        = chaincache.Lane
	Price       = chaincache.Price
)

// Errors of the escrow and price sources the gateway branches on.
var (
	ErrNoEscrow      = chaincache.ErrNoEscrow
	ErrSourceBusy    = chaincache.ErrSourceBusy
	ErrNoModel       = chaincache.ErrNoModel
	ErrModelInactive = chaincache.ErrModelInactive
	ErrPriceStale    = chaincache.ErrPriceStale
	ErrUnavailable   = chaincache.ErrUnavailable
)

// EscrowSource returns escrow states. Implementations cache; Escrow may
// block on a first lookup.
type EscrowSource interface {
	Escrow(ctx context.Context, addr solana.PublicKey) (EscrowState, error)
}

// PriceBook returns the price of a model in effect at a serve time (the
// chain's clock), as settlement will charge it (mt_treasury QueryPricing:
// the previous price before EffectiveAt, the current one from it on). An
// error means the model must not be served now: ErrNoModel or
// ErrModelInactive (the gateway answers 404), ErrPriceStale or
// ErrUnavailable (503). Price may block briefly to read the chain.
type PriceBook interface {
	Price(ctx context.Context, modelID uint64, at time.Time) (Price, error)
}

// Clock tells the chain's time as the keeper estimates it
// (keepers/chainclock.Clock): receipts are dated and prices picked by it.
type Clock interface {
	Now() time.Time
}

// WallClock is the host's clock, for a keeper without a chain.
type WallClock struct{}

// Now implements Clock.
func (WallClock) Now() time.Time { return time.Now() }

// Journal is what the gateway needs of the receipt journal.
type Journal interface {
	Record(ctx context.Context, s receipts.Signed) error
	UnsettledSpend(escrow [32]byte) uint64
	Receipts(escrow [32]byte, after receipts.RunID, limit int) ([]journal.Entry, error)
}

// Cost is what settlement charges for a run's tokens over its model
// shares: per share, ceil(weight_bps × (input × input_per_1k + output ×
// output_per_1k) / (10 000 × 1 000)), summed — clients/settlement's
// ShareCost, the program's own function mirrored. Settlement applies it per
// entry (tokens aggregated over the entry's runs); the keeper quotes it per
// run, which is never less than the run's part of the entry's charge.
func Cost(shares []receipts.ModelShare, input, output uint64) (uint64, error) {
	var total uint64
	for _, s := range shares {
		c, err := settlement.ShareCost(input, output, s.InputPer1k, s.OutputPer1k, s.WeightBps)
		if err != nil {
			return 0, err
		}
		var carry uint64
		total, carry = bits.Add64(total, c, 0)
		if carry != 0 {
			return 0, fmt.Errorf("cost of model shares overflows u64")
		}
	}
	return total, nil
}

// MemoryEscrows is an EscrowSource held in memory: for tests, benchmarks
// and a keeper run without a chain.
type MemoryEscrows struct {
	mu sync.RWMutex
	m  map[solana.PublicKey]EscrowState
}

// NewMemoryEscrows returns an empty source.
func NewMemoryEscrows() *MemoryEscrows {
	return &MemoryEscrows{m: map[solana.PublicKey]EscrowState{}}
}

// Put sets an escrow's state.
func (m *MemoryEscrows) Put(s EscrowState) {
	m.mu.Lock()
	m.m[s.Address] = s
	m.mu.Unlock()
}

// Delete removes an escrow (as if closed).
func (m *MemoryEscrows) Delete(addr solana.PublicKey) {
	m.mu.Lock()
	delete(m.m, addr)
	m.mu.Unlock()
}

// Escrow implements EscrowSource.
func (m *MemoryEscrows) Escrow(_ context.Context, addr solana.PublicKey) (EscrowState, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.m[addr]
	if !ok {
		return EscrowState{}, ErrNoEscrow
	}
	return s, nil
}

// StaticPrices is a PriceBook with fixed prices: for tests, benchmarks and
// a keeper run without a chain.
type StaticPrices map[uint64]Price

// Price implements PriceBook.
func (s StaticPrices) Price(_ context.Context, id uint64, _ time.Time) (Price, error) {
	p, ok := s[id]
	if !ok {
		return Price{}, fmt.Errorf("model %d: %w", id, ErrNoModel)
	}
	return p, nil
}
