package settler

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// domainChain is testChain for a member of a domain whose membership is m,
// with one escrow's lane to the domain.
func domainChain(escrow solana.PublicKey, m *im.Membership) *chainState {
	cs := testChain(map[solana.PublicKey]escrowInfo{escrow: {Target: escrow, State: lane(1_000_000)}})
	cs.state.Domain = &settlement.DomainState{Domain: &im.Domain{FeeBps: 1_000, PreviousFeeBps: 1_000}, Membership: m}
	cs.domain = &settlement.DomainLane{Domain: solana.NewWallet().PublicKey(), OperatorAccount: solana.NewWallet().PublicKey()}
	return cs
}

// A member admitted at 1 300 and removed at 1 800 (notice until 2 500):
// runs served before admission or at/after removal are written off as
// served_outside_membership, never sent; the runs in between settle, even
// those numbered after a run outside (nothing holds them back).
func TestPlanRunsWritesOffRunsServedOutsideTheMembership(t *testing.T) {
	escrow := solana.NewWallet().PublicKey()
	removed := &im.Membership{Status: im.MembershipStatus_Removed, AdmittedAt: 1_300, EndedAt: 1_800, SettleUntil: 2_500}
	seq := uint64(0)
	r := func(sec int64) run {
		seq++
		return run{ID: runID(sec, byte(seq)), Seq: seq, Escrow: escrow, Shares: share(2), ServedMs: sec*1_000 + 250, In: 100, Out: 10, Cost: 1}
	}
	runs := []run{r(1_299), r(1_300), r(1_500), r(1_800), r(1_799), r(1_900)}
	p := planRuns(testView(), domainChain(escrow, removed), runs, time.Minute, slog.New(slog.DiscardHandler))
	var okSeqs []uint64
	for _, o := range p.ok {
		okSeqs = append(okSeqs, o.Seq)
	}
	if !slices.Equal(okSeqs, []uint64{2, 3, 5}) || p.deferred != 0 {
		t.Fatalf("settleable runs %v (deferred %d), want 2, 3, 5", okSeqs, p.deferred)
	}
	if got := p.writeOffs[ReasonOutsideMembership]; !slices.Equal(got, []receipts.RunID{runs[0].ID, runs[3].ID, runs[5].ID}) {
		t.Fatalf("written off %v, want runs 1, 4, 6", p.writeOffs)
	}
	// What is left settles against the chain's own rules.
	entries := entriesOf(p.ok)
	l, err := settlement.Build(1, [32]byte{}, settlement.Runs{First: 1, Last: 6}, []settlement.Entry{entries[0].Entry})
	if err != nil {
		t.Fatal(err)
	}
	cs := domainChain(escrow, removed)
	l.Domain = cs.domain
	if _, err := settlement.Settle(cs.state, l); err != nil {
		t.Fatalf("the planned entry: %v", err)
	}

	// After the notice no run can settle against the domain any more.
	late := testView()
	late.Now = 2_501
	cs = domainChain(escrow, removed)
	cs.state.Now = late.Now
	p = planRuns(late, cs, runs[1:3], time.Minute, slog.New(slog.DiscardHandler))
	if len(p.ok) != 0 || len(p.writeOffs[ReasonMembershipEnded]) != 2 {
		t.Fatalf("after the notice: ok %d, written off %v", len(p.ok), p.writeOffs)
	}
}

// A lane left by an earlier domain at the same address can never pay this
// domain's runs: written off as domain_lane_stale.
func TestPlanRunsWritesOffRunsOnAStaleDomainLane(t *testing.T) {
	escrow := solana.NewWallet().PublicKey()
	cs := domainChain(escrow, &im.Membership{Status: im.MembershipStatus_Admitted, AdmittedAt: 1_000})
	cs.state.Domain.Domain.Serial = 7 // the lane recorded serial 0
	runs := []run{{ID: runID(1_500, 1), Seq: 1, Escrow: escrow, Shares: share(2), ServedMs: 1_500_000, In: 100, Out: 10, Cost: 1}}
	p := planRuns(testView(), cs, runs, time.Minute, slog.New(slog.DiscardHandler))
	if len(p.ok) != 0 || len(p.writeOffs[ReasonStaleLane]) != 1 {
		t.Fatalf("ok %d, written off %v", len(p.ok), p.writeOffs)
	}
}
