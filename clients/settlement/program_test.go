package settlement_test

// Property tests: the settlement arithmetic against inference_meter's and
// mt_treasury's own Rust code (tools/rulesoracle, bin/rulesoracle) on a few
// thousand random inputs each, edge values included.

import (
	"errors"
	"testing"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/internal/oracle"
	"github.com/modelcommons/modelcommons/clients/settlement"
)

const cases = 3000

func agree(t *testing.T, rule string, in any, r oracle.Reply, got any, err error, want any) {
	t.Helper()
	oracle.Agree(t, rule, in, r, got, err, want, func(err error) string {
		if errors.Is(err, meter.ErrMathOverflow) {
			return "MathOverflow"
		}
		return "unmapped error: " + err.Error()
	})
}

func TestShareCostMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range cases {
		input, output, inPrice, outPrice, weight := r.U64(), r.U64(), r.U64(), r.U64(), r.AnyBps()
		in := map[string]any{"input": input, "output": output, "input_per_1k": inPrice, "output_per_1k": outPrice, "weight_bps": weight}
		cost, err := settlement.ShareCost(input, output, inPrice, outPrice, weight)
		var want struct{ Cost uint64 }
		agree(t, "share_cost", in, o.Ask("share_cost", in), struct{ Cost uint64 }{cost}, err, &want)
	}
}

func TestSplitMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	type split struct {
		ToProtocol uint64 `json:"to_protocol"`
		ToOperator uint64 `json:"to_operator"`
		ToModel    uint64 `json:"to_model"`
	}
	for range cases {
		charged, fee, op := r.U64(), r.AnyBps(), r.AnyBps()
		if r.IntN(2) == 0 { // the meter's config keeps fee + operator ≤ 10 000
			op = uint16(r.Below(uint64(10_000 - min(fee, 10_000))))
		}
		in := map[string]any{"charged": charged, "fee_bps": fee, "operator_bps": op}
		s, err := settlement.SplitCharged(charged, fee, op)
		agree(t, "split", in, o.Ask("split", in), split(s), err, &split{})
	}
}

func TestDistributeMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	for range cases {
		// An entry has one to MAX_MODELS_PER_ENTRY (8) shares.
		costs := make([]uint64, 1+r.IntN(8))
		var total uint64
		for i := range costs {
			costs[i] = r.U64()
			if r.IntN(2) == 0 {
				costs[i] = r.Uint64N(1 << 40)
			}
			total += costs[i]
		}
		charged := r.Below(total)
		in := map[string]any{"costs": costs, "charged": charged}
		parts, err := settlement.Distribute(costs, charged)
		var want struct{ Parts []uint64 }
		agree(t, "distribute", in, o.Ask("distribute", in), struct{ Parts []uint64 }{parts}, err, &want)
	}
}

func TestPriceInEffectMatchesTheProgram(t *testing.T) {
	o, r := oracle.Start(t), oracle.NewRand(t)
	type price struct{ Input, Output uint64 }
	for range cases {
		p := settlement.Pricing{InputPer1k: r.U64(), OutputPer1k: r.U64(), PreviousInputPer1k: r.U64(), PreviousOutputPer1k: r.U64(), EffectiveAt: r.I64()}
		servedAt := r.I64()
		if r.IntN(2) == 0 {
			servedAt = p.EffectiveAt + int64(r.IntN(3)) - 1
		}
		in := map[string]any{
			"input_per_1k": p.InputPer1k, "output_per_1k": p.OutputPer1k, "previous_input_per_1k": p.PreviousInputPer1k,
			"previous_output_per_1k": p.PreviousOutputPer1k, "effective_at": p.EffectiveAt, "served_at": servedAt,
		}
		input, output := p.At(servedAt)
		agree(t, "price_at", in, o.Ask("price_at", in), price{input, output}, nil, &price{})
	}
}
