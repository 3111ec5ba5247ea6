package settler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/prometheus/client_golang/prometheus"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
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
	// Domain, if set, makes every batch settle against the escrows' lanes
	// to this domain (the node must be its member) and pay the domain fee
	// to its operator's account; nil settles against the node's own lanes.
	// A domain member's keeper serves only its domain's lanes.
	Domain *settlement.DomainLane
	// OperatorAccount receives the operator share (default: the operator's
	// associated native-token account).
	OperatorAccount solana.PublicKey
	// StatePath is the settler's state file (plans, lookup tables).
	StatePath string
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
	// Lag, if set, is the gauge (from NewLagGauge, registered by the
	// caller) the settlement lag is written to; else the settler registers its own.
	Lag prometheus.Gauge
	// BeforeSettled runs after a batch landed and before the journal marks
	// it settled, with the escrows it charged: the gateway refreshes their
	// balances so admission never counts the settled runs twice. An error
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

// Round runs one settlement round: conclude batches the chain settled,
// drive the batch in flight, or build and send the next one. idle is true
// when there was nothing more to do right now.
func (s *Settler) Round(ctx context.Context) (idle bool, err error) {
	s.mu.Lock()
	s.status.Rounds++
	s.mu.Unlock()
	defer func() {
		// The lag is the journal's to tell, whatever the chain did.
		if lerr := s.refreshLag(); err == nil {
			err = lerr
		}
	}()
	v, err := s.readView(ctx)
	if err != nil {
		return false, err
	}
	if !v.Node.Keeper.Equals(s.keeper) {
		return false, fmt.Errorf("%w: node %s's keeper key is %s, this keeper signs with %s (set_keeper_key, or fix keypair)", ErrNotNodeKeeper, s.nodeAddr, v.Node.Keeper, s.keeper)
	}
	last := v.Node.LastBatchSeq
	s.metrics.lastSeq.WithLabelValues("chain").Set(float64(last))
	readAt := s.cfg.Now()
	s.mu.Lock()
	s.status.ChainLastBatch, s.status.ChainReadAt = last, &readAt
	s.mu.Unlock()
	s.noteRunSeqs(v.Node.LastRunSeq)
	if s.cfg.LookupTable && !s.tables.loaded {
		if err := s.tables.load(ctx); err != nil {
			return false, err
		}
		s.noteTables()
	}
	if s.cfg.LookupTable {
		if err := s.tables.sweep(ctx, v.Slot); err != nil {
			return false, err
		}
		s.noteTables()
	}

	pending, err := s.journal.PendingBatches()
	if err != nil {
		return false, err
	}
	if !s.resumed {
		s.resumed = true
		for _, b := range pending {
			s.log.Info("resuming a batch left in flight", "batch", b.Seq, "state", b.State, "transactions", len(b.TxSignatures), "chain_last_batch", last)
		}
	}
	s.noteLag(pending, nil)
	for _, b := range pending {
		switch {
		case b.Seq <= last:
			if err := s.concludeLanded(ctx, b); err != nil {
				return false, err
			}
		case b.Seq == last+1:
			s.notePending(&b)
			return false, s.drive(ctx, v, b)
		default:
			return false, fmt.Errorf("%w: journal batch %d is %s but the chain's last settled batch is %d", ErrDiverged, b.Seq, b.State, last)
		}
	}
	s.notePending(nil)
	if err := s.cleanPlans(); err != nil {
		return false, err
	}
	if err := s.noteLocalSettled(); err != nil {
		return false, err
	}
	return s.newBatch(ctx, v, last+1)
}

