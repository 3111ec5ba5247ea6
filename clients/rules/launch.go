package rules

// The launch terms of mt_treasury (programs/mt-treasury/src/instructions/
// launch_model.rs and state/model.rs): what launch_model accepts, the
// smallest raise that can sell out, and how a successful raise's proceeds
// split. The CLI's launch spec explains each failure to the user; the rule
// itself lives here.

import (
	"math/big"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// MinSoldOutRaise is launch_model::min_sold_out_raise: the smallest amount a
// sold-out raise can have raised at price under hardCap. A raise is sold out
// once what is left under the hard cap buys no MT base unit (room × 10^6 <
// price), so a sold-out raise has raised at least
// ⌈(hardCap × 10^6 − price + 1) / 10^6⌉, capped at the hard cap.
func MinSoldOutRaise(price, hardCap uint64) uint64 {
	unit := big.NewInt(int64(MTUnit))
	floor := new(big.Int).Mul(u(hardCap), unit)
	floor.Sub(floor, u(price))
	if floor.Sign() < 0 {
		floor.SetInt64(0)
	}
	floor.Add(floor, big.NewInt(1))
	floor.Add(floor, new(big.Int).Sub(unit, big.NewInt(1)))
	floor.Quo(floor, unit)
	if floor.Cmp(u(hardCap)) > 0 {
		return hardCap
	}
	return floor.Uint64()
}

// Proceeds is how a successful raise's proceeds split, in native base units.
type Proceeds struct {
	ProtocolFee, Liquidity, Treasury uint64
}

// ProceedsOf is Crowdfund::proceeds: the protocol fee fixed at launch
// (rounded up) first, then LiquidityBps of the rest (rounded down) for the
// market, the remainder to the model treasury. The parts sum to Raised.
func ProceedsOf(c mt.Crowdfund) (Proceeds, error) {
	fee, err := mulDiv(c.Raised, uint64(c.ProtocolFeeBps), bps, true)
	if err != nil {
		return Proceeds{}, err
	}
	if fee > c.Raised {
		return Proceeds{}, ErrOverflow
	}
	net := c.Raised - fee
	liquidity, err := mulDiv(net, uint64(c.LiquidityBps), bps, false)
	if err != nil {
		return Proceeds{}, err
	}
	if liquidity > net {
		return Proceeds{}, ErrOverflow
	}
	return Proceeds{ProtocolFee: fee, Liquidity: liquidity, Treasury: net - liquidity}, nil
}

// ValidateTerms is launch_model::validate_terms: nil when launch_model
// accepts args under the protocol's minimum period and raise fee at now,
// else the first program error it would fail with (an *programerr.Error of
// clients/mt_treasury, in the program's order).
func ValidateTerms(args mt.LaunchModelArgs, minPeriodSecs int64, protocolFeeBps uint16, now int64) error {
	s, v, c, g := args.Supply, args.Vesting, args.Crowdfund, args.Governance
	checks := []struct {
		ok  func() bool
		err error
	}{
		{func() bool { return s.HardSupply > 0 }, mt.ErrZeroSupply},
		{func() bool {
			sum, over := sum64(s.Creator, s.Crowdfund, s.Liquidity, s.ContributorRewards)
			return !over && sum == s.HardSupply
		}, mt.ErrSupplySplitMismatch},
		{func() bool { return s.Crowdfund > 0 }, mt.ErrZeroSaleAllocation},
		{func() bool { return v.CliffSecs >= 0 && v.DurationSecs >= v.CliffSecs }, mt.ErrInvalidVesting},
		{func() bool { return c.Price > 0 }, mt.ErrZeroPrice},
		{func() bool { return c.SoftCap > 0 }, mt.ErrZeroSoftCap},
		{func() bool { return c.SoftCap <= c.HardCap }, mt.ErrSoftCapAboveHardCap},
		{func() bool { return uint64(c.LiquidityBps) <= bps }, mt.ErrInvalidBps},
		{func() bool { return c.End > c.Start }, mt.ErrEndBeforeStart},
	}
	for _, ch := range checks {
		if !ch.ok() {
			return ch.err
		}
	}
	// End > Start, so the window fits an i64 only if the subtraction does not wrap.
	window, over := sub64(c.End, c.Start)
	if over {
		return mt.ErrMathOverflow
	}
	if window < minPeriodSecs {
		return mt.ErrPeriodTooShort
	}
	remaining, over := sub64(c.End, now)
	if over {
		return mt.ErrMathOverflow
	}
	if remaining < minPeriodSecs {
		return mt.ErrEndTooSoon
	}
	if c.AllowlistRoot != nil && *c.AllowlistRoot == [32]byte{} {
		return mt.ErrZeroAllowlistRoot
	}
	terms := mt.Crowdfund{Price: c.Price, SoftCap: c.SoftCap, HardCap: c.HardCap, LiquidityBps: c.LiquidityBps}
	hardCapMT, err := MTFor(terms, c.HardCap)
	if err != nil {
		return mt.ErrMathOverflow
	}
	if hardCapMT == 0 {
		return mt.ErrHardCapTooSmall
	}
	if hardCapMT > s.Crowdfund {
		return mt.ErrHardCapExceedsSale
	}
	walletMT, err := MTFor(terms, c.PerWalletCap)
	if err != nil {
		return mt.ErrMathOverflow
	}
	if walletMT == 0 {
		return mt.ErrWalletCapTooSmall
	}
	if c.SoftCap > MinSoldOutRaise(c.Price, c.HardCap) {
		return mt.ErrSoftCapUnreachable
	}
	if (s.Liquidity > 0) != (c.LiquidityBps > 0) {
		return mt.ErrOneSidedLiquidity
	}
	if c.LiquidityBps > 0 {
		atSoftCap := terms
		atSoftCap.Raised, atSoftCap.ProtocolFeeBps = c.SoftCap, protocolFeeBps
		p, err := ProceedsOf(atSoftCap)
		if err != nil {
			return mt.ErrMathOverflow
		}
		if p.Liquidity == 0 {
			return mt.ErrLiquidityShareTooSmall
		}
	}
	switch {
	case uint64(g.QuorumBps) > bps || uint64(g.ThresholdBps) > bps:
		return mt.ErrInvalidBps
	case g.QuorumBps == 0 || g.ThresholdBps == 0:
		return mt.ErrZeroGovernanceBps
	case g.VotingPeriodSecs < minPeriodSecs || g.HoldUpSecs < minPeriodSecs:
		return mt.ErrPeriodTooShort
	case g.MinProposeMt > s.HardSupply:
		return mt.ErrProposeThresholdAboveSupply
	case uint64(args.DepositorShareBps) > bps:
		return mt.ErrInvalidBps
	}
	for _, p := range []uint64{args.Price.InputPer1k, args.Price.OutputPer1k} {
		if p == 0 {
			return mt.ErrZeroPrice
		}
		if p > mt.MAX_QUERY_PRICE_PER_1K {
			return mt.ErrPriceTooHigh
		}
	}
	return nil
}

// ValidateMetadata is create_model_token::validate_metadata: the name 1 to
// MAX_NAME_LEN bytes, the symbol 1 to MAX_SYMBOL_LEN, the URI at most
// MAX_URI_LEN (bytes of UTF-8, not characters).
func ValidateMetadata(name, symbol, uri string) error {
	switch {
	case len(name) == 0 || len(name) > int(mt.MAX_NAME_LEN):
		return mt.ErrInvalidName
	case len(symbol) == 0 || len(symbol) > int(mt.MAX_SYMBOL_LEN):
		return mt.ErrInvalidSymbol
	case len(uri) > int(mt.MAX_URI_LEN):
		return mt.ErrUriTooLong
	}
	return nil
}

// sum64 adds vs; over reports a sum past u64.
func sum64(vs ...uint64) (sum uint64, over bool) {
	for _, v := range vs {
		if sum > ^uint64(0)-v {
			return 0, true
		}
		sum += v
	}
	return sum, false
}

// sub64 is a − b; over reports a result outside i64 (Rust's checked_sub).
func sub64(a, b int64) (int64, bool) {
	d := a - b
	return d, (b > 0 && d > a) || (b < 0 && d < a)
}
