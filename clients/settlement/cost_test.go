package settlement

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
)

func TestShareCostRoundsUpOnce(t *testing.T) {
	cases := []struct {
		in, out, pin, pout uint64
		w                  uint16
		want               uint64
	}{
		{1_500, 1, 2, 1, 10_000, 4}, // 3.001 → 4
		{1_000, 0, 7, 0, 10_000, 7},
		{1_000, 0, 7, 0, 5_000, 4}, // 3.5 → 4
		{0, 0, 7, 9, 10_000, 0},
		{1_500, 700, 10, 30, 10_000, 36},
		{2_000, 1_000, 10, 30, 6_000, 30},
		{333, 333, 2, 6, 10_000, 3},
		{123_456, 65_432, 4, 12, 10_000, 1_280},
		{1, 0, 1, 0, 1, 1}, // the smallest non-zero cost is 1
	}
	for _, c := range cases {
		got, err := ShareCost(c.in, c.out, c.pin, c.pout, c.w)
		if err != nil || got != c.want {
			t.Errorf("ShareCost(%d, %d, %d, %d, %d) = %d, %v; want %d", c.in, c.out, c.pin, c.pout, c.w, got, err, c.want)
		}
	}
}

func TestShareCostOverflowIsTheProgramsError(t *testing.T) {
	for _, c := range [][5]uint64{
		{math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64, 10_000}, // sum above u128
		{math.MaxUint64, 0, math.MaxUint64, 0, 10_000},                           // × weight above u128
		{math.MaxUint64, 0, 1_000_000_000, 0, 10_000},                            // result above u64
	} {
		_, err := ShareCost(c[0], c[1], c[2], c[3], uint16(c[4]))
		if !errors.Is(err, meter.ErrMathOverflow) {
			t.Errorf("ShareCost(%v) error = %v, want MathOverflow", c, err)
		}
	}
	// The largest input that still fits: u64::MAX tokens at 1 per 1k.
	got, err := ShareCost(math.MaxUint64, 0, 1, 0, 10_000)
	if err != nil || got != math.MaxUint64/1_000+1 {
		t.Errorf("ShareCost(max, 1/1k) = %d, %v", got, err)
	}
}

// ShareCost agrees with exact big-integer arithmetic everywhere.
func TestShareCostAgreesWithBigIntegers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	limit := new(big.Int).SetUint64(math.MaxUint64)
	u128 := new(big.Int).Lsh(big.NewInt(1), 128)
	sizes := []uint64{1 << 10, 1 << 20, 1 << 32, 1 << 48, math.MaxUint64}
	for i := 0; i < 200_000; i++ {
		pick := func() uint64 { return rng.Uint64N(sizes[rng.IntN(len(sizes))]) }
		in, out, pin, pout := pick(), pick(), pick(), pick()
		w := uint16(rng.IntN(10_001))
		raw := new(big.Int).Add(new(big.Int).Mul(u(in), u(pin)), new(big.Int).Mul(u(out), u(pout)))
		weighted := new(big.Int).Mul(raw, big.NewInt(int64(w)))
		q, r := new(big.Int).QuoRem(weighted, big.NewInt(10_000_000), new(big.Int))
		if r.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
		wantErr := raw.Cmp(u128) >= 0 || weighted.Cmp(u128) >= 0 || q.Cmp(limit) > 0
		got, err := ShareCost(in, out, pin, pout, w)
		if wantErr != (err != nil) || (err == nil && got != q.Uint64()) {
			t.Fatalf("ShareCost(%d, %d, %d, %d, %d) = %d, %v; want %s (overflow %v)", in, out, pin, pout, w, got, err, q, wantErr)
		}
	}
}

func u(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

func TestDistributeSumsExactly(t *testing.T) {
	cases := []struct {
		costs   []uint64
		charged uint64
		want    []uint64
	}{
		{[]uint64{10, 20, 30}, 59, []uint64{9, 19, 31}},
		{[]uint64{10, 20, 30}, 60, []uint64{10, 20, 30}},
		{[]uint64{10, 20, 30}, 0, []uint64{0, 0, 0}},
		{[]uint64{0, 0}, 0, []uint64{0, 0}},
		{[]uint64{math.MaxUint64}, 5, []uint64{5}},
	}
	for _, c := range cases {
		got, err := Distribute(c.costs, c.charged)
		if err != nil || !equal(got, c.want) {
			t.Errorf("Distribute(%v, %d) = %v, %v; want %v", c.costs, c.charged, got, err, c.want)
		}
	}
	if _, err := Distribute([]uint64{10}, 11); !errors.Is(err, meter.ErrMathOverflow) {
		t.Errorf("charging above the cost: %v", err)
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSplitFavoursTheProtocolAndSumsExactly(t *testing.T) {
	cases := []struct {
		charged uint64
		fee, op uint16
		want    Split
	}{
		{101, 100, 2_000, Split{2, 20, 79}},
		{1, 1, 9_999, Split{1, 0, 0}},
		{66, 100, 2_000, Split{1, 13, 52}},
		{7, 100, 2_000, Split{1, 1, 5}},
		{10, 100, 2_000, Split{1, 2, 7}},
		{0, 100, 2_000, Split{0, 0, 0}},
	}
	for _, c := range cases {
		got, err := SplitCharged(c.charged, c.fee, c.op)
		if err != nil || got != c.want {
			t.Errorf("SplitCharged(%d, %d, %d) = %+v, %v; want %+v", c.charged, c.fee, c.op, got, err, c.want)
		}
	}
	s, err := SplitCharged(math.MaxUint64, 5_000, 5_000)
	if err != nil || s.ToProtocol+s.ToOperator+s.ToModel != math.MaxUint64 {
		t.Errorf("split of u64::MAX = %+v, %v", s, err)
	}
}

func TestPricingSwitchesAtItsEffectiveTime(t *testing.T) {
	p := Pricing{InputPer1k: 4, OutputPer1k: 12, PreviousInputPer1k: 2, PreviousOutputPer1k: 6, EffectiveAt: 1_000}
	if in, out := p.At(999); in != 2 || out != 6 {
		t.Errorf("At(999) = %d, %d", in, out)
	}
	if in, out := p.At(1_000); in != 4 || out != 12 {
		t.Errorf("At(1000) = %d, %d", in, out)
	}
}
