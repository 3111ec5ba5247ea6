package market

import (
	"errors"
	"math/big"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// Errors mirroring the program's quote refusals.
var (
	ErrZeroAmount = errors.New("the amount must be greater than zero")
	ErrNotOpen    = errors.New("the market is not open")
	ErrTooSmall   = errors.New("the swap is too small: it would pay out nothing")
	ErrOverflow   = errors.New("arithmetic overflow")
	ErrInvariant  = errors.New("the swap would break the pool invariant")
)

// Quote is everything a swap moves, in base units (state::market::SwapQuote).
type Quote struct {
	AmountIn, AmountOut        uint64
	Fee, ProtocolFee, ModelFee uint64
	ReserveMT, ReserveNative   uint64
}

func bpsCeil(v uint64, bps uint16) (uint64, error) {
	p := new(big.Int).Mul(new(big.Int).SetUint64(v), big.NewInt(int64(bps)))
	q, r := p.QuoRem(p, big.NewInt(10_000), new(big.Int))
	if r.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsUint64() {
		return 0, ErrOverflow
	}
	return q.Uint64(), nil
}

// OutGivenIn is what paying in into the reserveIn side takes out of the
// reserveOut side of a constant-product pool, rounded down.
func OutGivenIn(reserveIn, reserveOut, in uint64) (uint64, error) {
	den := new(big.Int).Add(new(big.Int).SetUint64(reserveIn), new(big.Int).SetUint64(in))
	if den.Sign() == 0 {
		return 0, ErrOverflow
	}
	out := new(big.Int).Mul(new(big.Int).SetUint64(reserveOut), new(big.Int).SetUint64(in))
	out.Quo(out, den)
	if !out.IsUint64() {
		return 0, ErrOverflow
	}
	return out.Uint64(), nil
}

// QuoteSwap mirrors Market::quote: the fee is charged on the native side
// (rounded up), the output rounds down, the protocol's part of the fee
// rounds up, and k never decreases.
func QuoteSwap(m mt.Market, side mt.SwapSide, amountIn uint64, feeBps, protocolShareBps uint16) (Quote, error) {
	if amountIn == 0 {
		return Quote{}, ErrZeroAmount
	}
	if m.OpenedAt == 0 {
		return Quote{}, ErrNotOpen
	}
	x, y := m.ReserveMt, m.ReserveNative
	var q Quote
	switch side {
	case mt.SwapSide_Buy:
		fee, err := bpsCeil(amountIn, feeBps)
		if err != nil {
			return Quote{}, err
		}
		net := amountIn - fee
		out, err := OutGivenIn(y, x, net)
		if err != nil {
			return Quote{}, err
		}
		if out == 0 {
			return Quote{}, ErrTooSmall
		}
		if y+net < y {
			return Quote{}, ErrOverflow
		}
		q = Quote{AmountIn: amountIn, AmountOut: out, Fee: fee, ReserveMT: x - out, ReserveNative: y + net}
	default:
		gross, err := OutGivenIn(x, y, amountIn)
		if err != nil {
			return Quote{}, err
		}
		fee, err := bpsCeil(gross, feeBps)
		if err != nil {
			return Quote{}, err
		}
		out := gross - fee
		if out == 0 {
			return Quote{}, ErrTooSmall
		}
		if x+amountIn < x {
			return Quote{}, ErrOverflow
		}
		q = Quote{AmountIn: amountIn, AmountOut: out, Fee: fee, ReserveMT: x + amountIn, ReserveNative: y - gross}
	}
	pf, err := bpsCeil(q.Fee, protocolShareBps)
	if err != nil {
		return Quote{}, err
	}
	q.ProtocolFee, q.ModelFee = pf, q.Fee-pf
	k := new(big.Int).Mul(new(big.Int).SetUint64(x), new(big.Int).SetUint64(y))
	k2 := new(big.Int).Mul(new(big.Int).SetUint64(q.ReserveMT), new(big.Int).SetUint64(q.ReserveNative))
	if k2.Cmp(k) < 0 || q.ReserveMT == 0 || q.ReserveNative == 0 {
		return Quote{}, ErrInvariant
	}
	return q, nil
}

// MinOut is the fewest units to accept at slippageBps below a quote's output.
func MinOut(out uint64, slippageBps uint16) uint64 {
	v := new(big.Int).Mul(new(big.Int).SetUint64(out), big.NewInt(int64(10_000-int(slippageBps))))
	return v.Quo(v, big.NewInt(10_000)).Uint64()
}
