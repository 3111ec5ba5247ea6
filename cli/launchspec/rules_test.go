package launchspec

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/modelcommons/modelcommons/clients/programerr"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// The spec's explanations and the rule agree: on random terms, validate
// reports nothing exactly when rules.ValidateTerms (the program's
// validate_terms) accepts them, and when it refuses them one of the issues
// names the program error it refuses them with.
func TestExplanationsAgreeWithTheRule(t *testing.T) {
	seed := uint64(now.UnixNano())
	r := rand.New(rand.NewPCG(seed, seed))
	edge := func() uint64 {
		switch r.IntN(5) {
		case 0:
			return uint64(r.IntN(3))
		case 1:
			return math.MaxUint64 - uint64(r.IntN(2))
		default:
			return r.Uint64N(1 << 42)
		}
	}
	span := func() int64 { return int64(r.IntN(3*86400)) - 600 }
	bps := func() uint16 { return uint16(r.IntN(3)) * uint16(r.IntN(5001)) }
	base := Terms{
		Name: "T", Symbol: "T",
		HardSupply: 1_000_000 * MTUnit, CreatorAllocation: 200_000 * MTUnit, CrowdfundAllocation: 500_000 * MTUnit,
		LiquidityAllocation: 200_000 * MTUnit, RewardsAllocation: 100_000 * MTUnit,
		VestingCliffSecs: 30 * 86400, VestingDurationSecs: 365 * 86400,
		Price: 500_000, SoftCap: 10_000_000_000, HardCap: 250_000_000_000,
		Start: now.Unix(), End: now.Unix() + 14*86400, PerWalletCap: 5_000_000_000, LiquidityBps: 2000,
		QuorumBps: 2000, ThresholdBps: 5000, VotingPeriodSecs: 3 * 86400, HoldUpSecs: 86400, MinProposeMT: 1000 * MTUnit,
		DepositorShareBps: 7000, InputPricePer1k: 1000, OutputPricePer1k: 2000,
	}
	fields := []func(*Terms){
		func(t *Terms) { t.HardSupply = edge() }, func(t *Terms) { t.CreatorAllocation = edge() },
		func(t *Terms) { t.CrowdfundAllocation = edge() }, func(t *Terms) { t.LiquidityAllocation = edge() },
		func(t *Terms) { t.VestingCliffSecs = span() }, func(t *Terms) { t.VestingDurationSecs = span() },
		func(t *Terms) { t.Price = edge() }, func(t *Terms) { t.SoftCap = edge() }, func(t *Terms) { t.HardCap = edge() },
		func(t *Terms) { t.End = t.Start + span() }, func(t *Terms) { t.PerWalletCap = edge() },
		func(t *Terms) { t.LiquidityBps = bps() }, func(t *Terms) { t.AllowlistRoot = &[32]byte{} },
		func(t *Terms) { t.QuorumBps = bps() }, func(t *Terms) { t.ThresholdBps = bps() },
		func(t *Terms) { t.VotingPeriodSecs = span() }, func(t *Terms) { t.HoldUpSecs = span() },
		func(t *Terms) { t.MinProposeMT = edge() },
		func(t *Terms) { t.InputPricePer1k = edge() }, func(t *Terms) { t.OutputPricePer1k = edge() },
		// A soft cap at the edge of reachability: above a whole MT per
		// unit of price, a sold-out raise can stop short of the hard cap.
		func(t *Terms) {
			t.Price = MTUnit + r.Uint64N(1_000*MTUnit)
			t.SoftCap = t.HardCap - r.Uint64N(min(t.HardCap, t.Price/MTUnit+2)+1)
		},
	}
	e := env()
	e.ProtocolFeeBps = 250
	accepted := 0
	for range 5000 {
		terms := base
		for range 1 + r.IntN(2) {
			fields[r.IntN(len(fields))](&terms)
		}
		issues := validate(terms, e, map[string]bool{})
		err := rules.ValidateTerms(terms.Args(), e.MinPeriodSecs, e.ProtocolFeeBps, e.Now.Unix())
		var pe *programerr.Error
		switch {
		case err == nil && len(issues) == 0:
			accepted++
		case err == nil:
			t.Fatalf("%+v: the program accepts these terms, the spec reports %v (seed %d)", terms, issues, seed)
		case !errors.As(err, &pe):
			t.Fatalf("%+v: ValidateTerms returned %v, not a program error (seed %d)", terms, err, seed)
		case !named(issues, pe.Name):
			t.Fatalf("%+v: the program refuses with %s, the spec reports %v (seed %d)", terms, pe.Name, issues, seed)
		}
	}
	if accepted == 0 {
		t.Fatal("no random terms were valid: the test no longer exercises acceptance")
	}
}

func named(issues Issues, programErr string) bool {
	for _, i := range issues {
		if i.ProgramError == programErr {
			return true
		}
	}
	return false
}
