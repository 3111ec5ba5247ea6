package chaincache

import (
	"context"
	"log/slog"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// AccountFetcher is the one RPC method the chain sources use
// (*rpc.Client implements it).
type AccountFetcher interface {
	GetMultipleAccountsWithOpts(ctx context.Context, accounts []solana.PublicKey, opts *rpc.GetMultipleAccountsOpts) (*rpc.GetMultipleAccountsResult, error)
}

// maxAccountsPerCall is getMultipleAccounts' limit.
const maxAccountsPerCall = 100

// Config configures the chain-backed sources.
type Config struct {
	RPC        AccountFetcher
	Commitment rpc.CommitmentType
	// Node is this keeper's node account (inference_meter Node PDA):
	// Escrows reads each escrow's lane for it. Zero: no lane, nothing
	// is admitted.
	Node solana.PublicKey
	// DomainSerial is the domain's serial when Node is a domain (a front
	// door): a lane that recorded another serial was opened to an earlier
	// domain at that address and counts as no lane (DomainLaneStale).
	DomainSerial uint64
	// Refresh is the polling interval (default 2s). For prices keep it well
	// below the protocol's min_period_secs (see Prices).
	Refresh time.Duration
	// MinRefreshGap spaces Prices' on-demand reads (default 500ms);
	// DemandTimeout bounds one (default 5s).
	MinRefreshGap time.Duration
	DemandTimeout time.Duration
	// Clock, if set, is told the chain's time whenever Prices reads
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

func (c *Config) defaults(refresh time.Duration) {
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