// concludeLanded settles the journal batch b, whose sequence number the
// chain has settled: with one of its own transactions, or — when none of
// them is found — by the BatchSettled event at that sequence, which must
// carry b's Merkle root. A sequence settled with other contents (another
// process with this keeper key) returns b's receipts to be rebatched.
func (s *Settler) concludeLanded(ctx context.Context, b journal.Batch) error {
	plan := s.store.plan(b.Seq)
	if plan != nil && plan.Root != b.Root {
		plan = nil
	}
	sigs := sentSignatures(b, plan)
	var sig solana.Signature
	var slot uint64
	found := false
	if len(sigs) > 0 {
		sts, err := s.statuses(ctx, sigs)
		if err != nil {
			return err
		}
		for _, st := range sts {
			if st.Landed && st.Err == nil {
				sig, slot, found = st.Sig, st.Slot, true
			}
		}
	}
	if !found {
		ev, ok, err := s.findBatchEvent(ctx, b.Seq)
		if err != nil {
			return err
		}
		switch {
		case ok && ev.Event.ReceiptsRoot == b.Root:
			sig, slot = ev.Sig, ev.Slot
		case ok || len(sigs) == 0:
			// Settled on chain, but not with these receipts: not ours.
			s.log.Error("the chain settled this sequence number with other receipts (another process with this keeper key?); rebatching",
				"batch", b.Seq, "runs", b.Runs)
			if err := s.journal.MarkFailed(b.Seq, "sequence number settled on chain by another batch"); err != nil {
				return err
			}
			s.metrics.batches.WithLabelValues("failed").Inc()
			return s.store.deletePlans(func(p *Plan) bool { return p.Seq == b.Seq })
		default:
			s.log.Warn("batch settled on chain; none of its transactions is in the node's history any more, assuming its own", "batch", b.Seq)
		}
	}
	escrows, err := s.batchEscrows(b, plan)
	if err != nil {
		return err
	}
	if s.cfg.BeforeSettled != nil {
		if err := s.cfg.BeforeSettled(ctx, escrows); err != nil {
			return fmt.Errorf("batch %d landed; refreshing its escrows before marking it settled: %w", b.Seq, err)
		}
	}
	if err := s.checkpoint(PointLanded, b.Seq); err != nil {
		return err
	}
	if err := s.journal.MarkSettled(b.Seq, sig.String(), slot); err != nil {
		return fmt.Errorf("mark batch %d settled: %w", b.Seq, err)
	}
	s.metrics.batches.WithLabelValues("settled").Inc()
	s.metrics.runs.Add(float64(b.Runs))
	s.metrics.lastSeq.WithLabelValues("journal").Set(float64(b.Seq))
	s.mu.Lock()
	s.status.LocalLastSettled = max(s.status.LocalLastSettled, b.Seq)
	s.status.ChainLastBatch = max(s.status.ChainLastBatch, b.Seq)
	if s.status.Pending != nil && s.status.Pending.Seq == b.Seq {
		s.status.Pending = nil
	}
	s.mu.Unlock()
	attrs := []any{"batch", b.Seq, "runs", b.Runs, "signature", sig}
	if !sig.IsZero() {
		if evs, err := s.batchEventsIn(ctx, sig); err == nil {
			for _, ev := range evs {
				if ev.BatchSeq == b.Seq {
					s.metrics.entries.Add(float64(ev.Entries))
					s.metrics.charged.Add(float64(ev.Charged))
					s.metrics.shortfall.Add(float64(ev.Shortfall))
					s.metrics.shortEntries.Add(float64(len(ev.Shortfalls)))
					attrs = append(attrs, "entries", ev.Entries, "charged", ev.Charged, "shortfall", ev.Shortfall)
					if ev.Shortfall > 0 {
						s.log.Warn("escrows could not pay part of a batch", "batch", b.Seq, "shortfall", ev.Shortfall, "entries_short", len(ev.Shortfalls))
					}
				}
			}
		}
	}
	s.log.Info("batch settled", attrs...)
	return s.store.deletePlans(func(p *Plan) bool { return p.Seq == b.Seq })
}

// sentSignatures is every signature sent for b, from the journal and the plan.
func sentSignatures(b journal.Batch, plan *Plan) []solana.Signature {
	var out []solana.Signature
	if plan != nil {
		out = plan.Signatures()
	}
	for _, s := range b.TxSignatures {
		if sig, err := solana.SignatureFromBase58(s); err == nil && !slices.Contains(out, sig) {
			out = append(out, sig)
		}
	}
	return out
}

