package rules

import (
	"errors"
	"math"
	"math/big"
	"math/rand"
	"testing"
)

// reference is the quote in big integers, written from the rules rather than the code.
func reference(p Pool, side SwapSide, in uint64) (out, fee, protocol uint64, ok bool) {
	b := func(v uint64) *big.Int { return new(big.Int).SetUint64(v) }
	ceil := func(n, d *big.Int) *big.Int {
		q, r := new(big.Int).QuoRem(n, d, new(big.Int))
		if r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
		return q
	}
	x, y, a := b(p.ReserveMt), b(p.ReserveNative), b(in)
	var o, f *big.Int
	if side == SwapBuy {
		f = ceil(new(big.Int).Mul(a, b(uint64(p.SwapFeeBps))), u(bps))
		net := new(big.Int).Sub(a, f)
		o = new(big.Int).Quo(new(big.Int).Mul(x, net), new(big.Int).Add(y, net))
	} else {
		gross := new(big.Int).Quo(new(big.Int).Mul(y, a), new(big.Int).Add(x, a))
		f = ceil(new(big.Int).Mul(gross, b(uint64(p.SwapFeeBps))), u(bps))
		o = new(big.Int).Sub(gross, f)
	}
	pf := ceil(new(big.Int).Mul(f, b(uint64(p.ProtocolShareBps))), u(bps))
	return o.Uint64(), f.Uint64(), pf.Uint64(), o.Sign() > 0
}

