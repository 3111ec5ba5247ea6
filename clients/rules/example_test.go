package rules_test

import (
	"fmt"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// What 1 000 native base units buy from a pool of a million on each side,
// at a 0.3 % fee of which half goes to the protocol, and the min_out to
// send with a 1 % slippage bound.
func ExampleQuoteSwap() {
	pool := rules.Pool{ReserveMt: 1_000_000, ReserveNative: 1_000_000, SwapFeeBps: 30, ProtocolShareBps: 5_000}
	q, err := rules.QuoteSwap(pool, rules.SwapBuy, 1_000)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("MT out:", q.AmountOut, "fee:", q.Fee, "protocol:", q.ProtocolFee, "model:", q.ModelFee)
	fmt.Println("min_out at 1%:", rules.MinOut(q.AmountOut, 100))
	// Output:
	// MT out: 996 fee: 3 protocol: 2 model: 1
	// min_out at 1%: 986
}

// A raise can be finalised once its window closes, or earlier once what is
// left under the hard cap buys nothing.
func ExampleRaiseDue() {
	c := mt.Crowdfund{Price: 2 * rules.MTUnit, HardCap: 100_000 * rules.MTUnit, End: 100, Raised: 10_000 * rules.MTUnit, Sold: 5_000 * rules.MTUnit}
	sale := uint64(50_000 * rules.MTUnit)
	for _, now := range []int64{99, 100} {
		due, err := rules.RaiseDue(c, now, sale)
		fmt.Println(now, due, err)
	}
	c.Raised, c.Sold = c.HardCap, sale
	due, _ := rules.RaiseDue(c, 50, sale)
	fmt.Println("sold out at 50:", due)
	// Output:
	// 99 false <nil>
	// 100 true <nil>
	// sold out at 50: true
}

// A proposal is decided early when no remaining vote could change the
// outcome: here 1 500 of 2 000 possible votes are yes.
func ExampleDecided() {
	p := &mt.Proposal{State: mt.ProposalState_Voting, VotingEnds: 100, Yes: 1_500,
		CirculatingSupply: 1_000, MaxVoteWeight: 2_000, QuorumBps: 1_000, ThresholdBps: 5_000}
	fmt.Println(rules.OutcomeNow(p), "/", rules.Decided(p), "/ due at 50:", rules.ProposalDue(p, 50))
	// Output:
	// passed / passed / due at 50: true
}

// What a contribution buys: MT rounds down, the cost of that MT rounds up,
// and a wallet cannot pass its cap.
func ExampleFillFor() {
	c := mt.Crowdfund{Price: 3 * rules.MTUnit, HardCap: 1_000 * rules.MTUnit, PerWalletCap: 100 * rules.MTUnit}
	f, err := rules.FillFor(c, 500*rules.MTUnit, 0, 10*rules.MTUnit)
	fmt.Println(f.MT, f.Cost, err)
	_, err = rules.FillFor(c, 500*rules.MTUnit, 95*rules.MTUnit, 10*rules.MTUnit)
	fmt.Println(err)
	// Output:
	// 3333333 9999999 <nil>
	// this contribution would take the wallet past the per-wallet cap
}
