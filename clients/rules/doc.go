// Package rules is the one off-chain copy of each mt_treasury rule that the
// CLI, the Actions server, the keeper's cranks, the demo and the benchmarks
// apply: what a contribution buys and when a raise is due (raise.go), the
// proposal tally and when a proposal is due (proposal.go), vote weight
// (governance.go), rewards pending (revenue.go), swap quotes and the
// market's seed (market.go), and inference_meter's domain rules: names,
// terms, membership windows and the domain fee (domain.go).
//
// Each function mirrors one function of the program and names it, with the
// program's rounding and overflow behaviour; the program decides, these let
// a caller see the outcome first and refuse before sending what the program
// would refuse. Nothing here reads the network.
package rules

import "errors"

// Errors shared by the rules, mirroring the program's.
var (
	// ErrOverflow mirrors mt_treasury.MathOverflow: a result passes u64.
	ErrOverflow = errors.New("arithmetic overflow")
	// ErrZeroAmount mirrors mt_treasury.ZeroAmount.
	ErrZeroAmount = errors.New("the amount must be greater than zero")
)
