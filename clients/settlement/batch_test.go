package settlement

import (
	"errors"
	"testing"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
)

func flat(in, out uint64) Pricing {
	return Pricing{InputPer1k: in, OutputPer1k: out, PreviousInputPer1k: in, PreviousOutputPer1k: out}
}

func limit(v uint64) *uint64 { return &v }

// The first batch of the Rust happy path (tests/programs/tests/meter_settle.rs), worked by hand there.
func TestSettleMatchesTheHandWorkedBatch(t *testing.T) {
	a, b, c := key(1), key(2), key(3)
	alice, bob, dave := key(10), key(11), key(12)
	s := State{
		SettlementFeeBps: 100, OperatorShareBps: 2_000,
		Models: map[solana.PublicKey]Model{
			a: {ID: 0, Active: true, Pricing: flat(10, 30)},
			b: {ID: 1, Active: true, Pricing: Pricing{4, 12, 2, 6, 2_000}},
			c: {ID: 2, Active: true, Pricing: flat(5, 5)},
		},
		Escrows: map[solana.PublicKey]Escrow{
			alice: {HasLane: true, Balance: 100_000_000},
			bob:   {HasLane: true, Balance: 10_000_000, SpendLimit: limit(2_000), AllowedModels: []uint64{0, 1}},
			dave:  {HasLane: true, Balance: 1_000_000},
		},
		Now: 1_000,
	}
	l, err := Build(1, [32]byte{1}, Runs{1, 11}, []Entry{
		Single(alice, a, 3, 1_500, 700, 1_000),
		{Escrow: alice, Shares: []Share{{a, 6_000}, {b, 4_000}}, Runs: 1, InputTokens: 2_000, OutputTokens: 1_000, ServedAt: 1_000},
		Single(bob, b, 5, 333, 333, 1_000),
		Single(dave, c, 2, 1_000, 1_000, 1_000),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Settle(s, l)
	if err != nil {
		t.Fatal(err)
	}
	if out.Entries != 4 || out.Runs != 11 || out.Cost != 83 || out.Charged != 83 || out.ToProtocol != 3 || out.ToOperator != 16 || out.ToModels != 64 {
		t.Fatalf("outcome = %+v", out)
	}
	want := map[solana.PublicKey]uint64{a: 52, b: 5, c: 7}
	for _, m := range out.Models {
		if m.Revenue != want[m.Model] {
			t.Errorf("model %s revenue %d, want %d", m.Model, m.Revenue, want[m.Model])
		}
	}
	if out.After[alice].Balance != 100_000_000-70 || out.After[bob].Spent != 3 {
		t.Errorf("after = %+v", out.After)
	}
}

func TestShortfallsSettleWhatIsLeftAndNeverOverdraw(t *testing.T) {
	m1, m2, e := key(1), key(2), key(9)
	s := State{
		SettlementFeeBps: 100, OperatorShareBps: 2_000,
		Models:  map[solana.PublicKey]Model{m1: {ID: 1, Active: true, Pricing: flat(10, 0)}, m2: {ID: 2, Active: true, Pricing: flat(20, 0)}},
		Escrows: map[solana.PublicKey]Escrow{e: {HasLane: true, Balance: 59}},
		Now:     10,
	}
	// Each mixed entry costs 30: half of 2 000 tokens is 10 at m1's 10 per 1k and 20 at m2's 20 per 1k.
	l, err := Build(1, [32]byte{}, Runs{1, 3}, []Entry{
		{Escrow: e, Shares: []Share{{m1, 5_000}, {m2, 5_000}}, Runs: 1, InputTokens: 2_000, ServedAt: 10},
		{Escrow: e, Shares: []Share{{m1, 5_000}, {m2, 5_000}}, Runs: 1, InputTokens: 2_000, ServedAt: 10},
		Single(e, m1, 1, 1_000, 0, 10),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Settle(s, l)
	if err != nil {
		t.Fatal(err)
	}
	// Entry 0 pays 30 in full; entry 1 can pay 29 of 30 (m1 floor(10·29/30)=9, m2 the rest 20); entry 2 nothing.
	if out.Cost != 70 || out.Charged != 59 || out.Shortfall != 11 || out.After[e].Balance != 0 || out.After[e].Unpaid != 11 {
		t.Fatalf("outcome = %+v", out)
	}
	if len(out.Shortfalls) != 2 || out.Shortfalls[0] != (EntryShortfall{Entry: 1, Escrow: e, Cost: 30, Charged: 29}) || out.Shortfalls[1].Charged != 0 {
		t.Fatalf("shortfalls = %+v", out.Shortfalls)
	}
	if out.Models[0].Charged != 19 || out.Models[1].Charged != 40 {
		t.Fatalf("models = %+v", out.Models)
	}
}

func TestSettleRefusesWhatTheProgramRefuses(t *testing.T) {
	m, e := key(1), key(9)
	base := func() State {
		return State{
			Models:  map[solana.PublicKey]Model{m: {ID: 7, Active: true, Pricing: flat(1, 1)}},
			Escrows: map[solana.PublicKey]Escrow{e: {HasLane: true, Balance: 100}},
			Now:     SettleWindowSecs + 100, RegisteredAt: 50,
			LastRunSeq: 4,
		}
	}
	now := SettleWindowSecs + 100
	build := func(servedAt int64) *Layout {
		l, err := Build(1, [32]byte{}, Runs{5, 5}, []Entry{Single(e, m, 1, 1, 1, servedAt)})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	cases := map[string]struct {
		state  func(State) State
		layout *Layout
		want   error
	}{
		"served in the future":       {func(s State) State { return s }, build(now + 1), meter.ErrServedInFuture},
		"served before registration": {func(s State) State { s.Now = 100; return s }, build(49), meter.ErrServedBeforeRegistration},
		"older than the window":      {func(s State) State { return s }, build(99), meter.ErrRunTooOld},
		"model not active":           {func(s State) State { s.Models[m] = Model{ID: 7}; return s }, build(now), meter.ErrModelNotActive},
		"model not allowed": {func(s State) State {
			s.Escrows[e] = Escrow{HasLane: true, Balance: 1, AllowedModels: []uint64{8}}
			return s
		}, build(now), meter.ErrModelNotAllowed},
		"no lane for the node": {func(s State) State { s.Escrows[e] = Escrow{Balance: 1}; return s }, build(now), meter.ErrNoLaneForNode},
		"runs already settled": {func(s State) State { s.LastRunSeq = 5; return s }, build(now), meter.ErrRunsAlreadySettled},
		"price overflows":      {func(s State) State { s.Models[m] = Model{ID: 7, Active: true, Pricing: flat(1<<63, 1<<63)}; return s }, mustBuild(t, Single(e, m, 1, 1<<62, 1<<62, now)), meter.ErrMathOverflow},
	}
	for name, c := range cases {
		if _, err := Settle(c.state(base()), c.layout); !errors.Is(err, c.want) {
			t.Errorf("%s: error = %v, want %v", name, err, c.want)
		}
	}
}

func mustBuild(t *testing.T, entries ...Entry) *Layout {
	t.Helper()
	l, err := Build(1, [32]byte{}, Runs{5, 1 << 40}, entries)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLaneRoomMirrorsTheProgram(t *testing.T) {
	lim := func(v uint64) *uint64 { return &v }
	for _, c := range []struct {
		e    meter.Escrow
		room uint64
		ok   bool
	}{
		{meter.Escrow{}, 0, false},
		{meter.Escrow{SpendLimit: lim(100)}, 100, true},
		{meter.Escrow{SpendLimit: lim(100), Spent: 30, Lanes: []meter.Lane{{Balance: 50}}}, 20, true},
		{meter.Escrow{SpendLimit: lim(100), Spent: 80, Lanes: []meter.Lane{{Balance: 50}}}, 0, true},
		{meter.Escrow{SpendLimit: lim(100), Spent: 200}, 0, true},
	} {
		if room, ok := LaneRoom(&c.e); room != c.room || ok != c.ok {
			t.Errorf("LaneRoom(%+v) = %d, %v; want %d, %v", c.e, room, ok, c.room, c.ok)
		}
	}
}