// batchEscrows are the escrows to refresh once b settles: the receipts'
// escrows and those they were charged at.
func (s *Settler) batchEscrows(b journal.Batch, plan *Plan) ([]solana.PublicKey, error) {
	set := map[solana.PublicKey]bool{}
	if plan != nil {
		for _, e := range plan.Escrows {
			set[e] = true
		}
	} else {
		for _, id := range b.RunIDs {
			e, err := s.journal.Get(id)
			if err != nil {
				return nil, err
			}
			set[solana.PublicKeyFromBytes(e.Signed.Receipt.Escrow[:])] = true
		}
	}
	out := make([]solana.PublicKey, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out, nil
}

// drive takes the batch at the chain's next sequence number one step
// towards settled (or, once known not to have landed, failed).
func (s *Settler) drive(ctx context.Context, v *view, b journal.Batch) error {
	plan := s.store.plan(b.Seq)
	if plan != nil && plan.Root != b.Root {
		// Left from earlier contents of this sequence number, failed
		// before the state file was cleaned: every one of its
		// transactions was dead before the journal failed it.
		if err := s.store.deletePlans(func(p *Plan) bool { return p.Seq == b.Seq }); err != nil {
			return err
		}
		plan = nil
	}
	if plan == nil {
		if b.State == journal.BatchSent || len(b.TxSignatures) > 0 {
			return s.recoverWithoutPlan(ctx, b)
		}
		// Assigned, never signed: lay it out from its receipts.
		p, err := s.replan(ctx, v, b)
		var rb *rebuildError
		if errors.As(err, &rb) {
			return s.fail(b, rb.reason)
		}
		if err != nil {
			return err
		}
		plan = p
	}
	return s.advance(ctx, v, b, plan)
}

// recoverWithoutPlan handles a sent batch whose plan is missing from the
// state file (deleted or restored from an old copy): it cannot be re-sent
// as it was, so it is failed once every transaction the journal recorded
// for it has expired unseen.
func (s *Settler) recoverWithoutPlan(ctx context.Context, b journal.Batch) error {
	sigs := sentSignatures(b, nil)
	sts, err := s.statuses(ctx, sigs)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.Landed && st.Err == nil {
			return s.concludeLanded(ctx, b)
		}
	}
	height, err := s.rpc.GetBlockHeight(ctx, s.cfg.Commitment)
	if err != nil {
		return fmt.Errorf("block height: %w", err)
	}
	if height <= b.LastValidBlockHeight {
		return fmt.Errorf("batch %d was sent but its plan is missing from %s; waiting for its last transaction to expire (block height %d of %d)",
			b.Seq, s.cfg.StatePath, height, b.LastValidBlockHeight)
	}
	if sts, err = s.statuses(ctx, sigs); err != nil {
		return err
	}
	for _, st := range sts {
		if st.Landed && st.Err == nil {
			return s.concludeLanded(ctx, b)
		}
	}
	return s.fail(b, "plan missing from the state file; every transaction expired unseen")
}

// fail marks b failed (known not to have landed): its receipts return to
// be batched again under the same sequence number.
func (s *Settler) fail(b journal.Batch, reason string) error {
	s.log.Warn("batch cannot land as built; its runs are rebatched under the same sequence number", "batch", b.Seq, "reason", reason)
	if err := s.journal.MarkFailed(b.Seq, reason); err != nil {
		return fmt.Errorf("mark batch %d failed: %w", b.Seq, err)
	}
	s.metrics.batches.WithLabelValues("failed").Inc()
	return s.store.deletePlans(func(p *Plan) bool { return p.Seq == b.Seq })
}

// replan lays out an assigned batch from its receipts. If any of them can
// no longer be settled as they are, the batch is rebuilt.
func (s *Settler) replan(ctx context.Context, v *view, b journal.Batch) (*Plan, error) {
	entries := make([]journal.Entry, 0, len(b.RunIDs))
	for _, id := range b.RunIDs {
		e, err := s.journal.Get(id)
		if err != nil {
			return nil, fmt.Errorf("batch %d: %w", b.Seq, err)
		}
		entries = append(entries, e)
	}
	p, err := s.plan(ctx, v, runsFromEntries(entries))
	if err != nil {
		return nil, err
	}
	if n := countIDs(p.writeOffs); n > 0 || p.deferred > 0 {
		return nil, &rebuildError{fmt.Sprintf("%d runs can no longer be settled and %d not yet", n, p.deferred)}
	}
	return s.makePlan(ctx, v, b, entriesOf(p.ok), p.chain)
}

