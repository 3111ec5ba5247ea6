package market

import (
	"errors"
	"testing"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func TestQuoteSwap(t *testing.T) {
	pool := mt.Market{OpenedAt: 1, ReserveMt: 1_000_000, ReserveNative: 1_000_000}
	// Buy 1000 native at 30 bps: fee ceil(3) = 3, net 997, out = 1e6·997/(1e6+997) = 996.
	q, err := QuoteSwap(pool, mt.SwapSide_Buy, 1000, 30, 5000)
	if err != nil || q.AmountOut != 996 || q.Fee != 3 || q.ProtocolFee != 2 || q.ModelFee != 1 || q.ReserveNative != 1_000_997 || q.ReserveMT != 999_004 {
		t.Errorf("buy: %+v, %v", q, err)
	}
	// Sell 1000 MT: gross 999, fee ceil(2.997) = 3, out 996.
	q, err = QuoteSwap(pool, mt.SwapSide_Sell, 1000, 30, 5000)
	if err != nil || q.AmountOut != 996 || q.Fee != 3 || q.ReserveMT != 1_001_000 || q.ReserveNative != 999_001 {
		t.Errorf("sell: %+v, %v", q, err)
	}
	if _, err := QuoteSwap(pool, mt.SwapSide_Buy, 1, 30, 5000); !errors.Is(err, ErrTooSmall) {
		t.Errorf("dust: %v", err)
	}
	if _, err := QuoteSwap(mt.Market{}, mt.SwapSide_Buy, 10, 30, 5000); !errors.Is(err, ErrNotOpen) {
		t.Errorf("closed: %v", err)
	}
	if MinOut(1000, 100) != 990 || MinOut(7, 0) != 7 {
		t.Error("MinOut")
	}
}

// FuzzQuoteSwap checks the invariant the program enforces: k never
// decreases and the trader never gets more than the pool held.
func FuzzQuoteSwap(f *testing.F) {
	f.Add(uint64(1_000_000), uint64(1_000_000), uint64(1000), uint16(30), uint16(5000), true)
	f.Fuzz(func(t *testing.T, x, y, in uint64, fee, share uint16, buy bool) {
		fee, share = fee%10_001, share%10_001
		if x == 0 || y == 0 {
			return
		}
		side := mt.SwapSide_Sell
		if buy {
			side = mt.SwapSide_Buy
		}
		q, err := QuoteSwap(mt.Market{OpenedAt: 1, ReserveMt: x, ReserveNative: y}, side, in, fee, share)
		if err != nil {
			return
		}
		if q.ProtocolFee+q.ModelFee != q.Fee || (buy && q.AmountOut >= x) || (!buy && q.AmountOut >= y) {
			t.Fatalf("quote %+v from %d/%d", q, x, y)
		}
	})
}
