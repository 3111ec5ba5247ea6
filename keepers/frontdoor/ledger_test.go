package frontdoor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
)

type marks map[solana.PublicKey]uint64

func (m marks) HighWater(_ context.Context, n solana.PublicKey) (uint64, error) {
	v, ok := m[n]
	if !ok {
		return 0, errors.New("member down")
	}
	return v, nil
}

func TestLedgerRule(t *testing.T) {
	escrow, a, b := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	now := time.Unix(1_000, 0)
	mk := marks{}
	l := NewLedger(LedgerConfig{Marks: mk, Now: func() time.Time { return now }, UnknownHold: 10 * time.Second})
	snap := func(slot, avail, seqA, seqB uint64) Snapshot {
		return Snapshot{Slot: slot, Available: map[solana.PublicKey]uint64{escrow: avail}, RunSeq: map[solana.PublicKey]uint64{a: seqA, b: seqB}}
	}
	ctx := context.Background()
	l.Apply(snap(10, 1_000, 0, 0))

	t1, err := l.Reserve(ctx, escrow, 600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, escrow, 401); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("over the room: %v, want ErrNoRoom", err)
	}
	t2, _ := l.Reserve(ctx, escrow, 400)
	t1.Charged(a, 5, 250) // a's run 5 cost 250 of its 600
	t2.Free()             // b refused it: nothing charged
	if got := l.Room(escrow); got != 750 {
		t.Fatalf("room = %d, want 1000-250", got)
	}
	t1.Free() // a second outcome changes nothing
	if got := l.Room(escrow); got != 750 {
		t.Fatalf("room after a late Free = %d", got)
	}
	// Settled up to 4 only: run 5 is still owed; the lane moved for other runs.
	l.Apply(snap(11, 900, 4, 0))
	if got := l.Room(escrow); got != 650 {
		t.Fatalf("room = %d, want 900-250", got)
	}
	// An older snapshot never undoes a newer one.
	l.Apply(snap(9, 5_000, 9, 9))
	if got := l.Room(escrow); got != 650 {
		t.Fatalf("stale snapshot applied: room = %d", got)
	}
	// The read that shows run 5 settled shows its debit too.
	l.Apply(snap(12, 650, 5, 0))
	if got := l.Room(escrow); got != 650 {
		t.Fatalf("room = %d, want 650 (run 5 released, its debit in the lane)", got)
	}

	// An unknown outcome holds the worst case until the member's mark is
	// known and settled.
	t3, _ := l.Reserve(ctx, escrow, 300)
	t3.Unknown(b)
	l.Apply(snap(13, 650, 5, 0))
	if got := l.Room(escrow); got != 350 {
		t.Fatalf("room = %d, want 650-300", got)
	}
	now = now.Add(11 * time.Second)
	l.resolveUnknown(ctx) // b is down: nothing learnt
	mk[b] = 7
	l.resolveUnknown(ctx)
	l.Apply(snap(14, 600, 5, 6))
	if got := l.Room(escrow); got != 300 {
		t.Fatalf("room = %d, want 600-300 (b settled to 6, mark 7)", got)
	}
	l.Apply(snap(15, 580, 5, 7))
	if got := l.Room(escrow); got != 580 {
		t.Fatalf("room = %d, want 580", got)
	}
	// A member that never recorded anything frees its unknown runs.
	t4, _ := l.Reserve(ctx, escrow, 100)
	t4.Unknown(a)
	mk[a] = 0
	now = now.Add(11 * time.Second)
	l.resolveUnknown(ctx)
	if owed, inflight := l.Owed(escrow); owed != 0 || inflight != 0 {
		t.Fatalf("owed %d in flight %d, want 0", owed, inflight)
	}
}

func TestLedgerReadsAnUnknownLaneFirst(t *testing.T) {
	c := &fakeChain{lanes: map[solana.PublicKey]uint64{}, runSeq: map[solana.PublicKey]uint64{}}
	e := solana.NewWallet().PublicKey()
	c.lanes[e] = 100
	l := NewLedger(LedgerConfig{Chain: c})
	if _, err := l.Reserve(context.Background(), e, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(context.Background(), e, 1); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("second = %v, want ErrNoRoom", err)
	}
	if c.reads != 1 {
		t.Fatalf("reads = %d, want 1", c.reads)
	}
}

func TestLedgerForgetsIdleLanesOnly(t *testing.T) {
	c := &fakeChain{lanes: map[solana.PublicKey]uint64{}, runSeq: map[solana.PublicKey]uint64{}}
	idle, busy := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	c.lanes[idle], c.lanes[busy] = 100, 100
	now := time.Unix(1_000, 0)
	l := NewLedger(LedgerConfig{Chain: c, Now: func() time.Time { return now }, IdleEvict: time.Minute})
	ctx := context.Background()
	t1, _ := l.Reserve(ctx, idle, 10)
	t1.Free()
	t2, _ := l.Reserve(ctx, busy, 10)
	t2.Charged(solana.NewWallet().PublicKey(), 1, 10)
	now = now.Add(2 * time.Minute)
	l.evictIdle()
	if _, ok := l.lanes[idle]; ok {
		t.Fatal("an idle lane was kept")
	}
	if owed, _ := l.Owed(busy); owed != 10 {
		t.Fatalf("a lane with an owed run was forgotten (owed %d)", owed)
	}
}

func TestStartBarrierWaitsForMembersToSettle(t *testing.T) {
	c := &fakeChain{lanes: map[solana.PublicKey]uint64{}, runSeq: map[solana.PublicKey]uint64{}}
	e, a, b := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	c.lanes[e] = 1_000
	now := time.Unix(1_000, 0)
	mk := marks{a: 4}
	l := NewLedger(LedgerConfig{Chain: c, Marks: mk, Nodes: func() []solana.PublicKey { return []solana.PublicKey{a, b} },
		Now: func() time.Time { return now }, UnknownHold: 10 * time.Second, StartBarrier: true})
	ctx := context.Background()
	step := func() error {
		_ = l.Sync(ctx, nil)
		_, err := l.Reserve(ctx, e, 1)
		return err
	}
	if err := step(); !errors.Is(err, ErrReconciling) {
		t.Fatalf("at the start: %v, want ErrReconciling", err)
	}
	now = now.Add(11 * time.Second)
	if err := step(); !errors.Is(err, ErrReconciling) {
		t.Fatalf("member b cannot be asked: %v, want ErrReconciling", err)
	}
	mk[b] = 0
	if err := step(); !errors.Is(err, ErrReconciling) {
		t.Fatalf("a has recorded up to 4, settled 0: %v, want ErrReconciling", err)
	}
	c.runSeq[a] = 4
	if err := step(); err != nil {
		t.Fatalf("everything settled: %v", err)
	}
	if !l.Open() {
		t.Fatal("not open")
	}
}