func countIDs(m map[string][]receipts.RunID) int {
	n := 0
	for _, ids := range m {
		n += len(ids)
	}
	return n
}

// makePlan lays out batch b from its entry candidates, makes sure the
// lookup tables resolve its accounts, measures its compute units by
// simulation and stores the plan.
func (s *Settler) makePlan(ctx context.Context, v *view, b journal.Batch, cands []candidate, cs *chainState) (*Plan, error) {
	entries := make([]settlement.Entry, len(cands))
	for i, c := range cands {
		entries[i] = c.Entry
	}
	l, err := s.build(b.Seq, b.Root, settlement.Runs{First: b.FirstRunSeq, Last: b.LastRunSeq}, entries)
	if err != nil {
		return nil, &rebuildError{fmt.Sprintf("lay out: %v", err)}
	}
	predicted, err := settlement.Settle(cs.state, l)
	if err != nil {
		return nil, &rebuildError{fmt.Sprintf("the batch would fail: %v", err)}
	}
	ix, err := settlement.Instruction(s.settleNode(v), l)
	if err != nil {
		return nil, err
	}
	p := &Plan{
		Seq: b.Seq, Root: b.Root, Program: ix.ProgramID(), ComputeUnits: maxUnits,
		Entries: len(entries), Runs: b.Runs, Predicted: predicted.Charged, Shortfall: predicted.Shortfall, CreatedAt: s.cfg.Now().UTC(),
	}
	if p.Data, err = ix.Data(); err != nil {
		return nil, err
	}
	for _, a := range ix.Accounts() {
		p.Accounts = append(p.Accounts, Meta{Key: a.PublicKey, Signer: a.IsSigner, Writable: a.IsWritable})
	}
	set := map[solana.PublicKey]bool{}
	for _, c := range cands {
		set[c.Entry.Escrow] = true
	}
	for src, info := range cs.escrows {
		if set[info.Target] {
			set[src] = true
		}
	}
	for k := range set {
		p.Escrows = append(p.Escrows, k)
	}
	sort.Slice(p.Escrows, func(i, j int) bool { return bytes.Compare(p.Escrows[i][:], p.Escrows[j][:]) < 0 })

	var tables map[solana.PublicKey]solana.PublicKeySlice
	if s.cfg.LookupTable {
		if tables, err = s.tables.ensure(ctx, tableAddresses(ix, s.keeper)); err != nil {
			return nil, err
		}
		s.noteTables()
		for k := range tables {
			p.Tables = append(p.Tables, k)
		}
		sort.Slice(p.Tables, func(i, j int) bool { return bytes.Compare(p.Tables[i][:], p.Tables[j][:]) < 0 })
	}
	sh, err := s.shapeOf(ix, tables, maxUnits)
	if err != nil {
		return nil, err
	}
	if sh.Bytes > MaxTxBytes || sh.Accounts > MaxTxAccounts {
		return nil, &rebuildError{fmt.Sprintf("%v: %d bytes, %d accounts", errNotFit, sh.Bytes, sh.Accounts)}
	}
	bh, err := s.rpc.GetLatestBlockhash(ctx, s.cfg.Commitment)
	if err != nil {
		return nil, fmt.Errorf("latest blockhash: %w", err)
	}
	tx, _, err := s.buildTx(p, bh.Value.Blockhash)
	if err != nil {
		return nil, err
	}
	units, err := s.simulate(ctx, tx)
	var f *failure
	if errors.As(err, &f) && f.verdict == vPermanent {
		return nil, &rebuildError{fmt.Sprintf("simulation: %v", f)}
	}
	if err != nil {
		return nil, fmt.Errorf("batch %d: %w", b.Seq, err)
	}
	p.ComputeUnits = unitLimit(units)
	if err := s.store.putPlan(p); err != nil {
		return nil, err
	}
	s.log.Debug("batch planned", "batch", b.Seq, "entries", p.Entries, "runs", p.Runs, "predicted_charge", p.Predicted, "tables", len(p.Tables))
	if err := s.checkpoint(PointPlanned, b.Seq); err != nil {
		return nil, err
	}
	return p, nil
}

