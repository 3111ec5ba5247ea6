package rules

// The crowdfund and vesting arithmetic of mt_treasury
// (programs/mt-treasury/src/state/model.rs and math.rs): what a
// contribution will buy, whether a raise can be finalised and what a
// creator can claim. Same rounding as the program: what a caller receives
// rounds down, what a caller pays rounds up; a result beyond u64 is an
// overflow.

import (
	"errors"
	"math/big"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// MTUnit is one whole MT in base units (the program's MT_UNIT).
const MTUnit = mt.MT_UNIT

// MTDecimals is every Model Token's decimals (the program's MT_DECIMALS).
const MTDecimals = mt.MT_DECIMALS

// Errors mirroring the program's, for the checks FillFor makes.
var (
	ErrHardCapReached    = errors.New("the hard cap has been reached: nothing is left to buy")
	ErrContributionSmall = errors.New("the amount is too small to buy one MT base unit at this price")
	ErrWalletCapExceeded = errors.New("this contribution would take the wallet past the per-wallet cap")
)

func mulDiv(v, num, den uint64, ceil bool) (uint64, error) {
	if den == 0 {
		return 0, ErrOverflow
	}
	p := new(big.Int).Mul(new(big.Int).SetUint64(v), new(big.Int).SetUint64(num))
	d := new(big.Int).SetUint64(den)
	q, r := new(big.Int).QuoRem(p, d, new(big.Int))
	if ceil && r.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsUint64() {
		return 0, ErrOverflow
	}
	return q.Uint64(), nil
}

// MTFor is the MT base units native buys at price, rounded down.
func MTFor(c mt.Crowdfund, native uint64) (uint64, error) {
	return mulDiv(native, MTUnit, c.Price, false)
}

// CostOf is the native base units mtAmount costs at price, rounded up.
func CostOf(c mt.Crowdfund, mtAmount uint64) (uint64, error) {
	return mulDiv(mtAmount, c.Price, MTUnit, true)
}

// RaiseOpen: contributions are accepted from start (inclusive) to end (exclusive).
func RaiseOpen(c mt.Crowdfund, now int64) bool { return c.Start <= now && now < c.End }

// RaiseSoldOut: what is left under the hard cap buys nothing, or the sale allocation is gone.
func RaiseSoldOut(c mt.Crowdfund, saleAllocation uint64) (bool, error) {
	if c.Raised > c.HardCap {
		return false, ErrOverflow
	}
	// The program tests the allocation first: a sold-out allocation never
	// reaches the division (which can overflow at a tiny price).
	if c.Sold >= saleAllocation {
		return true, nil
	}
	room, err := MTFor(c, c.HardCap-c.Raised)
	if err != nil {
		return false, err
	}
	return room == 0, nil
}

// RaiseDue is the program's Crowdfund::can_finalize, what finalize_raise
// accepts: the window has closed or nothing more can be bought.
// saleAllocation is the model's Supply.Crowdfund.
func RaiseDue(c mt.Crowdfund, now int64, saleAllocation uint64) (bool, error) {
	if now >= c.End {
		return true, nil
	}
	return RaiseSoldOut(c, saleAllocation)
}

// Fill is what a contribution buys.
type Fill struct {
	MT   uint64
	Cost uint64
}

// FillFor is the program's Crowdfund::fill: what offering `offered` buys
// for a wallet that has paid walletPaid so far.
func FillFor(c mt.Crowdfund, saleAllocation, walletPaid, offered uint64) (Fill, error) {
	if offered == 0 {
		return Fill{}, ErrZeroAmount
	}
	sold, err := RaiseSoldOut(c, saleAllocation)
	if err != nil {
		return Fill{}, err
	}
	if sold {
		return Fill{}, ErrHardCapReached
	}
	room := c.HardCap - c.Raised
	unsold := saleAllocation - c.Sold
	got, err := MTFor(c, min(offered, room))
	if err != nil {
		return Fill{}, err
	}
	got = min(got, unsold)
	if got == 0 {
		return Fill{}, ErrContributionSmall
	}
	cost, err := CostOf(c, got)
	if err != nil {
		return Fill{}, err
	}
	if walletPaid+cost < walletPaid {
		return Fill{}, ErrOverflow
	}
	if walletPaid+cost > c.PerWalletCap {
		return Fill{}, ErrWalletCapExceeded
	}
	return Fill{MT: got, Cost: cost}, nil
}

// Vested is the program's Vesting::vested: none before the cliff, all from
// start + duration, linear in between, rounded down.
func Vested(v mt.Vesting, total uint64, now int64) (uint64, error) {
	elapsed, over := sub64(now, v.Start)
	if over {
		return 0, ErrOverflow
	}
	if elapsed < v.CliffSecs || elapsed < 0 {
		return 0, nil
	}
	if elapsed >= v.DurationSecs {
		return total, nil
	}
	return mulDiv(total, uint64(elapsed), uint64(v.DurationSecs), false)
}

// Claimable is vested and not yet claimed.
func Claimable(v mt.Vesting, total uint64, now int64) (uint64, error) {
	vested, err := Vested(v, total, now)
	if err != nil {
		return 0, err
	}
	if vested < v.Claimed {
		return 0, ErrOverflow
	}
	return vested - v.Claimed, nil
}
