package frontdoor

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/poll"
)

// Snapshot is one consistent read of the chain (one getMultipleAccounts
// call, so one slot): for each escrow, what settlement may still take from
// its lane to the domain (the lane's balance within the escrow's spend
// limit; 0 without a lane), and each member node's last_run_seq.
type Snapshot struct {
	Slot      uint64
	Available map[solana.PublicKey]uint64
	RunSeq    map[solana.PublicKey]uint64
}

// Chain reads snapshots.
type Chain interface {
	Read(ctx context.Context, escrows, nodes []solana.PublicKey) (Snapshot, error)
}

// HighWater tells a member node's journal high-water mark (the member's
// GET /domain/high-water): every run it had recorded when asked is
// numbered at most this.
type HighWater interface {
	HighWater(ctx context.Context, node solana.PublicKey) (uint64, error)
}

// ErrReconciling: the front door has just started and does not yet know
// what its members' unsettled runs owe (see LedgerConfig.StartBarrier).
var ErrReconciling = errors.New("the front door is reconciling with its members' settlement after a start; retry shortly")

// ErrNoRoom: the domain lane cannot hold the request's worst case.
var ErrNoRoom = errors.New("not enough left in the escrow's lane to the domain")

// LedgerConfig configures a Ledger.
type LedgerConfig struct {
	Chain Chain
	// Marks answers for runs whose outcome the front door could not learn.
	Marks HighWater
	// Nodes lists the member nodes whose last_run_seq each read includes
	// (the router's members). Nodes of owed runs are always included.
	Nodes func() []solana.PublicKey
	// UnknownHold is how long after an unknown outcome the member's mark
	// is asked: longer than a member may take to make a run durable after
	// its response stops (the gateway bounds a journal write by 30s).
	// Default 35s.
	UnknownHold time.Duration
	// IdleEvict: a lane with nothing owed or in flight and no request for
	// this long is forgotten by Run (default 10 min).
	IdleEvict time.Duration
	// StartBarrier keeps admission closed after a start until every member
	// listed has settled all it had recorded: the ledger lives in memory,
	// so a restarted front door does not know what its members' unsettled
	// runs owe. Each member's mark is asked UnknownHold after the start
	// (runs the previous instance admitted may still be recording), and
	// admission opens once a read shows every member's last_run_seq at its
	// mark. A member that cannot be asked keeps it closed.
	StartBarrier bool
	Now          func() time.Time
}

// Ledger holds the front door's reservations against each escrow's lane
// to the domain; see the package doc for the rule.
type Ledger struct {
	cfg LedgerConfig

	syncMu sync.Mutex // one chain read applied at a time, in slot order

	mu    sync.Mutex
	lanes map[solana.PublicKey]*lane

	// The start barrier (StartBarrier): open once every member in marks
	// has settled up to its mark.
	gateMu  sync.Mutex
	started time.Time
	open    atomic.Bool
	marks   map[solana.PublicKey]uint64
}

type lane struct {
	read     bool
	used     time.Time // the last reservation
	slot     uint64
	avail    uint64
	inflight uint64
	owed     []owedRun
	owedSum  uint64
}

// owedRun is an answered run not yet seen settled.
type owedRun struct {
	node   solana.PublicKey
	seq    uint64 // 0: unknown until the member's mark is asked
	amount uint64
	askAt  time.Time // unknown runs: when to ask the mark
}

