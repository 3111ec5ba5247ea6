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

func TestPlanGroupsSplitsAtBoundariesAndWritesOff(t *testing.T) {
	escrow, rotated, target, closed := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	restricted := solana.NewWallet().PublicKey()
	cs := &chainState{
		escrows: map[solana.PublicKey]escrowInfo{
			escrow:     {Target: escrow, State: settlement.Escrow{Balance: 1_000_000}},
			rotated:    {Target: target, State: settlement.Escrow{Balance: 1_000_000}},
			closed:     {},
			restricted: {Target: restricted, State: settlement.Escrow{Balance: 1_000_000, AllowedModels: []uint64{2}}},
		},
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
	// Runs of model 1 at 900 s (before registration), 1 200 s and 1 400 s
	// (previous price), 1 600 s (current price) and 2 100 s (after the clock).
	straddling := group{Escrow: escrow, Shares: share(1)}
	for i, sec := range []int64{900, 1_200, 1_400, 1_600, 2_100} {
		r := run{ID: runID(sec, byte(i)), ServedMs: sec*1_000 + 250, In: 100, Out: 10, Cost: 1}
		straddling.Runs = append(straddling.Runs, r)
		straddling.IDs = append(straddling.IDs, r.ID)
	}
	straddling.FirstMs, straddling.LastMs = 900_250, 2_100_250
	simple := func(e solana.PublicKey, shares []receipts.ModelShare, n byte) group {
		id := runID(1_700, n)
		return group{Escrow: e, Shares: shares, IDs: []receipts.RunID{id}, In: 50, Out: 5, Cost: 2, FirstMs: 1_700_000, LastMs: 1_700_999}
	}
	gs := []group{
		straddling,
		simple(rotated, share(2), 10),
		simple(closed, share(2), 11),
		simple(restricted, share(1), 12),
		simple(escrow, share(3), 13),
	}
	loads := 0
	// The closed escrow's run is 299 s old by the chain's clock (2 000 s).
	p, err := planGroups(testView(), cs, gs, func(*group) error { loads++; return nil }, 10*time.Minute, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if loads != 0 {
		t.Fatalf("loaded detail %d times for groups that had it", loads)
	}
	type got struct {
		escrow     solana.PublicKey
		runs       uint64
		servedAt   int64
		inputTotal uint64
	}
	var entries []got
	for _, c := range p.cands {
		entries = append(entries, got{c.Entry.Escrow, c.Entry.Runs, c.Entry.ServedAt, c.Entry.InputTokens})
	}
	want := []got{
		{escrow, 2, 1_200, 200}, // previous price epoch, served at its first second
		{escrow, 1, 1_600, 100}, // current price epoch
		{target, 1, 1_700, 50},  // a rotated key's runs charge its new escrow
	}
	if !slices.Equal(entries, want) {
		t.Fatalf("entries\n got %+v\nwant %+v", entries, want)
	}
	if p.deferred != 1+1 { // served after the clock; the closed escrow within the grace period
		t.Fatalf("deferred %d", p.deferred)
	}
	for reason, n := range map[string]int{ReasonBeforeRegistering: 1, ReasonModelNotAllowed: 1, ReasonModelNotActive: 1} {
		if len(p.writeOffs[reason]) != n {
			t.Errorf("%s: %d written off, want %d", reason, len(p.writeOffs[reason]), n)
		}
	}
	// Past the grace period a vanished escrow's runs are written off.
	p, err = planGroups(testView(), cs, gs[2:3], nil, time.Minute, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.writeOffs[ReasonEscrowClosed]) != 1 {
		t.Fatalf("closed escrow: %+v", p.writeOffs)
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
		g := group{Escrow: closed, Shares: share(2), IDs: []receipts.RunID{runID(1, 1)}, FirstMs: last, LastMs: last}
		p, err := planGroups(v, cs, []group{g}, nil, time.Minute, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(p.writeOffs[ReasonEscrowClosed]) == 1; got != c.writeOff || (!c.writeOff && p.deferred != 1) {
			t.Fatalf("run %s old on the chain's clock: written off %v, deferred %d; want written off %v", c.age, got, p.deferred, c.writeOff)
		}
	}
}

// The packer stops at 64 accounts with a lookup table, at 1 232 bytes
// without, and at the model cap (an entry over the cap still goes alone).
func TestPackRespectsTransactionLimits(t *testing.T) {
	keeper := solana.NewWallet().PrivateKey
	s := &Settler{cfg: Config{MaxEntries: 255, MaxModels: 2, MaxRuns: 20_000}, keeper: keeper.PublicKey()}
	lt := &lookupTables{s: s, content: map[solana.PublicKey]solana.PublicKeySlice{}, lastExtended: map[solana.PublicKey]uint64{}}
	s.tables = lt
	node := settlement.Node{Keeper: keeper.PublicKey(), Operator: solana.NewWallet().PublicKey(), OperatorAccount: solana.NewWallet().PublicKey(),
		NativeMint: solana.NewWallet().PublicKey(), TokenProgram: solana.TokenProgramID}
	model := pda.Model(1)
	var cands []candidate
	for i := 0; i < 80; i++ {
		e := solana.NewWallet().PublicKey()
		cands = append(cands, candidate{Entry: settlement.Single(e, model, 10, 15_000, 4_000, 1_700), IDs: []receipts.RunID{runID(1_700, byte(i))}})
	}
	withTable, err := s.pack(node, cands, lt.virtual)
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := s.pack(node, cands, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(withTable) != 47 || len(legacy) < 7 || len(legacy) > 12 {
		t.Fatalf("packed %d entries with a table, %d without", len(withTable), len(legacy))
	}
	// Three models in entries of one model each: the cap of two stops the third.
	var three []candidate
	for i := uint64(1); i <= 3; i++ {
		three = append(three, candidate{Entry: settlement.Single(cands[0].Entry.Escrow, pda.Model(i), 1, 1, 1, 1_700), IDs: []receipts.RunID{runID(1, byte(i))}})
	}
	if got, _ := s.pack(node, three, lt.virtual); len(got) != 2 {
		t.Fatalf("model cap: packed %d", len(got))
	}
	mix := settlement.Entry{Escrow: cands[0].Entry.Escrow, Runs: 1, ServedAt: 1_700,
		Shares: []settlement.Share{{Model: pda.Model(1), WeightBps: 3_000}, {Model: pda.Model(2), WeightBps: 3_000}, {Model: pda.Model(3), WeightBps: 4_000}}}
	if got, _ := s.pack(node, []candidate{{Entry: mix, IDs: []receipts.RunID{runID(2, 0)}}}, lt.virtual); len(got) != 1 {
		t.Fatal("an entry with more models than the cap was not sent alone")
	}
}
