package rules

import (
	"math/big"

	binary "github.com/gagliardetto/binary"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// accScale is the reward accumulator's scale (the program's ACC_SCALE).
var accScale = new(big.Int).SetUint64(mt.ACC_SCALE)

// u128 is a generated u128 field as a big integer.
func u128(v binary.Uint128) *big.Int {
	hi := new(big.Int).SetUint64(v.Hi)
	return hi.Lsh(hi, 64).Or(hi, new(big.Int).SetUint64(v.Lo))
}

// PendingOf is RevenueState::pending: rewards earned since the voter's last
// checkpoint by its earning (deposited, not warming) MT, rounded down.
// ErrOverflow for a checkpoint past the accumulator or a result past u64,
// where the program fails too (neither is a state the program records).
func PendingOf(rev mt.RevenueState, v *mt.Voter) (uint64, error) {
	acc, cp := u128(rev.AccPerShare), u128(v.RewardCheckpoint)
	if acc.Cmp(cp) < 0 {
		return 0, ErrOverflow
	}
	earning := v.Deposited - min(v.Warming, v.Deposited)
	owed := acc.Sub(acc, cp)
	owed.Mul(owed, new(big.Int).SetUint64(earning))
	owed.Quo(owed, accScale)
	if !owed.IsUint64() {
		return 0, ErrOverflow
	}
	return owed.Uint64(), nil
}

// Pending is PendingOf for display: 0 where the program would fail.
func Pending(rev mt.RevenueState, v *mt.Voter) uint64 {
	p, err := PendingOf(rev, v)
	if err != nil {
		return 0
	}
	return p
}

// Credit is how RevenueState::credit books a revenue deposit of amount:
// the split (SplitRevenue) and the accumulator after it, which rises by
// toDepositors × ACC_SCALE / TotalDeposited (rounded down).
type Credit struct {
	ToDepositors, ToTreasury uint64
	AccPerShare              binary.Uint128
}

// CreditOf is RevenueState::credit's effect on the accumulator.
func CreditOf(rev mt.RevenueState, amount uint64) (Credit, error) {
	var c Credit
	if rev.TotalDeposited > 0 {
		d, err := mulDiv(amount, uint64(rev.DepositorShareBps), bps, false)
		if err != nil {
			return Credit{}, err
		}
		if d > amount {
			return Credit{}, ErrOverflow
		}
		c.ToDepositors = d
	}
	c.ToTreasury = amount - c.ToDepositors
	acc := u128(rev.AccPerShare)
	if c.ToDepositors > 0 {
		inc := new(big.Int).Mul(new(big.Int).SetUint64(c.ToDepositors), accScale)
		inc.Quo(inc, new(big.Int).SetUint64(rev.TotalDeposited))
		acc.Add(acc, inc)
		if acc.BitLen() > 128 {
			return Credit{}, ErrOverflow
		}
	}
	c.AccPerShare = binary.Uint128{Lo: new(big.Int).And(acc, new(big.Int).SetUint64(^uint64(0))).Uint64(), Hi: new(big.Int).Rsh(acc, 64).Uint64()}
	return c, nil
}
