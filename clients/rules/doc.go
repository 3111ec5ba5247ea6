// Package rules is the one off-chain copy of each mt_treasury rule that the
// CLI, the Actions server, the keeper's cranks, the demo and the benchmarks
// apply: what a contribution buys and when a raise is due (raise.go), the
// launch terms, the smallest sold-out raise and the split of a raise's
// proceeds (launch.go), the proposal tally, quorum and when a proposal is
// due (proposal.go), vote weight (governance.go), rewards pending and the
// revenue accumulator (revenue.go) and swap quotes and the market's seed
// (market.go). The settlement arithmetic is in clients/settlement.
// inference_meter's domain rules (names, terms, membership windows and
// the domain fee) are in domain.go.
//
// Each function copies one function of the program and names it, with the
// program's rounding and overflow behaviour; the program decides, these let
// a caller see the outcome first and refuse before sending what the program
// would refuse. program_test.go holds each to that: it compares them with
// the program's own Rust code (bin/rulesoracle, built by scripts/setup.sh)
// on thousands of random and edge inputs. Limits and scales come from the
// generated clients (the programs' #[constant]s), never typed here. Nothing
// here reads the network.
package rules

import "errors"

// Errors shared by the rules, standing for the program's.
var (
	// ErrOverflow is mt_treasury.MathOverflow: a result passes u64.
	ErrOverflow = errors.New("arithmetic overflow")
	// ErrZeroAmount is mt_treasury.ZeroAmount.
	ErrZeroAmount = errors.New("the amount must be greater than zero")
)