// advance looks at what was sent for the batch and re-sends it as it is,
// waits for it, or — when it is known not to have landed — either signs
// the same instruction anew or, if it can never land, fails the batch.
func (s *Settler) advance(ctx context.Context, v *view, b journal.Batch, plan *Plan) error {
	latest := plan.Latest()
	// The journal lists every transaction of the batch (a crash may have
	// come between the state file and MarkSent).
	for _, send := range plan.Sends {
		if !slices.Contains(b.TxSignatures, send.Signature.String()) {
			if err := s.journal.MarkSent(b.Seq, send.Signature.String(), send.LastValid); err != nil {
				return fmt.Errorf("mark batch %d sent: %w", b.Seq, err)
			}
		}
	}
	if latest != nil {
		sts, err := s.statuses(ctx, plan.Signatures())
		if err != nil {
			return err
		}
		for _, st := range sts {
			if st.Landed && st.Err == nil {
				return s.concludeLanded(ctx, b)
			}
		}
		last := sts[len(sts)-1]
		if last.Landed {
			// The latest transaction failed on chain; the earlier ones were
			// dead before it was signed.
			if stop, err := s.onFailed(ctx, b, plan, *latest, last); stop {
				return err
			}
		} else {
			height, err := s.rpc.GetBlockHeight(ctx, s.cfg.Commitment)
			if err != nil {
				return fmt.Errorf("block height: %w", err)
			}
			if height <= latest.LastValid {
				// Still valid: re-send the same bytes and wait for it.
				tx, err := solana.TransactionFromBytes(latest.Tx)
				if err != nil {
					return fmt.Errorf("batch %d: stored transaction: %w", b.Seq, err)
				}
				if err := s.broadcast(ctx, latest.Tx, tx); err != nil {
					s.log.Debug("re-send of a batch transaction", "batch", b.Seq, "err", err)
				} else {
					s.metrics.sends.WithLabelValues("rebroadcast").Inc()
				}
				return s.settleAwait(ctx, b, plan, *latest)
			}
			// Expired: unless it landed meanwhile, it never will.
			sts, err := s.statuses(ctx, []solana.Signature{latest.Signature})
			if err != nil {
				return err
			}
			if sts[0].Landed {
				if sts[0].Err == nil {
					return s.concludeLanded(ctx, b)
				}
				if stop, err := s.onFailed(ctx, b, plan, *latest, sts[0]); stop {
					return err
				}
			}
			s.log.Info("batch transaction expired unseen; signing the same batch with a new blockhash", "batch", b.Seq, "signature", latest.Signature)
		}
	}
	return s.sendNew(ctx, b, plan)
}

// onFailed handles a transaction of the batch that landed and failed.
// stop is true when the round ends here.
func (s *Settler) onFailed(ctx context.Context, b journal.Batch, plan *Plan, send Send, st sigStatus) (stop bool, err error) {
	f := s.classifyLanded(ctx, send, st)
	switch f.verdict {
	case vPermanent:
		return true, s.fail(b, fmt.Sprintf("transaction %s failed: %v", send.Signature, f))
	case vSettled:
		return true, nil // the next round concludes it
	case vGap:
		return true, fmt.Errorf("%w: batch %d: %v", ErrDiverged, b.Seq, f)
	}
	s.log.Warn("batch transaction failed; it will be signed again", "batch", b.Seq, "signature", send.Signature, "err", f)
	return false, nil
}

