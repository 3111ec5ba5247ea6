package dao

import (
	"math/big"

	binary "github.com/gagliardetto/binary"
)

// accScale is the reward accumulator's scale (state::ACC_SCALE).
var accScale = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)

func u128(v binary.Uint128) *big.Int {
	hi := new(big.Int).SetUint64(v.Hi)
	return hi.Lsh(hi, 64).Or(hi, new(big.Int).SetUint64(v.Lo))
}
