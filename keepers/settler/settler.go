package settler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/prometheus/client_golang/prometheus"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/keepers/journal"
)

// Sentinel errors callers branch on.
var (
	// ErrNoNode: the configured node account does not exist.
	ErrNoNode = errors.New("node account not found (is the node registered? check the node address)")
	// ErrNotNodeKeeper: the node's keeper key is not this keeper's key.
	ErrNotNodeKeeper = errors.New("this key is not the node's keeper key")
	// ErrDiverged: the journal and the chain disagree in a way only an
	// operator can resolve (the journal records a batch the chain never
	// settled, e.g. a journal restored from another node or a reset chain).
	ErrDiverged = errors.New("journal and chain disagree on the node's batches")
	// ErrStopped wraps the error a Config.Checkpoint returned.
	ErrStopped = errors.New("settler stopped at a checkpoint")
)

// Checkpoints, in the order a batch passes them (see Config.Checkpoint).
const (
	PointAssigned = "assigned" // receipts assigned to the batch, nothing stored in the state file
	PointPlanned  = "planned"  // the settle instruction stored, nothing signed
	PointSigned   = "signed"   // a transaction stored and marked sent, not yet on the wire
	PointSent     = "sent"     // on the wire, outcome unknown
	PointLanded   = "landed"   // landed on chain, not yet marked settled in the journal
)

// Config configures a Settler. Zero values pick the defaults noted.
type Config struct {
	RPC *rpc.Client
	// Commitment for reads and confirmations (default confirmed).
	Commitment rpc.CommitmentType
	Journal    *journal.Journal
	// Keeper is the node's keeper hot key: it signs and pays.
	Keeper solana.PrivateKey
	// Node is the node account (inference_meter Node PDA).
	Node solana.PublicKey
	// OperatorAccount receives the operator share (default: the operator's
	// associated native-token account).
	OperatorAccount solana.PublicKey
	// StatePath is the settler's state file (plans, lookup tables).
	StatePath string
	// Domain, if set, makes every batch settle against the escrows' lanes
	// to this domain (the node must be its member) and pay the domain fee
	// to its operator's account; nil settles against the node's own lanes.
	// A domain member's keeper serves only its domain's lanes.
	Domain *settlement.DomainLane
	// Interval between rounds when there is nothing more to settle (default 10s).
	Interval time.Duration
	// MaxEntries per batch (default and at most 255: entries index escrows with a byte).
	MaxEntries int
	// MaxModels per batch (default 4; the program allows 16, but its heap
	// use per model is not yet measured on SBF). A single entry with more
	// models still goes alone.
	MaxModels int
	// MaxRuns is the most receipts one batch settles (default 20 000).
	MaxRuns int
	// ScanRuns is how many unbatched receipts a round considers (default 50 000).
	ScanRuns int
	// LookupTable resolves the batch's accounts through lookup tables the
	// keeper creates and extends (v0 transactions): 44–87 entries per
	// transaction instead of 9–14.
	LookupTable bool
	// MaxLookupTables is how many lookup tables (256 addresses each, about
	// 0.058 SOL of rent when full) the keeper keeps live (default 4). When
	// one more is needed the oldest is retired: deactivated, then closed
	// and its rent returned to the keeper once the chain lets it (513
	// slots later); escrows it held are added again when they come back.
	MaxLookupTables int
	// PriorityMicroLamports is the compute-unit price (default none).
	PriorityMicroLamports uint64
	// AwaitTimeout bounds one wait for a sent transaction before the next
	// round looks again (default 30s); PollInterval between status checks
	// (default 250ms); RebroadcastInterval between re-sends of the same
	// bytes (default 2s).
	AwaitTimeout, PollInterval, RebroadcastInterval time.Duration
	// ClosedEscrowGrace: receipts of an escrow that does not exist are
	// written off only once their newest run is this old by the chain's
	// clock (default 1 min), in case the RPC node has not seen the escrow
	// yet.
	ClosedEscrowGrace time.Duration
	// RoundTimeout bounds one round, whatever an RPC call does (default 5 min).
	RoundTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed round
	// (defaults 500ms and 30s), doubled per consecutive failure, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// Registry receives the metrics (nil: not registered).
	Registry prometheus.Registerer
	// Lag, if set, is the gauge (from RegisterLag) the settlement lag is
	// written to; else the settler registers its own with Registry.
	Lag prometheus.Gauge
	// BeforeSettled runs after a batch landed and before the journal marks
	// it settled, with the escrows it charged: the chain cache re-reads
	// their balances (keepers/chaincache, Escrows.RefreshEscrows) so the
	// gateway's admission never counts the settled runs twice. An error
	// leaves the batch to the next round.
	BeforeSettled func(ctx context.Context, escrows []solana.PublicKey) error
	// Checkpoint, for fault-injection tests, is called at each Point*; a
	// non-nil error stops the settler right there, as a crash would (Run
	// returns it wrapped in ErrStopped). Nil in production.
	Checkpoint func(point string, seq uint64) error
	Logger     *slog.Logger
	// Clock, if set, is told the chain's time each round reads the Clock
	// sysvar (keepers/chainclock.Clock, shared with the gateway and the
	// cranks). The settler itself judges serve times — against the node's
	// registration, the chain's clock and each model's price switch — and
	// the closed-escrow grace by the sysvar read in the same round.
	Clock ClockObserver
	// Now is the wall clock, for status times and the settlement lag
	// (default time.Now).
	Now func() time.Time
}

