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

// Pending mirrors RevenueState::pending: rewards earned since the voter's
// last checkpoint by its earning (deposited, not warming) MT, rounded down;
// nothing for a checkpoint at or past the accumulator.
func Pending(rev mt.RevenueState, v *mt.Voter) uint64 {
	acc, cp := u128(rev.AccPerShare), u128(v.RewardCheckpoint)
	if acc.Cmp(cp) < 0 {
		return 0
	}
	earning := v.Deposited - min(v.Warming, v.Deposited)
	owed := acc.Sub(acc, cp)
	owed.Mul(owed, new(big.Int).SetUint64(earning))
	owed.Quo(owed, accScale)
	if !owed.IsUint64() {
		return ^uint64(0)
	}
	return owed.Uint64()
}
