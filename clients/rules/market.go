package rules

// Swap quotes: QuoteSwap quotes a swap against a model's constant-product pool
// exactly as the mt_treasury program executes them (state/market.rs): the
// same 128-bit intermediates, the fee rounded up and taken on the native
// side, the output rounded down, the protocol's part of the fee rounded up
// and the model's part split like any revenue deposit. A quote made from
// the accounts a swap will read is the swap's result to the base unit;
// pass its AmountOut (or MinOut of it) as the swap's min_out.

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// Errors a quote can return; the program refuses the same swaps.
var (
	// ErrNotOpen: the model's market has not been opened (open_market).
	ErrNotOpen = errors.New("the model's market is not open")
	// ErrTooSmall mirrors mt_treasury.SwapTooSmall: the swap would pay out nothing.
	ErrTooSmall = errors.New("the swap is too small: it would pay out nothing")
	// ErrInvariant mirrors mt_treasury.PoolInvariant: the swap would lower
	// k or empty a side of the pool.
	ErrInvariant = errors.New("the swap would break the pool invariant")
	// ErrUnreachable: no amount in buys the asked-for output.
	ErrUnreachable = errors.New("the pool cannot pay that much")
)

// SwapSide is which way a swap goes.
type SwapSide uint8

const (
	// SwapBuy pays native tokens and receives MT.
	SwapBuy SwapSide = iota
	// SwapSell pays MT and receives native tokens.
	SwapSell
)

func (s SwapSide) String() string {
	if s == SwapBuy {
		return "buy"
	}
	return "sell"
}

// Program is the generated client's side value for s.
func (s SwapSide) Program() mt.SwapSide {
	if s == SwapBuy {
		return mt.SwapSide_Buy
	}
	return mt.SwapSide_Sell
}

// Pool is the state a swap reads: the model's market reserves, the
// protocol's fee settings and the model's revenue rule.
type Pool struct {
	ReserveMt     uint64
	ReserveNative uint64
	// SwapFeeBps and ProtocolShareBps are the protocol's swap_fee_bps and swap_protocol_share_bps.
	SwapFeeBps       uint16
	ProtocolShareBps uint16
	// DepositorShareBps and EarningMt are the model's revenue rule and its
	// earning (warmed-up) deposited MT: they decide where the model's part of the fee goes.
	DepositorShareBps uint16
	EarningMt         uint64
}

// FromAccounts reads a Pool from decoded Model and Protocol accounts.
func FromAccounts(m *mt.Model, p *mt.Protocol) (Pool, error) {
	if m.Market.OpenedAt == 0 {
		return Pool{}, ErrNotOpen
	}
	return PoolOf(m.Market, m, p), nil
}

// PoolOf is the Pool of reserves market (the model's, or the one
// open_market will seed from MarketSeed) under m's revenue rule and p's fees.
func PoolOf(market mt.Market, m *mt.Model, p *mt.Protocol) Pool {
	return Pool{
		ReserveMt: market.ReserveMt, ReserveNative: market.ReserveNative,
		SwapFeeBps: p.SwapFeeBps, ProtocolShareBps: p.SwapProtocolShareBps,
		DepositorShareBps: m.Revenue.DepositorShareBps, EarningMt: m.Revenue.TotalDeposited,
	}
}

// SwapSideOf is the side for the generated client's side value.
func SwapSideOf(s mt.SwapSide) SwapSide {
	if s == mt.SwapSide_Buy {
		return SwapBuy
	}
	return SwapSell
}

// Quote is everything a swap moves, in base units.
type Quote struct {
	Side SwapSide
	// AmountIn is what the trader pays (native for a buy, MT for a sell);
	// AmountOut what they receive.
	AmountIn, AmountOut uint64
	// Fee is in native base units: ProtocolFee to the protocol's fee vault,
	// ModelFee the model's revenue (ToDepositors to the revenue vault,
	// ToTreasury to the model treasury).
	Fee, ProtocolFee, ModelFee uint64
	ToDepositors, ToTreasury   uint64
	// The reserves after the swap.
	ReserveMt, ReserveNative uint64
}

// mulDiv128 is floor(a*b/c) with a 128-bit product; ok is false when the
// result passes 2^64.
func mulDiv128(a, b, c uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return 0, false
	}
	q, _ := bits.Div64(hi, lo, c)
	return q, true
}

// bpsCeil is ceil(v*rate/10 000), as the program's bps_ceil.
func bpsCeil(v uint64, rate uint16) uint64 {
	hi, lo := bits.Mul64(v, uint64(rate))
	lo, carry := bits.Add64(lo, bps-1, 0)
	hi += carry
	q, _ := bits.Div64(hi, lo, bps)
	return q
}

// bpsFloor is floor(v*rate/10 000), as the program's bps_floor.
func bpsFloor(v uint64, rate uint16) uint64 {
	q, _ := mulDiv128(v, uint64(rate), bps)
	return q
}

// outGivenIn is floor(reserveOut*amountIn/(reserveIn+amountIn)) with a
// 128-bit denominator; ErrOverflow when the denominator is zero, as the
// program's out_given_in.
func outGivenIn(reserveIn, reserveOut, amountIn uint64) (uint64, error) {
	sum, carry := bits.Add64(reserveIn, amountIn, 0)
	if carry == 0 {
		if sum == 0 {
			return 0, ErrOverflow
		}
		q, _ := mulDiv128(reserveOut, amountIn, sum)
		return q, nil
	}
	// The denominator passes 2^64 (only for absurd amounts): fall back to big integers.
	num := new(big.Int).Mul(new(big.Int).SetUint64(reserveOut), new(big.Int).SetUint64(amountIn))
	den := new(big.Int).Add(new(big.Int).SetUint64(reserveIn), new(big.Int).SetUint64(amountIn))
	return num.Quo(num, den).Uint64(), nil
}