// ClockObserver takes readings of the chain's Clock sysvar
// (keepers/chainclock.Clock).
type ClockObserver interface {
	Observe(unix int64)
}

func (c *Config) defaults() error {
	if c.RPC == nil || c.Journal == nil {
		return errors.New("settler: RPC and Journal are required")
	}
	if len(c.Keeper) != 64 {
		return errors.New("settler: Keeper key is required")
	}
	if c.Node.IsZero() {
		return errors.New("settler: Node (the node account address) is required")
	}
	if c.StatePath == "" {
		return errors.New("settler: StatePath is required")
	}
	if c.Commitment == "" {
		c.Commitment = rpc.CommitmentConfirmed
	}
	if c.Interval <= 0 {
		c.Interval = 10 * time.Second
	}
	if c.MaxEntries <= 0 || c.MaxEntries > 255 {
		c.MaxEntries = 255
	}
	if c.MaxModels <= 0 {
		c.MaxModels = 4
	}
	c.MaxModels = min(c.MaxModels, settlement.MaxModelsPerBatch)
	if c.MaxRuns <= 0 {
		c.MaxRuns = 20_000
	}
	if c.MaxLookupTables <= 0 {
		c.MaxLookupTables = 4
	}
	if c.ScanRuns <= 0 {
		c.ScanRuns = 50_000
	}
	if c.AwaitTimeout <= 0 {
		c.AwaitTimeout = 30 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.RebroadcastInterval <= 0 {
		c.RebroadcastInterval = 2 * time.Second
	}
	if c.ClosedEscrowGrace <= 0 {
		c.ClosedEscrowGrace = time.Minute
	}
	if c.RoundTimeout <= 0 {
		c.RoundTimeout = 5 * time.Minute
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Settler settles a node's journaled receipts. Run it once per node key.
type Settler struct {
	cfg      Config
	log      *slog.Logger
	rpc      *rpc.Client
	journal  *journal.Journal
	keeper   solana.PublicKey
	nodeAddr solana.PublicKey
	store    *store
	tables   *lookupTables
	sender   *txsend.Sender
	metrics  *metrics

	mu      sync.Mutex
	status  Status
	resumed bool // the first successful look at the journal was logged
}

// Status is the settler's view for `keeper status`.
type Status struct {
	Node string `json:"node"`
	// ChainLastBatch is the node's last_batch_seq as last read;
	// LocalLastSettled the highest batch the journal marks settled.
	ChainLastBatch uint64 `json:"chain_last_batch_seq"`
	// ChainReadAt is when the node was last read from the chain.
	ChainReadAt      *time.Time `json:"chain_read_at,omitempty"`
	LocalLastSettled uint64     `json:"local_last_settled_seq"`
	// ChainLastRunSeq is the node's last_run_seq as last read (the highest
	// run number settled); JournalRunSeq the highest the journal assigned.
	ChainLastRunSeq uint64   `json:"chain_last_run_seq"`
	JournalRunSeq   uint64   `json:"journal_run_seq"`
	Pending         *Pending `json:"pending,omitempty"`
	// LagSeconds is the age of the oldest recorded run not yet settled.
	LagSeconds   float64  `json:"lag_seconds"`
	LookupTables []string `json:"lookup_tables,omitempty"`
	// RetiredLookupTables are deactivated, waiting to be closed.
	RetiredLookupTables []string   `json:"retired_lookup_tables,omitempty"`
	Rounds              uint64     `json:"rounds"`
	LastError           string     `json:"last_error,omitempty"`
	LastErrorAt         *time.Time `json:"last_error_at,omitempty"`
}

// Pending is the batch in flight.
type Pending struct {
	Seq   uint64 `json:"seq"`
	State string `json:"state"`
	Runs  uint64 `json:"runs"`
	Sends int    `json:"transactions"`
}

// New opens the settler's state file and prepares a settler; Run settles.
func New(cfg Config) (*Settler, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	keeper := cfg.Keeper.PublicKey()
	st, err := openStore(cfg.StatePath, keeper)
	if err != nil {
		return nil, err
	}
	s := &Settler{
		cfg: cfg, log: cfg.Logger, rpc: cfg.RPC, journal: cfg.Journal, keeper: keeper, nodeAddr: cfg.Node, store: st,
		sender: txsend.New(txsend.Config{
			RPC: cfg.RPC, Commitment: cfg.Commitment, PriorityMicroLamports: cfg.PriorityMicroLamports,
			Errors: txsend.Tables{im.ProgramID: im.Errors, mt.ProgramID: mt.Errors}, Logger: cfg.Logger,
		}),
		metrics: newMetrics(cfg.Registry, cfg.Lag),
	}
	s.tables = newLookupTables(s)
	s.status.Node = cfg.Node.String()
	return s, nil
}

// Close releases the settler (its state is on disk after every change).
func (s *Settler) Close() error { return nil }

// Status returns the settler's current view.
func (s *Settler) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	if st.Pending != nil {
		p := *st.Pending
		st.Pending = &p
	}
	return st
}

// Run settles until ctx ends. Failed rounds are retried with backoff.
func (s *Settler) Run(ctx context.Context) error {
	backoff := s.cfg.MinBackoff
	for {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RoundTimeout)
		idle, err := s.Round(rctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrStopped) {
			return err
		}
		wait := time.Duration(0)
		if err != nil {
			s.noteError(err)
			wait = backoff + rand.N(backoff/2+1)
			backoff = min(backoff*2, s.cfg.MaxBackoff)
		} else {
			backoff = s.cfg.MinBackoff
			if idle {
				wait = s.cfg.Interval
			}
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
	}
}

func (s *Settler) noteError(err error) {
	kind := "rpc"
	var f *failure
	var rb *rebuildError
	switch {
	case errors.As(err, &f):
		kind = f.verdict.String()
	case errors.Is(err, ErrDiverged), errors.Is(err, ErrNotNodeKeeper), errors.Is(err, ErrNoNode):
		kind = "internal"
	case errors.As(err, &rb):
		kind = "permanent"
	}
	s.metrics.failures.WithLabelValues(kind).Inc()
	level := slog.LevelWarn
	if kind == "internal" {
		level = slog.LevelError
	}
	s.log.Log(context.Background(), level, "settlement round failed; retrying", "err", err)
	now := s.cfg.Now()
	s.mu.Lock()
	s.status.LastError, s.status.LastErrorAt = err.Error(), &now
	s.mu.Unlock()
}

func (s *Settler) checkpoint(point string, seq uint64) error {
	if s.cfg.Checkpoint == nil {
		return nil
	}
	if err := s.cfg.Checkpoint(point, seq); err != nil {
		return fmt.Errorf("%w: %s of batch %d: %v", ErrStopped, point, seq, err)
	}
	return nil
}

// rebuildError: the batch as assigned cannot land; it is failed (it was
// never sent, or every transaction of it is dead) and rebuilt.
type rebuildError struct {
	reason string
}

func (e *rebuildError) Error() string { return e.reason }