// NewLedger builds a ledger.
func NewLedger(cfg LedgerConfig) *Ledger {
	if cfg.UnknownHold <= 0 {
		cfg.UnknownHold = 35 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdleEvict <= 0 {
		cfg.IdleEvict = 10 * time.Minute
	}
	if cfg.Nodes == nil {
		cfg.Nodes = func() []solana.PublicKey { return nil }
	}
	l := &Ledger{cfg: cfg, lanes: map[solana.PublicKey]*lane{}, started: cfg.Now(), marks: map[solana.PublicKey]uint64{}}
	l.open.Store(!cfg.StartBarrier)
	return l
}

// Open reports whether admission is open (the start barrier passed).
func (l *Ledger) Open() bool { return l.open.Load() }

// tryOpen passes the start barrier if every member has settled up to the
// mark it gave once UnknownHold had passed since the start.
func (l *Ledger) tryOpen(ctx context.Context) error {
	l.gateMu.Lock()
	defer l.gateMu.Unlock()
	if l.open.Load() || l.cfg.Now().Before(l.started.Add(l.cfg.UnknownHold)) {
		return nil
	}
	nodes := l.cfg.Nodes()
	if len(nodes) == 0 {
		return errors.New("start barrier: no members listed yet")
	}
	for _, n := range nodes {
		if _, ok := l.marks[n]; ok {
			continue
		}
		if l.cfg.Marks == nil {
			return errors.New("start barrier: no way to ask members for their marks")
		}
		mark, err := l.cfg.Marks.HighWater(ctx, n)
		if err != nil {
			return fmt.Errorf("start barrier: %w", err)
		}
		l.marks[n] = mark
	}
	snap, err := l.cfg.Chain.Read(ctx, nil, nodes)
	if err != nil {
		return fmt.Errorf("start barrier: %w", err)
	}
	for _, n := range nodes {
		if snap.RunSeq[n] < l.marks[n] {
			return nil // not settled yet; the next sync looks again
		}
	}
	l.open.Store(true)
	return nil
}

// Ticket is one admitted request's reservation. Exactly one of Free,
// Charged or Unknown takes effect; later calls do nothing.
type Ticket struct {
	l      *Ledger
	escrow solana.PublicKey
	worst  uint64
	done   bool
}

// Reserve admits a request of worst-case cost worst against escrow's lane:
//
//	available − owed − in flight ≥ worst
//
// reading the lane first if the ledger has never read it.
func (l *Ledger) Reserve(ctx context.Context, escrow solana.PublicKey, worst uint64) (*Ticket, error) {
	if !l.open.Load() {
		return nil, ErrReconciling
	}
	l.mu.Lock()
	ln := l.lanes[escrow]
	known := ln != nil && ln.read
	l.mu.Unlock()
	if !known {
		if err := l.Sync(ctx, []solana.PublicKey{escrow}); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ln = l.lane(escrow)
	room := ln.room()
	if worst > room {
		return nil, fmt.Errorf("%w: this request may cost up to %d base units; %d are left after the domain's unsettled and in-flight runs", ErrNoRoom, worst, room)
	}
	ln.inflight += worst
	ln.used = l.cfg.Now()
	return &Ticket{l: l, escrow: escrow, worst: worst}, nil
}

// Room is what the lane could still admit (for errors and tests).
func (l *Ledger) Room(escrow solana.PublicKey) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lane(escrow).room()
}

// Owed is the lane's answered but not yet settled amount and in-flight
// reservations.
func (l *Ledger) Owed(escrow solana.PublicKey) (owed, inflight uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ln := l.lane(escrow)
	return ln.owedSum, ln.inflight
}

func (ln *lane) room() uint64 {
	used, carry := bits.Add64(ln.owedSum, ln.inflight, 0)
	if carry != 0 || used >= ln.avail {
		return 0
	}
	return ln.avail - used
}

func (l *Ledger) lane(escrow solana.PublicKey) *lane {
	ln := l.lanes[escrow]
	if ln == nil {
		ln = &lane{}
		l.lanes[escrow] = ln
	}
	return ln
}

func (t *Ticket) finish(fn func(ln *lane)) {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	if t.done {
		return
	}
	t.done = true
	ln := t.l.lane(t.escrow)
	ln.inflight -= t.worst
	fn(ln)
}

// Free releases a request that was not charged: no member recorded it (it
// failed before any member answered, or every member refused it).
func (t *Ticket) Free() { t.finish(func(*lane) {}) }

// Charged converts the reservation into the run's cost as the member's
// receipt records it, owed until node's last_run_seq reaches seq.
func (t *Ticket) Charged(node solana.PublicKey, seq, cost uint64) {
	t.finish(func(ln *lane) { ln.add(owedRun{node: node, seq: seq, amount: cost}) })
}

// Unknown keeps the whole worst case owed: the member may or may not have
// recorded the run (the answer broke off, or it came without its number).
func (t *Ticket) Unknown(node solana.PublicKey) {
	at := t.l.cfg.Now().Add(t.l.cfg.UnknownHold)
	t.finish(func(ln *lane) { ln.add(owedRun{node: node, amount: t.worst, askAt: at}) })
}

// Hold counts, outside any reservation, a run node may have recorded on
// escrow's lane (up to amount): the request it belonged to was served by
// another member. It is owed like an unknown outcome, even past the room.
func (l *Ledger) Hold(escrow, node solana.PublicKey, amount uint64) {
	at := l.cfg.Now().Add(l.cfg.UnknownHold)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lane(escrow).add(owedRun{node: node, amount: amount, askAt: at})
}

func (ln *lane) add(o owedRun) {
	ln.owed = append(ln.owed, o)
	ln.owedSum += o.amount
}

// Sync reads the given escrows (all lanes the ledger knows when nil) and
// the member nodes in one snapshot and applies it.
func (l *Ledger) Sync(ctx context.Context, escrows []solana.PublicKey) error {
	if err := l.tryOpen(ctx); err != nil {
		return err
	}
	l.resolveUnknown(ctx)
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	nodeSet := map[solana.PublicKey]bool{}
	for _, n := range l.cfg.Nodes() {
		nodeSet[n] = true
	}
	l.mu.Lock()
	if escrows == nil {
		for e := range l.lanes {
			escrows = append(escrows, e)
		}
	}
	for _, e := range escrows {
		if ln := l.lanes[e]; ln != nil {
			for _, o := range ln.owed {
				nodeSet[o.node] = true
			}
		}
	}
	l.mu.Unlock()
	if len(escrows) == 0 {
		return nil
	}
	nodes := make([]solana.PublicKey, 0, len(nodeSet))
	for n := range nodeSet {
		nodes = append(nodes, n)
	}
	// Each read holds every node, so each is a snapshot of its escrows.
	per := MaxEscrowsPerRead(len(nodes))
	for i := 0; i < len(escrows); i += per {
		snap, err := l.cfg.Chain.Read(ctx, escrows[i:min(i+per, len(escrows))], nodes)
		if err != nil {
			return fmt.Errorf("read domain lanes: %w", err)
		}
		l.Apply(snap)
	}
	return nil
}

// Apply takes a snapshot: each escrow's available amount is replaced by
// the snapshot's, and every owed run whose number the snapshot's
// last_run_seq of its node reaches is released — the same read shows its
// debit. A snapshot older than one a lane already took is ignored.
func (l *Ledger) Apply(s Snapshot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for e, avail := range s.Available {
		ln := l.lane(e)
		if ln.read && s.Slot < ln.slot {
			continue
		}
		ln.read, ln.slot, ln.avail = true, s.Slot, avail
		kept := ln.owed[:0]
		for _, o := range ln.owed {
			if o.seq != 0 {
				if settled, ok := s.RunSeq[o.node]; ok && settled >= o.seq {
					ln.owedSum -= o.amount
					continue
				}
			}
			kept = append(kept, o)
		}
		ln.owed = kept
	}
}

// resolveUnknown asks members for their marks for unknown runs whose hold
// has passed: such a run, if recorded at all, is numbered at most the mark
// (0: the member never recorded a run, so this one is free).
func (l *Ledger) resolveUnknown(ctx context.Context) {
	if l.cfg.Marks == nil {
		return
	}
	now := l.cfg.Now()
	l.mu.Lock()
	due := map[solana.PublicKey]bool{}
	for _, ln := range l.lanes {
		for _, o := range ln.owed {
			if o.seq == 0 && !now.Before(o.askAt) {
				due[o.node] = true
			}
		}
	}
	l.mu.Unlock()
	for node := range due {
		mark, err := l.cfg.Marks.HighWater(ctx, node)
		if err != nil {
			continue // the member is down: its runs stay owed
		}
		l.mu.Lock()
		for _, ln := range l.lanes {
			kept := ln.owed[:0]
			for _, o := range ln.owed {
				if o.node == node && o.seq == 0 && !now.Before(o.askAt) {
					if mark == 0 {
						ln.owedSum -= o.amount
						continue
					}
					o.seq = mark
				}
				kept = append(kept, o)
			}
			ln.owed = kept
		}
		l.mu.Unlock()
	}
}

// Run syncs every lane the ledger knows every interval until ctx ends,
// first forgetting lanes idle for IdleEvict with nothing owed or in flight
// (a later request reads its lane again).
func (l *Ledger) Run(ctx context.Context, every time.Duration, onErr func(error)) error {
	return poll.Every(ctx, every, func(ctx context.Context) error {
		l.evictIdle()
		return l.Sync(ctx, nil)
	}, onErr)
}

func (l *Ledger) evictIdle() {
	cut := l.cfg.Now().Add(-l.cfg.IdleEvict)
	l.mu.Lock()
	defer l.mu.Unlock()
	for e, ln := range l.lanes {
		if ln.inflight == 0 && len(ln.owed) == 0 && ln.used.Before(cut) {
			delete(l.lanes, e)
		}
	}
}
