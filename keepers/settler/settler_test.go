package settler

import (
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

func TestClassify(t *testing.T) {
	custom := func(index int, code uint32) any {
		return map[string]any{"InstructionError": []any{float64(index), map[string]any{"Custom": float64(code)}}}
	}
	failed := func(program solana.PublicKey, code uint32) []string {
		return []string{"Program " + program.String() + " failed: custom program error: 0x" + hex(code)}
	}
	top := []solana.PublicKey{solana.ComputeBudget, im.ProgramID}
	cases := []struct {
		name string
		raw  any
		logs []string
		want verdict
		is   error
	}{
		{"already settled", custom(1, im.ErrBatchAlreadySettled.Code), nil, vSettled, im.ErrBatchAlreadySettled},
		{"gap", custom(1, im.ErrBatchSeqGap.Code), nil, vGap, im.ErrBatchSeqGap},
		{"keeper key rotated", custom(1, im.ErrNotNodeKeeper.Code), nil, vNode, im.ErrNotNodeKeeper},
		{"node inactive", custom(1, im.ErrNodeInactive.Code), nil, vNode, im.ErrNodeInactive},
		{"served in the future", custom(1, im.ErrServedInFuture.Code), nil, vTransient, im.ErrServedInFuture},
		{"model not allowed", custom(1, im.ErrModelNotAllowed.Code), nil, vPermanent, im.ErrModelNotAllowed},
		{"closed escrow (Anchor AccountNotInitialized)", custom(1, 3012), nil, vPermanent, nil},
		{"treasury CPI failure", custom(1, mt.ErrMathOverflow.Code), failed(mt.ProgramID, mt.ErrMathOverflow.Code), vPermanent, mt.ErrMathOverflow},
		{"expired", "BlockhashNotFound", nil, vExpired, nil},
		{"fee payer empty", "InsufficientFundsForFee", nil, vNode, nil},
		{"already processed", "AlreadyProcessed", nil, vTransient, nil},
		{"budget exceeded", map[string]any{"InstructionError": []any{float64(1), "ComputationalBudgetExceeded"}}, nil, vPermanent, nil},
	}
	for _, c := range cases {
		f := classify(c.raw, top, c.logs)
		if f.verdict != c.want {
			t.Errorf("%s: verdict %s, want %s (%v)", c.name, f.verdict, c.want, f)
		}
		if c.is != nil && !errors.Is(f, c.is) {
			t.Errorf("%s: %v is not %v", c.name, f, c.is)
		}
	}
}

func hex(v uint32) string {
	const digits = "0123456789abcdef"
	out := ""
	for v > 0 {
		out = string(digits[v%16]) + out
		v /= 16
	}
	return out
}

func TestStoreSurvivesReopenAndRefusesAnotherKeeper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	keeper := solana.NewWallet().PublicKey()
	s, err := openStore(path, keeper)
	if err != nil {
		t.Fatal(err)
	}
	p := &Plan{Seq: 7, Root: receipts.Hash{1}, Program: im.ProgramID, Accounts: []Meta{{Key: keeper, Signer: true}}, Data: []byte{1, 2, 3}, ComputeUnits: 9}
	if err := s.putPlan(p); err != nil {
		t.Fatal(err)
	}
	send := Send{Signature: solana.Signature{9}, LastValid: 150, Tx: []byte{4, 5}}
	if err := s.addSend(7, send); err != nil {
		t.Fatal(err)
	}
	if err := s.addSend(8, send); err == nil {
		t.Fatal("a send for a batch without a plan was accepted")
	}
	if err := s.setTables([]TableRecord{{Address: keeper, Created: true}}); err != nil {
		t.Fatal(err)
	}
	again, err := openStore(path, keeper)
	if err != nil {
		t.Fatal(err)
	}
	got := again.plan(7)
	if got == nil || got.Root != p.Root || len(got.Sends) != 1 || got.Sends[0].Signature != send.Signature || got.Latest().LastValid != 150 ||
		!slices.Equal(got.Data, p.Data) || len(again.tables()) != 1 {
		t.Fatalf("reopened: %+v %+v", got, again.tables())
	}
	if ix := got.Instruction(); !ix.ProgramID().Equals(im.ProgramID) || !ix.Accounts()[0].IsSigner {
		t.Fatal("instruction not rebuilt from the plan")
	}
	if _, err := openStore(path, solana.NewWallet().PublicKey()); !errors.Is(err, ErrForeignState) {
		t.Fatalf("another keeper's state: %v", err)
	}
	if err := again.deletePlans(func(p *Plan) bool { return p.Seq == 7 }); err != nil || again.plan(7) != nil {
		t.Fatalf("delete: %v", err)
	}
}