// classifyLanded names the failure of a landed transaction from its logs.
func (s *Settler) classifyLanded(ctx context.Context, send Send, st sigStatus) *failure {
	var top []solana.PublicKey
	if tx, err := solana.TransactionFromBytes(send.Tx); err == nil {
		top = programIDs(tx)
	}
	var logs []string
	v := uint64(0)
	if res, err := s.rpc.GetTransaction(ctx, send.Signature, &rpc.GetTransactionOpts{
		Encoding: solana.EncodingBase64, Commitment: s.cfg.Commitment, MaxSupportedTransactionVersion: &v,
	}); err == nil && res != nil && res.Meta != nil {
		logs = res.Meta.LogMessages
	}
	return classify(st.Err, top, logs)
}

// sendNew signs the batch's instruction with a fresh blockhash, records
// the transaction (state file, then journal) and only then sends it.
// Every earlier transaction of the batch is dead when this runs.
func (s *Settler) sendNew(ctx context.Context, b journal.Batch, plan *Plan) error {
	bh, err := s.rpc.GetLatestBlockhash(ctx, s.cfg.Commitment)
	if err != nil {
		return fmt.Errorf("latest blockhash: %w", err)
	}
	tx, raw, err := s.buildTx(plan, bh.Value.Blockhash)
	if err != nil {
		return err
	}
	if _, err := s.simulate(ctx, tx); err != nil {
		var f *failure
		if errors.As(err, &f) {
			switch f.verdict {
			case vPermanent:
				return s.fail(b, fmt.Sprintf("simulation: %v", f))
			case vSettled:
				return nil // landed meanwhile (another of its transactions); the next round concludes it
			case vGap:
				return fmt.Errorf("%w: batch %d: %v", ErrDiverged, b.Seq, f)
			}
		}
		return fmt.Errorf("batch %d: %w", b.Seq, err)
	}
	send := Send{Signature: tx.Signatures[0], LastValid: bh.Value.LastValidBlockHeight, Tx: raw, SignedAt: s.cfg.Now().UTC()}
	kind := "first"
	if len(plan.Sends) > 0 {
		kind = "resend"
	}
	if err := s.store.addSend(b.Seq, send); err != nil {
		return err
	}
	if err := s.journal.MarkSent(b.Seq, send.Signature.String(), send.LastValid); err != nil {
		return fmt.Errorf("mark batch %d sent: %w", b.Seq, err)
	}
	plan.Sends = append(plan.Sends, send)
	if err := s.checkpoint(PointSigned, b.Seq); err != nil {
		return err
	}
	if err := s.broadcast(ctx, raw, tx); err != nil {
		var f *failure
		if errors.As(err, &f) && f.verdict == vSettled {
			return nil
		}
		// Refused in preflight or lost on the way: either way it may yet
		// land (or be re-sent) until its blockhash expires.
		s.log.Warn("sending a batch transaction failed; waiting for it anyway", "batch", b.Seq, "signature", send.Signature, "err", err)
	} else {
		s.metrics.sends.WithLabelValues(kind).Inc()
	}
	if err := s.checkpoint(PointSent, b.Seq); err != nil {
		return err
	}
	return s.settleAwait(ctx, b, plan, send)
}

// settleAwait waits for send and acts on the outcome.
func (s *Settler) settleAwait(ctx context.Context, b journal.Batch, plan *Plan, send Send) error {
	res, st, err := s.await(ctx, plan, send)
	switch res {
	case awaitLanded:
		return s.concludeLanded(ctx, b)
	case awaitFailed:
		if stop, err := s.onFailed(ctx, b, plan, send, st); stop {
			return err
		}
		return nil // the next round signs it again
	case awaitExpired:
		s.metrics.failures.WithLabelValues("expired").Inc()
		return nil // the next round re-checks and signs it again
	}
	if err != nil {
		return err
	}
	return nil
}

