package chainclock

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// fakeChain serves the Clock sysvar at a settable unix time.
type fakeChain struct {
	mu    sync.Mutex
	unix  int64
	short bool
	down  bool
	reads atomic.Int64
}

func (f *fakeChain) set(unix int64) {
	f.mu.Lock()
	f.unix = unix
	f.mu.Unlock()
}

func (f *fakeChain) GetAccountInfoWithOpts(_ context.Context, account solana.PublicKey, _ *rpc.GetAccountInfoOpts) (*rpc.GetAccountInfoResult, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("connection refused")
	}
	if !account.Equals(SysvarAddress) {
		return nil, rpc.ErrNotFound
	}
	data := make([]byte, sysvarLen)
	binary.LittleEndian.PutUint64(data[0:8], 42)
	binary.LittleEndian.PutUint64(data[32:40], uint64(f.unix))
	if f.short {
		data = data[:39]
	}
	return &rpc.GetAccountInfoResult{Value: &rpc.Account{Owner: solana.SysVarRentPubkey, Data: rpc.DataBytesOrJSONFromBytes(data)}}, nil
}

// fakeWall is a settable wall clock.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (w *fakeWall) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t
}

func (w *fakeWall) advance(d time.Duration) {
	w.mu.Lock()
	w.t = w.t.Add(d)
	w.mu.Unlock()
}

func TestParseSysvar(t *testing.T) {
	data := make([]byte, 40)
	binary.LittleEndian.PutUint64(data[0:8], 7)
	binary.LittleEndian.PutUint64(data[32:40], uint64(1_800_000_000))
	slot, unix, err := ParseSysvar(data)
	if err != nil || slot != 7 || unix != 1_800_000_000 {
		t.Fatalf("slot %d unix %d err %v", slot, unix, err)
	}
	if _, _, err := ParseSysvar(data[:39]); !errors.Is(err, ErrBadSysvar) {
		t.Fatalf("short sysvar: %v", err)
	}
}

// The chain a day ahead of the host (time travel on the local chain): the
// estimate follows the chain, not the wall clock.
func TestNowFollowsTheChainNotTheWallClock(t *testing.T) {
	wall := &fakeWall{t: time.Unix(1_800_000_000, 0)}
	chain := &fakeChain{unix: 1_800_000_000 + 86_400}
	c := New(Config{RPC: chain, Wall: wall.now})
	if got := c.Now(); !got.Equal(wall.now()) || c.Status().Synced {
		t.Fatalf("before any observation: %v (synced %v), want the wall clock", got, c.Status().Synced)
	}
	wall.advance(time.Second) // keep the pre-sync reading below the chain's
	unix, err := c.Read(context.Background())
	if err != nil || unix != chain.unix {
		t.Fatalf("read: %d %v", unix, err)
	}
	if got, want := c.Now(), time.Unix(chain.unix, 0); !got.Equal(want) {
		t.Fatalf("right after the read: %v, want %v", got, want)
	}
	wall.advance(1500 * time.Millisecond)
	if got, want := c.Now(), time.Unix(chain.unix, 0).Add(1500*time.Millisecond); !got.Equal(want) {
		t.Fatalf("1.5 s later: %v, want %v", got, want)
	}
	st := c.Status()
	if !st.Synced || st.OffsetSeconds < 86_399 || st.OffsetSeconds > 86_401 {
		t.Fatalf("status %+v", st)
	}
}