// testView is a node registered at 1000, a clock at 2000.
func testView() *view {
	return &view{Node: &im.Node{RegisteredAt: 1_000}, Meter: &im.MeterConfig{SettlementFeeBps: 100, OperatorShareBps: 2_000}, Now: 2_000}
}

func share(id uint64) []receipts.ModelShare {
	return []receipts.ModelShare{{ModelID: id, WeightBps: 10_000, InputPer1k: 10, OutputPer1k: 20}}
}

func runID(ms int64, n byte) receipts.RunID {
	var id receipts.RunID
	id[0], id[7], id[15] = byte(ms>>24), byte(ms), n
	return id
}

// lane is an escrow state with a lane for the settling node.
func lane(balance uint64, allowed ...uint64) settlement.Escrow {
	return settlement.Escrow{HasLane: true, Balance: balance, AllowedModels: allowed}
}

func testChain(escrows map[solana.PublicKey]escrowInfo) *chainState {
	cs := &chainState{
		escrows: escrows,
		models: map[uint64]settlement.Model{
			1: {ID: 1, Active: true, Pricing: settlement.Pricing{InputPer1k: 10, OutputPer1k: 20, PreviousInputPer1k: 5, PreviousOutputPer1k: 5, EffectiveAt: 1_500}},
			2: {ID: 2, Active: true, Pricing: settlement.Pricing{InputPer1k: 10, OutputPer1k: 20}},
			3: {ID: 3, Active: false},
		},
	}
	cs.state = settlement.State{Models: map[solana.PublicKey]settlement.Model{}, Escrows: map[solana.PublicKey]settlement.Escrow{}, Now: 2_000, RegisteredAt: 1_000}
	for id, m := range cs.models {
		cs.state.Models[pda.Model(id)] = m
	}
	for _, info := range cs.escrows {
		if !info.Target.IsZero() {
			cs.state.Escrows[info.Target] = info.State
		}
	}
	return cs
}