// newBatch builds, stores and sends batch seq from the lowest-numbered
// recorded receipts. idle is true when nothing is left to settle right now.
func (s *Settler) newBatch(ctx context.Context, v *view, seq uint64) (idle bool, err error) {
	stored, err := s.journal.UnbatchedRuns(s.cfg.ScanRuns)
	if err != nil {
		return false, err
	}
	if len(stored) == 0 {
		s.setLag(0)
		return true, nil
	}
	runs := runsFromJournal(stored)
	s.noteLag(nil, runs)
	p, err := s.plan(ctx, v, runs)
	if err != nil {
		return false, err
	}
	for reason, ids := range p.writeOffs {
		if err := s.journal.WriteOff(ids, "settlement: "+reason); err != nil {
			return false, err
		}
		s.metrics.writtenOff.WithLabelValues(reason).Add(float64(len(ids)))
		s.log.Warn("runs can never be settled; written off", "reason", reason, "runs", len(ids))
	}
	if p.deferred > 0 {
		s.log.Debug("runs held back", "deferred", p.deferred, "from_run", p.heldFrom, "settleable_below", len(p.ok))
	}
	if len(p.ok) == 0 {
		return true, nil
	}
	var tables func([]solana.PublicKey) map[solana.PublicKey]solana.PublicKeySlice
	if s.cfg.LookupTable {
		tables = s.tables.virtual
	}
	chosen, taken, err := s.pack(s.settleNode(v), p.ok, tables)
	if err != nil {
		return false, err
	}
	if taken == 0 {
		return false, fmt.Errorf("run %d's settle entry fits no transaction", p.ok[0].Seq)
	}
	ids := make([]receipts.RunID, taken)
	for i, r := range p.ok[:taken] {
		ids[i] = r.ID
	}
	b, err := s.journal.AssignBatch(seq, ids)
	if errors.Is(err, journal.ErrSeqInUse) {
		return false, fmt.Errorf("%w: the journal already has batch %d but the chain's last settled batch is %d", ErrDiverged, seq, seq-1)
	}
	if err != nil {
		return false, fmt.Errorf("assign batch %d: %w", seq, err)
	}
	s.log.Debug("batch assigned", "batch", seq, "batch_contents", describe(chosen), "runs", fmt.Sprintf("%d..%d", b.FirstRunSeq, b.LastRunSeq), "settleable", len(p.ok))
	if err := s.checkpoint(PointAssigned, seq); err != nil {
		return false, err
	}
	s.notePending(&b)
	plan, err := s.makePlan(ctx, v, b, chosen, p.chain)
	var rb *rebuildError
	if errors.As(err, &rb) {
		return false, s.fail(b, rb.reason)
	}
	if err != nil {
		return false, err // the batch stays assigned; the next round lays it out again
	}
	if err := s.advance(ctx, v, b, plan); err != nil {
		return false, err
	}
	more := taken < len(p.ok)
	return !more, nil
}

// cleanPlans drops plans whose batch is no longer pending with the same root.
func (s *Settler) cleanPlans() error {
	var drop []uint64
	for _, p := range s.store.plans() {
		b, err := s.journal.Batch(p.Seq)
		if err != nil && !errors.Is(err, journal.ErrNotFound) {
			return err
		}
		if err != nil || (b.State != journal.BatchAssigned && b.State != journal.BatchSent) || b.Root != p.Root {
			drop = append(drop, p.Seq)
		}
	}
	if len(drop) == 0 {
		return nil
	}
	return s.store.deletePlans(func(p *Plan) bool { return slices.Contains(drop, p.Seq) })
}

