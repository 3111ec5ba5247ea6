package oracle

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// Rand is a seeded source of inputs that favour edge values. The seed is
// printed when the test fails; RULES_SEED=<seed> replays it.
type Rand struct{ *rand.Rand }

// NewRand seeds from $RULES_SEED or the clock.
func NewRand(t testing.TB) Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("RULES_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RULES_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("random inputs from seed %d: rerun with RULES_SEED=%d", seed, seed)
		}
	})
	return Rand{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// U64 is 0, 1, 2, near u64::MAX, a power of two ± 1, a small number or any u64.
func (r Rand) U64() uint64 {
	switch r.IntN(10) {
	case 0:
		return uint64(r.IntN(3))
	case 1:
		return math.MaxUint64 - uint64(r.IntN(3))
	case 2:
		return 1<<r.IntN(64) + uint64(r.IntN(3)) - 1
	case 3, 4, 5:
		return r.Uint64N(1_000_000)
	case 6:
		return r.Uint64N(1 << 40)
	default:
		return r.Uint64()
	}
}

// Below is U64 mostly within [0, n], sometimes outside it.
func (r Rand) Below(n uint64) uint64 {
	if n == 0 || r.IntN(8) == 0 {
		return r.U64()
	}
	switch r.IntN(4) {
	case 0:
		return n
	case 1:
		return n - 1
	}
	return r.Uint64N(n)
}

// I64 is 0, ±1, near the i64 limits or a time-like value.
func (r Rand) I64() int64 {
	switch r.IntN(8) {
	case 0:
		return int64(r.IntN(3)) - 1
	case 1:
		return math.MaxInt64 - int64(r.IntN(2))
	case 2:
		return math.MinInt64 + int64(r.IntN(2))
	case 3:
		return int64(r.Uint64())
	default:
		return 1_700_000_000 + r.Int64N(100_000_000)
	}
}

// Bps is 0, 1, 10 000 or any value up to 10 000.
func (r Rand) Bps() uint16 {
	switch r.IntN(5) {
	case 0:
		return 0
	case 1:
		return 10_000
	case 2:
		return 1
	}
	return uint16(r.IntN(10_001))
}

// AnyBps is Bps, sometimes above 10 000 (the program must refuse those).
func (r Rand) AnyBps() uint16 {
	if r.IntN(6) == 0 {
		return uint16(10_001 + r.IntN(65_535-10_000))
	}
	return r.Bps()
}