// QuoteSwap is what swapping amountIn on side does to p, exactly as the program computes it.
func QuoteSwap(p Pool, side SwapSide, amountIn uint64) (Quote, error) {
	if amountIn == 0 {
		return Quote{}, ErrZeroAmount
	}
	q := Quote{Side: side, AmountIn: amountIn}
	x, y := p.ReserveMt, p.ReserveNative
	switch side {
	case SwapBuy:
		q.Fee = bpsCeil(amountIn, p.SwapFeeBps)
		net := amountIn - q.Fee
		out, err := outGivenIn(y, x, net)
		if err != nil {
			return Quote{}, err
		}
		q.AmountOut = out
		if q.AmountOut == 0 {
			return Quote{}, ErrTooSmall
		}
		if y > math.MaxUint64-net {
			return Quote{}, fmt.Errorf("the swap would overflow the pool's reserves: %w", ErrOverflow)
		}
		q.ReserveMt, q.ReserveNative = x-q.AmountOut, y+net
	case SwapSell:
		gross, err := outGivenIn(x, y, amountIn)
		if err != nil {
			return Quote{}, err
		}
		q.Fee = bpsCeil(gross, p.SwapFeeBps)
		q.AmountOut = gross - q.Fee
		if q.AmountOut == 0 {
			return Quote{}, ErrTooSmall
		}
		if x > math.MaxUint64-amountIn {
			return Quote{}, fmt.Errorf("the swap would overflow the pool's reserves: %w", ErrOverflow)
		}
		q.ReserveMt, q.ReserveNative = x+amountIn, y-gross
	default:
		return Quote{}, fmt.Errorf("unknown swap side %d", side)
	}
	q.ProtocolFee = bpsCeil(q.Fee, p.ProtocolShareBps)
	q.ModelFee = q.Fee - q.ProtocolFee
	k := new(big.Int).Mul(new(big.Int).SetUint64(x), new(big.Int).SetUint64(y))
	k2 := new(big.Int).Mul(new(big.Int).SetUint64(q.ReserveMt), new(big.Int).SetUint64(q.ReserveNative))
	if k2.Cmp(k) < 0 || q.ReserveMt == 0 || q.ReserveNative == 0 {
		return Quote{}, ErrInvariant
	}
	q.ToDepositors, q.ToTreasury = SplitRevenue(q.ModelFee, p.DepositorShareBps, p.EarningMt)
	return q, nil
}

// SplitRevenue splits a revenue amount as deposit_revenue does: the
// depositors' share rounded down (none while no MT earns), the rest to the treasury.
func SplitRevenue(amount uint64, depositorShareBps uint16, earningMt uint64) (toDepositors, toTreasury uint64) {
	if earningMt > 0 {
		toDepositors = bpsFloor(amount, depositorShareBps)
	}
	return toDepositors, amount - toDepositors
}

// MinOut is out less a slippage tolerance of slippageBps, rounded down:
// the min_out to send with a quote's AmountOut.
func MinOut(out uint64, slippageBps uint16) uint64 {
	if uint64(slippageBps) >= bps {
		return 0
	}
	q, _ := mulDiv128(out, bps-uint64(slippageBps), bps)
	return q
}

// AmountInFor is the smallest amount in on side whose quote pays at least
// wantOut (for "buy exactly N MT" or "sell for at least N native"), with that quote.
func AmountInFor(p Pool, side SwapSide, wantOut uint64) (uint64, Quote, error) {
	if wantOut == 0 {
		return 0, Quote{}, ErrZeroAmount
	}
	pays := func(in uint64) (Quote, bool) {
		q, err := QuoteSwap(p, side, in)
		return q, err == nil && q.AmountOut >= wantOut
	}
	// The output grows with the input: find an upper bound, then bisect.
	hi := uint64(1)
	for {
		if _, ok := pays(hi); ok {
			break
		}
		if hi > math.MaxUint64/2 {
			return 0, Quote{}, ErrUnreachable
		}
		hi *= 2
	}
	lo := hi / 2 // pays(lo) is false (or lo is 0)
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if _, ok := pays(mid); ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	q, _ := pays(hi)
	return hi, q, nil
}

// SpotPrice is the pool's marginal price in native base units per whole MT
// (10^6 MT base units), as a float for display only.
func SpotPrice(p Pool) float64 {
	if p.ReserveMt == 0 {
		return 0
	}
	return float64(p.ReserveNative) / float64(p.ReserveMt) * 1e6
}

// MarketSeed is OpenMarket::seed: the reserves (MT, native base units) the
// model's pool opens with — the amounts the program recorded (the MT
// liquidity allocation and the share of the raise moved to the pool at
// finalisation), never the vaults' balances, which anyone can top up.
// ok is false when either side is zero (open_market fails with NoLiquidity).
func MarketSeed(m *mt.Model) (reserveMT, reserveNative uint64, ok bool) {
	reserveMT, reserveNative = m.Supply.Liquidity, m.Crowdfund.LiquidityNative
	return reserveMT, reserveNative, reserveMT > 0 && reserveNative > 0
}