// LocalLastSettled is the highest sequence number the journal marks settled.
func LocalLastSettled(j *journal.Journal) (uint64, error) {
	b, ok, err := j.LastBatch()
	if err != nil || !ok {
		return 0, err
	}
	for seq := b.Seq; seq > 0; seq-- {
		b, err := j.Batch(seq)
		if errors.Is(err, journal.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if b.State == journal.BatchSettled {
			return seq, nil
		}
	}
	return 0, nil
}

func (s *Settler) noteLocalSettled() error {
	seq, err := LocalLastSettled(s.journal)
	if err != nil {
		return err
	}
	s.metrics.lastSeq.WithLabelValues("journal").Set(float64(seq))
	s.mu.Lock()
	s.status.LocalLastSettled = seq
	s.mu.Unlock()
	return nil
}

func (s *Settler) notePending(b *journal.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b == nil {
		s.status.Pending = nil
		return
	}
	s.status.Pending = &Pending{Seq: b.Seq, State: string(b.State), Runs: b.Runs, Sends: len(b.TxSignatures)}
}

func (s *Settler) noteTables() {
	var live, retired []string
	for _, r := range s.tables.recs {
		if r.retired() {
			retired = append(retired, r.Address.String())
		} else {
			live = append(live, r.Address.String())
		}
	}
	s.mu.Lock()
	s.status.LookupTables, s.status.RetiredLookupTables = live, retired
	s.mu.Unlock()
}

// noteLag sets the settlement lag from the oldest receipt in the pending
// batches or the unbatched runs.
func (s *Settler) noteLag(pending []journal.Batch, runs []run) {
	var oldest receipts.RunID
	have := false
	consider := func(id receipts.RunID) {
		if !have || bytes.Compare(id[:], oldest[:]) < 0 {
			oldest, have = id, true
		}
	}
	for _, b := range pending {
		for _, id := range b.RunIDs {
			consider(id)
		}
	}
	for _, r := range runs {
		consider(r.ID)
	}
	if have {
		s.setLag(lagOf(oldest, s.cfg.Now()))
	}
}

// refreshLag recomputes the settlement lag from the journal.
func (s *Settler) refreshLag() error {
	lag, err := JournalLag(s.journal, s.cfg.Now())
	if err != nil {
		return err
	}
	s.setLag(lag)
	return nil
}

func (s *Settler) setLag(d time.Duration) {
	sec := max(d.Seconds(), 0)
	s.metrics.lag.Set(sec)
	s.mu.Lock()
	s.status.LagSeconds = sec
	s.mu.Unlock()
}

// NodeAddress derives the node account of an operator.
func NodeAddress(operator solana.PublicKey) solana.PublicKey { return pda.Node(operator) }

// build lays out a batch, on the domain's lanes when the settler serves
// one.
func (s *Settler) build(seq uint64, root [32]byte, runs settlement.Runs, entries []settlement.Entry) (*settlement.Layout, error) {
	l, err := settlement.Build(seq, root, runs, entries)
	if err == nil && s.cfg.Domain != nil {
		d := *s.cfg.Domain
		l.Domain = &d
	}
	return l, err
}

// laneKey is whose lanes the batches debit: the domain's, or the node's.
func (s *Settler) laneKey() solana.PublicKey {
	if s.cfg.Domain != nil {
		return s.cfg.Domain.Domain
	}
	return s.nodeAddr
}

// JournalLag is the age of the oldest receipt of j not yet settled (0 when none).
func JournalLag(j *journal.Journal, now time.Time) (time.Duration, error) {
	pending, err := j.PendingBatches()
	if err != nil {
		return 0, err
	}
	first, err := j.UnbatchedRuns(1)
	if err != nil {
		return 0, err
	}
	ids := pendingIDs(pending)
	for _, r := range first {
		ids = append(ids, r.ID)
	}
	var oldest receipts.RunID
	have := false
	for _, id := range ids {
		if !have || bytes.Compare(id[:], oldest[:]) < 0 {
			oldest, have = id, true
		}
	}
	if !have {
		return 0, nil
	}
	return max(lagOf(oldest, now), 0), nil
}

func pendingIDs(bs []journal.Batch) []receipts.RunID {
	var out []receipts.RunID
	for _, b := range bs {
		out = append(out, b.RunIDs...)
	}
	return out
}

// ChainLastBatch reads the node's last settled batch sequence number.
func ChainLastBatch(ctx context.Context, client *rpc.Client, node solana.PublicKey) (uint64, error) {
	n, err := ChainNode(ctx, client, node)
	if err != nil {
		return 0, err
	}
	return n.LastBatchSeq, nil
}

// ChainNode reads the node account (its last batch and run numbers).
func ChainNode(ctx context.Context, client *rpc.Client, node solana.PublicKey) (*im.Node, error) {
	res, err := client.GetAccountInfoWithOpts(ctx, node, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if errors.Is(err, rpc.ErrNotFound) {
		return nil, fmt.Errorf("node %s: %w", node, ErrNoNode)
	}
	if err != nil {
		return nil, fmt.Errorf("read node %s: %w", node, err)
	}
	n, err := im.ParseAccount_Node(res.Value.Data.GetBinary())
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	return n, nil
}