func TestPlanRunsSplitsAtBoundariesWritesOffAndHoldsBack(t *testing.T) {
	escrow, rotated, target, closed := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	restricted, laneless := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	cs := testChain(map[solana.PublicKey]escrowInfo{
		escrow:     {Target: escrow, State: lane(1_000_000)},
		rotated:    {Target: target, State: lane(1_000_000)},
		closed:     {},
		restricted: {Target: restricted, State: lane(1_000_000, 2)},
		laneless:   {Target: laneless, State: settlement.Escrow{Balance: 1_000_000}},
	})
	seq := uint64(0)
	r := func(e solana.PublicKey, shares []receipts.ModelShare, sec int64) run {
		seq++
		return run{ID: runID(sec, byte(seq)), Seq: seq, Escrow: e, Shares: shares, ServedMs: sec*1_000 + 250, In: 100, Out: 10, Cost: 1}
	}
	runs := []run{
		r(escrow, share(1), 900),       // 1: before registration: written off
		r(escrow, share(1), 1_200),     // 2: previous price
		r(rotated, share(2), 1_300),    // 3: charged at the rotated-to escrow
		r(escrow, share(1), 1_400),     // 4: previous price, same entry as 2
		r(closed, share(2), 1_700),     // 5: closed 300 s ago, within a 10 min grace: held back
		r(escrow, share(1), 1_600),     // 6: current price (held back behind 5)
		r(restricted, share(1), 1_700), // 7: model not allowed: written off
		r(escrow, share(3), 1_700),     // 8: inactive model: written off
		r(laneless, share(2), 1_000),   // 9: no lane, 1 000 s old: written off
		r(escrow, share(2), 2_100),     // 10: after the clock: held back
	}
	p := planRuns(testView(), cs, runs, 10*time.Minute, slog.New(slog.DiscardHandler))
	type got struct {
		escrow     solana.PublicKey
		runs       uint64
		servedAt   int64
		inputTotal uint64
	}
	var entries []got
	for _, c := range entriesOf(p.ok) {
		entries = append(entries, got{c.Entry.Escrow, c.Entry.Runs, c.Entry.ServedAt, c.Entry.InputTokens})
	}
	want := []got{
		{escrow, 2, 1_200, 200}, // previous price epoch, served at its first second
		{target, 1, 1_300, 100}, // a rotated key's runs charge its new escrow
	}
	if !slices.Equal(entries, want) {
		t.Fatalf("entries\n got %+v\nwant %+v", entries, want)
	}
	if p.deferred != 2 || p.heldFrom != 5 {
		t.Fatalf("deferred %d from run %d; want 2 from run 5", p.deferred, p.heldFrom)
	}
	for reason, n := range map[string]int{ReasonBeforeRegistering: 1, ReasonModelNotAllowed: 1, ReasonModelNotActive: 1, ReasonNoLane: 1} {
		if len(p.writeOffs[reason]) != n {
			t.Errorf("%s: %d written off, want %d", reason, len(p.writeOffs[reason]), n)
		}
	}
	// Past the grace period a vanished escrow's runs are written off, and
	// nothing holds run 6 back any more: it gets its own (current price) entry.
	p = planRuns(testView(), cs, runs[:9], time.Minute, slog.New(slog.DiscardHandler))
	if len(p.writeOffs[ReasonEscrowClosed]) != 1 || p.deferred != 0 || len(entriesOf(p.ok)) != 3 {
		t.Fatalf("closed escrow: %+v, %d deferred, %d entries", p.writeOffs, p.deferred, len(entriesOf(p.ok)))
	}
	// Runs the chain has settled the numbers of, and runs older than the
	// settlement window, are written off.
	v := testView()
	v.Node.LastRunSeq = 3
	p = planRuns(v, cs, runs[:4], time.Minute, slog.New(slog.DiscardHandler))
	if len(p.writeOffs[ReasonRunSettled]) != 3 || len(p.ok) != 1 || p.ok[0].Seq != 4 {
		t.Fatalf("numbers settled: %+v, ok %d", p.writeOffs, len(p.ok))
	}
	v = testView()
	v.Now = 1_200 + settlement.SettleWindowSecs + 1
	csLate := testChain(map[solana.PublicKey]escrowInfo{escrow: {Target: escrow, State: lane(1_000_000)}})
	csLate.state.Now = v.Now
	p = planRuns(v, csLate, []run{runs[1], runs[3]}, time.Minute, slog.New(slog.DiscardHandler))
	if len(p.writeOffs[ReasonTooOld]) != 1 || len(p.ok) != 1 {
		t.Fatalf("settle window: %+v, ok %d", p.writeOffs, len(p.ok))
	}
}

// With the chain's clock a day ahead of the host's (time travel; the
// gateway dates runs by the chain), the closed-escrow grace is measured on
// the chain's clock: a run two minutes old there is past a one-minute
// grace, one from ten seconds ago is not.
func TestClosedEscrowGraceUsesTheChainClock(t *testing.T) {
	closed := solana.NewWallet().PublicKey()
	chainNow := time.Now().Add(24 * time.Hour).Unix()
	v := testView()
	v.Now = chainNow
	cs := &chainState{escrows: map[solana.PublicKey]escrowInfo{closed: {}}, models: map[uint64]settlement.Model{}}
	for _, c := range []struct {
		age      time.Duration
		writeOff bool
	}{{2 * time.Minute, true}, {10 * time.Second, false}} {
		last := time.Unix(chainNow, 0).Add(-c.age).UnixMilli()
		r := run{ID: runID(1, 1), Seq: 1, Escrow: closed, Shares: share(2), ServedMs: last}
		p := planRuns(v, cs, []run{r}, time.Minute, slog.New(slog.DiscardHandler))
		if got := len(p.writeOffs[ReasonEscrowClosed]) == 1; got != c.writeOff || (!c.writeOff && p.deferred != 1) {
			t.Fatalf("run %s old on the chain's clock: written off %v, deferred %d; want written off %v", c.age, got, p.deferred, c.writeOff)
		}
	}
}

