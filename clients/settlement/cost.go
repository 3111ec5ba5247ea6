package settlement

import (
	"fmt"
	"math"
	"math/bits"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// The program's constants, generated from its IDL.
const (
	// BPS is 100% in basis points, typed as a share's weight.
	BPS = uint16(meter.BPS_DENOMINATOR)
	// TokensPerPrice: prices are per this many tokens.
	TokensPerPrice = meter.TOKENS_PER_PRICE
)

// Pricing is a model's per-query price (mt_treasury QueryPricing): native
// base units per 1 000 input and output tokens, switching from the previous
// price to the current one at EffectiveAt (unix seconds).
type Pricing struct {
	InputPer1k, OutputPer1k                 uint64
	PreviousInputPer1k, PreviousOutputPer1k uint64
	EffectiveAt                             int64
}

// PricingOf reads a decoded mt_treasury Model's pricing.
func PricingOf(m *mt.Model) Pricing {
	p := m.Pricing
	return Pricing{
		InputPer1k: p.InputPer1k, OutputPer1k: p.OutputPer1k,
		PreviousInputPer1k: p.PreviousInputPer1k, PreviousOutputPer1k: p.PreviousOutputPer1k,
		EffectiveAt: p.EffectiveAt,
	}
}

// Current reports whether a run served at servedAt pays the current price
// (from EffectiveAt, inclusive) rather than the previous one.
func (p Pricing) Current(servedAt int64) bool { return servedAt >= p.EffectiveAt }

// At is the (input, output) price per 1 000 tokens for runs served at
// servedAt: the current price from EffectiveAt (inclusive), the previous
// one before.
func (p Pricing) At(servedAt int64) (input, output uint64) {
	if p.Current(servedAt) {
		return p.InputPer1k, p.OutputPer1k
	}
	return p.PreviousInputPer1k, p.PreviousOutputPer1k
}

// ShareCost is what one model's share of an entry costs:
// ceil(weightBps × (input × inputPer1k + output × outputPer1k) / (10 000 × 1 000)).
// It fails with ErrMathOverflow exactly when the program does.
func ShareCost(input, output, inputPer1k, outputPer1k uint64, weightBps uint16) (uint64, error) {
	h1, l1 := bits.Mul64(input, inputPer1k)
	h2, l2 := bits.Mul64(output, outputPer1k)
	lo, carry := bits.Add64(l1, l2, 0)
	hi, carry := bits.Add64(h1, h2, carry)
	if carry != 0 {
		return 0, overflow("input × price + output × price")
	}
	// × weight, still within 128 bits.
	w := uint64(weightBps)
	carryHi, wlo := bits.Mul64(lo, w)
	hiHi, hiLo := bits.Mul64(hi, w)
	whi, carry := bits.Add64(hiLo, carryHi, 0)
	if hiHi != 0 || carry != 0 {
		return 0, overflow("weighted cost")
	}
	return divCeil128(whi, wlo, meter.BPS_DENOMINATOR*TokensPerPrice)
}

// divCeil128 is ceil((hi·2^64 + lo) / d) when it fits in a u64.
func divCeil128(hi, lo, d uint64) (uint64, error) {
	if hi >= d {
		return 0, overflow("cost above u64")
	}
	q, r := bits.Div64(hi, lo, d)
	if r != 0 {
		if q == math.MaxUint64 {
			return 0, overflow("cost above u64")
		}
		q++
	}
	return q, nil
}

// MulDivFloor is floor(value × num / den) with a 128-bit product.
func MulDivFloor(value, num, den uint64) (uint64, error) {
	if den == 0 {
		return 0, overflow("division by zero")
	}
	hi, lo := bits.Mul64(value, num)
	if hi >= den {
		return 0, overflow("quotient above u64")
	}
	q, _ := bits.Div64(hi, lo, den)
	return q, nil
}

// MulDivCeil is ceil(value × num / den) with a 128-bit product.
func MulDivCeil(value, num, den uint64) (uint64, error) {
	if den == 0 {
		return 0, overflow("division by zero")
	}
	hi, lo := bits.Mul64(value, num)
	return divCeil128(hi, lo, den)
}

// Distribute spreads charged (at most the sum of costs) over the shares in
// proportion to their costs: every share but the last gets
// floor(cost × charged / total), the last gets the remainder. With charged
// equal to the total, each share gets its cost.
func Distribute(costs []uint64, charged uint64) ([]uint64, error) {
	var total uint64
	for _, c := range costs {
		var carry uint64
		total, carry = bits.Add64(total, c, 0)
		if carry != 0 {
			return nil, overflow("entry cost")
		}
	}
	if charged > total || len(costs) == 0 {
		return nil, overflow("charged above cost")
	}
	parts := make([]uint64, len(costs))
	if charged == total {
		copy(parts, costs)
		return parts, nil
	}
	var given uint64
	for i, c := range costs {
		if i == len(costs)-1 {
			parts[i] = charged - given
			break
		}
		p, err := MulDivFloor(c, charged, total)
		if err != nil {
			return nil, err
		}
		parts[i] = p
		given += p
	}
	return parts, nil
}

// Split is how one model's settled money divides.
type Split struct {
	ToProtocol, ToOperator, ToModel uint64
}

// SplitCharged divides charged: the protocol fee rounds up, the operator
// share rounds down, the model gets the rest. feeBps + operatorBps ≤ 10 000.
func SplitCharged(charged uint64, feeBps, operatorBps uint16) (Split, error) {
	fee, err := MulDivCeil(charged, uint64(feeBps), meter.BPS_DENOMINATOR)
	if err != nil {
		return Split{}, err
	}
	op, err := MulDivFloor(charged, uint64(operatorBps), meter.BPS_DENOMINATOR)
	if err != nil {
		return Split{}, err
	}
	if fee > charged || op > charged-fee {
		return Split{}, overflow("fee and operator share above 100%")
	}
	return Split{ToProtocol: fee, ToOperator: op, ToModel: charged - fee - op}, nil
}

// Quote is the full price of one entry: the sum of its shares' costs at the
// prices in effect at servedAt. pricing returns each share's model pricing.
func Quote(shares []Share, input, output uint64, servedAt int64, pricing func(Share) Pricing) (uint64, error) {
	var total uint64
	for _, s := range shares {
		in, out := pricing(s).At(servedAt)
		c, err := ShareCost(input, output, in, out, s.WeightBps)
		if err != nil {
			return 0, err
		}
		var carry uint64
		total, carry = bits.Add64(total, c, 0)
		if carry != 0 {
			return 0, overflow("entry cost")
		}
	}
	return total, nil
}

func overflow(what string) error {
	return fmt.Errorf("%s: %w", what, meter.ErrMathOverflow)
}