// An observation behind the estimate (the chain's clock slower than the
// host's, or a lagging RPC node) never moves Now backwards: it holds until
// the chain catches up, then follows the new observation.
func TestNowNeverGoesBackwards(t *testing.T) {
	wall := &fakeWall{t: time.Unix(1_000, 0)}
	c := New(Config{Wall: wall.now})
	c.Observe(2_000)
	wall.advance(3 * time.Second)
	held := c.Now()  // 2003
	c.Observe(2_001) // the chain says 2001 now: 2 s behind the estimate
	if got := c.Now(); !got.Equal(held) {
		t.Fatalf("after an observation behind the estimate: %v, want it held at %v", got, held)
	}
	wall.advance(time.Second)
	if got := c.Now(); !got.Equal(held) {
		t.Fatalf("1 s later (chain at 2002): %v, want still %v", got, held)
	}
	wall.advance(3 * time.Second)
	if got, want := c.Now(), time.Unix(2_005, 0); !got.Equal(want) {
		t.Fatalf("once the chain caught up: %v, want %v (the new observation + 4 s)", got, want)
	}
}

// Over random observations and wall-clock steps: Now is monotonic, and
// never ahead of the latest observation by more than the wall time elapsed
// since it, except while holding a value already returned.
func TestNowBoundsRandomised(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	wall := &fakeWall{t: time.Unix(1_000_000, 0)}
	c := New(Config{Wall: wall.now})
	chain := int64(1_000_500)
	c.Observe(chain)
	obsChain, obsWall := time.Unix(chain, 0), wall.now()
	var prev time.Time
	for i := 0; i < 10_000; i++ {
		switch rng.IntN(3) {
		case 0:
			wall.advance(time.Duration(rng.IntN(2000)) * time.Millisecond)
		case 1:
			// The chain's clock moves by -2..+3 s around the wall time elapsed.
			chain = obsChain.Add(wall.now().Sub(obsWall)).Unix() + int64(rng.IntN(6)) - 2
			c.Observe(chain)
			obsChain, obsWall = time.Unix(chain, 0), wall.now()
		}
		got := c.Now()
		if got.Before(prev) {
			t.Fatalf("step %d: Now went back from %v to %v", i, prev, got)
		}
		bound := obsChain.Add(wall.now().Sub(obsWall))
		if got.After(bound) && !got.Equal(prev) {
			t.Fatalf("step %d: Now %v is ahead of the latest observation + elapsed (%v) and not a held value", i, got, bound)
		}
		prev = got
	}
}

func TestReadFailures(t *testing.T) {
	chain := &fakeChain{unix: 5, down: true}
	c := New(Config{RPC: chain})
	if _, err := c.Read(context.Background()); err == nil {
		t.Fatal("read with the RPC down succeeded")
	}
	chain.down, chain.short = false, true
	if _, err := c.Read(context.Background()); !errors.Is(err, ErrBadSysvar) {
		t.Fatalf("short sysvar: %v", err)
	}
	if c.Status().Synced {
		t.Fatal("failed reads synced the clock")
	}
	if _, err := New(Config{}).Read(context.Background()); err == nil {
		t.Fatal("read without an RPC succeeded")
	}
}

// Run reads the sysvar every Refresh and picks up a jump of the chain's
// clock; it skips the read when someone else observed the clock recently.
func TestRunRefreshes(t *testing.T) {
	chain := &fakeChain{unix: time.Now().Unix()}
	c := New(Config{RPC: chain, Refresh: 20 * time.Millisecond})
	if _, err := c.Read(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	ahead := time.Now().Add(24 * time.Hour)
	chain.set(ahead.Unix())
	deadline := time.Now().Add(5 * time.Second)
	for c.Now().Before(ahead.Add(-time.Second)) {
		if time.Now().After(deadline) {
			t.Fatalf("Run did not pick up the chain a day ahead: %v", c.Now())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Observations from elsewhere every 2 ms: Run has nothing to read.
	stop := time.Now().Add(200 * time.Millisecond)
	reads := chain.reads.Load()
	for time.Now().Before(stop) {
		c.Observe(ahead.Unix())
		time.Sleep(2 * time.Millisecond)
	}
	if n := chain.reads.Load() - reads; n > 2 {
		t.Fatalf("Run read the sysvar %d times in 200 ms although it was observed every 2 ms", n)
	}
}