func testSettler(maxModels int) (*Settler, settlement.Node) {
	keeper := solana.NewWallet().PrivateKey
	s := &Settler{cfg: Config{MaxEntries: 255, MaxModels: maxModels, MaxRuns: 20_000}, keeper: keeper.PublicKey()}
	s.tables = &lookupTables{s: s, content: map[solana.PublicKey]solana.PublicKeySlice{}, lastExtended: map[solana.PublicKey]uint64{}}
	node := settlement.Node{Keeper: keeper.PublicKey(), Operator: solana.NewWallet().PublicKey(), OperatorAccount: solana.NewWallet().PublicKey(),
		NativeMint: solana.NewWallet().PublicKey(), TokenProgram: solana.TokenProgramID}
	return s, node
}

func placedRun(seq uint64, escrow solana.PublicKey, shares []settlement.Share, in, out uint64) placed {
	key := escrow.String()
	for _, sh := range shares {
		key += sh.Model.String()
	}
	return placed{run: run{ID: runID(1_700, byte(seq)), Seq: seq, In: in, Out: out}, key: key, escrow: escrow, shares: shares, sec: 1_700}
}

// The packer takes the longest prefix that fits: it stops at 64 accounts
// with a lookup table, at 1 232 bytes without, and at the model cap (an
// entry over the cap still goes alone). This is the settle density the
// design requires (≥ 40 entries per transaction with a lookup table).
func TestPackRespectsTransactionLimits(t *testing.T) {
	s, node := testSettler(2)
	one := []settlement.Share{{Model: pda.Model(1), WeightBps: 10_000}}
	var ps []placed
	for i := 0; i < 80; i++ {
		ps = append(ps, placedRun(uint64(i+1), solana.NewWallet().PublicKey(), one, 15_000, 4_000))
	}
	withTable, taken, err := s.pack(node, ps, s.tables.virtual)
	if err != nil {
		t.Fatal(err)
	}
	legacy, legacyTaken, err := s.pack(node, ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("settle entries per transaction: %d with a lookup table, %d without", len(withTable), len(legacy))
	if len(withTable) < 40 || taken != len(withTable) || len(legacy) < 7 || len(legacy) > 12 || legacyTaken != len(legacy) {
		t.Fatalf("packed %d entries with a table, %d without", len(withTable), len(legacy))
	}
	// Runs of one entry key go into one entry, whatever their number.
	same := ps[0].escrow
	var many []placed
	for i := 0; i < 500; i++ {
		many = append(many, placedRun(uint64(i+1), same, one, 10, 10))
	}
	if got, taken, _ := s.pack(node, many, s.tables.virtual); len(got) != 1 || taken != 500 || got[0].Entry.Runs != 500 {
		t.Fatalf("one key: %d entries, %d runs taken", len(got), taken)
	}
	// Three models in entries of one model each: the cap of two stops the
	// third, and every run numbered after it.
	var three []placed
	for i := uint64(1); i <= 3; i++ {
		three = append(three, placedRun(i, same, []settlement.Share{{Model: pda.Model(i), WeightBps: 10_000}}, 1, 1))
	}
	three = append(three, placedRun(4, same, one, 1, 1))
	if got, taken, _ := s.pack(node, three, s.tables.virtual); len(got) != 2 || taken != 2 {
		t.Fatalf("model cap: packed %d entries, %d runs", len(got), taken)
	}
	mix := []settlement.Share{{Model: pda.Model(1), WeightBps: 3_000}, {Model: pda.Model(2), WeightBps: 3_000}, {Model: pda.Model(3), WeightBps: 4_000}}
	if got, taken, _ := s.pack(node, []placed{placedRun(1, same, mix, 1, 1), placedRun(2, same, one, 1, 1)}, s.tables.virtual); len(got) != 1 || taken != 1 {
		t.Fatal("an entry with more models than the cap was not sent alone")
	}
}