// The numbers of tests/programs/tests/market_swap.rs and state/market.rs' unit test.
func TestQuoteMatchesTheProgramsWorkedExamples(t *testing.T) {
	p := Pool{ReserveMt: 1_000_000, ReserveNative: 1_000_000, SwapFeeBps: 30, ProtocolShareBps: 5_000}
	q, err := QuoteSwap(p, SwapBuy, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if q.Fee != 30 || q.AmountOut != 1_000_000*9_970/1_009_970 || q.ProtocolFee != 15 || q.ModelFee != 15 {
		t.Fatalf("buy: %+v", q)
	}
	q, err = QuoteSwap(Pool{ReserveMt: 1_000_000, ReserveNative: 1_000_000, SwapFeeBps: 30, ProtocolShareBps: 3_333}, SwapSell, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	gross := uint64(1_000_000 * 10_000 / 1_010_000)
	if q.Fee != (gross*30+9_999)/10_000 || q.AmountOut != gross-q.Fee || q.ProtocolFee != (q.Fee*3_333+9_999)/10_000 {
		t.Fatalf("sell: %+v", q)
	}
	if q.ReserveMt != 1_010_000 || q.ReserveNative != 1_000_000-gross {
		t.Fatalf("reserves: %+v", q)
	}
}

func TestQuoteAgreesWithABigIntegerReferenceAndNeverDecreasesK(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pick := func() uint64 {
		switch rng.Intn(3) {
		case 0:
			return uint64(rng.Int63n(1_000)) + 1
		case 1:
			return uint64(rng.Int63n(1_000_000_000_000)) + 1
		default:
			return rng.Uint64()%math.MaxUint64 + 1
		}
	}
	for i := 0; i < 200_000; i++ {
		p := Pool{ReserveMt: pick(), ReserveNative: pick(), SwapFeeBps: uint16(rng.Intn(10_001)), ProtocolShareBps: uint16(rng.Intn(10_001))}
		side := SwapSide(rng.Intn(2))
		in := pick()
		out, fee, protocol, ok := reference(p, side, in)
		q, err := QuoteSwap(p, side, in)
		if !ok {
			if !errors.Is(err, ErrTooSmall) {
				t.Fatalf("%+v %v %d: want ErrTooSmall, got %v", p, side, in, err)
			}
			continue
		}
		if errors.Is(err, ErrOverflow) {
			continue
		}
		if err != nil {
			t.Fatalf("%+v %v %d: %v", p, side, in, err)
		}
		if q.AmountOut != out || q.Fee != fee || q.ProtocolFee != protocol || q.ProtocolFee+q.ModelFee != q.Fee {
			t.Fatalf("%+v %v %d: got %+v, want out %d fee %d protocol %d", p, side, in, q, out, fee, protocol)
		}
		k0 := new(big.Int).Mul(new(big.Int).SetUint64(p.ReserveMt), new(big.Int).SetUint64(p.ReserveNative))
		k1 := new(big.Int).Mul(new(big.Int).SetUint64(q.ReserveMt), new(big.Int).SetUint64(q.ReserveNative))
		if k1.Cmp(k0) < 0 {
			t.Fatalf("k decreased: %+v %v %d", p, side, in)
		}
	}
}

func TestRevenueSplitFollowsTheModelsRule(t *testing.T) {
	for _, c := range []struct {
		amount  uint64
		bps     uint16
		earning uint64
		dep, tr uint64
	}{
		{100, 7_000, 1, 70, 30},
		{7, 7_000, 1, 4, 3},
		{100, 7_000, 0, 0, 100},
		{1, 10_000, 5, 1, 0},
		{1, 9_999, 5, 0, 1},
	} {
		dep, tr := SplitRevenue(c.amount, c.bps, c.earning)
		if dep != c.dep || tr != c.tr {
			t.Errorf("SplitRevenue(%d, %d, %d) = %d, %d; want %d, %d", c.amount, c.bps, c.earning, dep, tr, c.dep, c.tr)
		}
	}
	q, _ := QuoteSwap(Pool{ReserveMt: 1e9, ReserveNative: 1e9, SwapFeeBps: 100, ProtocolShareBps: 2_000, DepositorShareBps: 7_000, EarningMt: 1}, SwapBuy, 1e6)
	if q.ToDepositors+q.ToTreasury != q.ModelFee || q.ToDepositors != q.ModelFee*7/10 {
		t.Fatalf("%+v", q)
	}
}

func TestRefusals(t *testing.T) {
	p := Pool{ReserveMt: 1_000, ReserveNative: 1_000_000_000, SwapFeeBps: 30}
	if _, err := QuoteSwap(p, SwapBuy, 0); !errors.Is(err, ErrZeroAmount) {
		t.Fatal(err)
	}
	if _, err := QuoteSwap(p, SwapBuy, 1); !errors.Is(err, ErrTooSmall) {
		t.Fatal(err)
	}
	if _, err := QuoteSwap(Pool{ReserveMt: math.MaxUint64, ReserveNative: 10}, SwapSell, math.MaxUint64); !errors.Is(err, ErrOverflow) {
		t.Fatal(err)
	}
}

func TestAmountInForIsTheSmallestThatPays(t *testing.T) {
	p := Pool{ReserveMt: 20_000_000_000, ReserveNative: 11_700_000_000, SwapFeeBps: 30, ProtocolShareBps: 5_000}
	for _, side := range []SwapSide{SwapBuy, SwapSell} {
		for _, want := range []uint64{1, 999, 1_000_000, 5_000_000_000} {
			in, q, err := AmountInFor(p, side, want)
			if err != nil {
				t.Fatalf("%v %d: %v", side, want, err)
			}
			if q.AmountOut < want {
				t.Fatalf("%v %d: pays %d", side, want, q.AmountOut)
			}
			if prev, err := QuoteSwap(p, side, in-1); err == nil && prev.AmountOut >= want {
				t.Fatalf("%v %d: %d also pays", side, want, in-1)
			}
		}
	}
	if _, _, err := AmountInFor(p, SwapBuy, p.ReserveMt); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("the whole reserve: %v", err)
	}
}

func TestMinOut(t *testing.T) {
	if MinOut(1_000, 100) != 990 || MinOut(999, 1) != 998 || MinOut(5, 10_000) != 0 || MinOut(5, 0) != 5 {
		t.Fatal("MinOut")
	}
}

// FuzzQuoteSwap checks what the program enforces on any pool and amount:
// the fee parts sum to the fee, k never decreases and the trader never
// takes the whole of a side.
func FuzzQuoteSwap(f *testing.F) {
	f.Add(uint64(1_000_000), uint64(1_000_000), uint64(1000), uint16(30), uint16(5000), true)
	f.Fuzz(func(t *testing.T, x, y, in uint64, fee, share uint16, buy bool) {
		fee, share = fee%10_001, share%10_001
		if x == 0 || y == 0 {
			return
		}
		side := SwapSell
		if buy {
			side = SwapBuy
		}
		q, err := QuoteSwap(Pool{ReserveMt: x, ReserveNative: y, SwapFeeBps: fee, ProtocolShareBps: share}, side, in)
		if err != nil {
			return
		}
		if q.ProtocolFee+q.ModelFee != q.Fee || (buy && q.AmountOut >= x) || (!buy && q.AmountOut >= y) {
			t.Fatalf("quote %+v from %d/%d", q, x, y)
		}
	})
}
