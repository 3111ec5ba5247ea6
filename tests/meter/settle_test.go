package meter_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/events"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/meter"
)

const native = meter.NativeUnit

type world struct {
	ctx    context.Context
	e      *meter.Env
	node   *meter.Node
	models []solana.PublicKey
	owner  solana.PrivateKey
	// lastRun is the highest run number settled so far: each batch's run
	// range starts above it.
	lastRun uint64
}

// runs is the run range of the next batch, covering entries' runs.
func (w *world) runs(entries []settlement.Entry) settlement.Runs {
	n := uint64(0)
	for _, e := range entries {
		n += e.Runs
	}
	r := settlement.Runs{First: w.lastRun + 1, Last: w.lastRun + n}
	w.lastRun = r.Last
	return r
}

// lane is the node's view of escrow e (its lane).
func (w *world) lane(e *im.Escrow) settlement.Escrow { return settlement.EscrowOf(e, w.node.Addr()) }

func setup(t *testing.T, models ...mt.QueryPrice) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	c := golocal.Start(t)
	e, err := meter.Setup(ctx, c, meter.NewSender(c))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{ctx: ctx, e: e}
	for _, p := range models {
		m, err := e.ActiveModel(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		w.models = append(w.models, m)
	}
	if w.node, err = e.RegisterNode(ctx, 1_000*native); err != nil {
		t.Fatal(err)
	}
	if w.owner, err = e.Wallet(ctx, 1_000_000*native); err != nil {
		t.Fatal(err)
	}
	// Leave room for runs served a few seconds after the node registered.
	now, err := e.Chain.Now(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WaitUntil(ctx, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) escrow(t *testing.T, amount uint64, allowed []uint64, limit *uint64) solana.PublicKey {
	t.Helper()
	args := im.OpenEscrowArgs{SpendLimit: limit}
	if allowed != nil {
		args.AllowedModels = &allowed
	}
	key := meter.NewKey()
	ixs, err := w.e.OpenForIxs(w.owner.PublicKey(), key.PublicKey(), w.node.Addr(), amount, args)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.e.Send(w.ctx, w.owner, []solana.PrivateKey{key}, ixs...); err != nil {
		t.Fatalf("open escrow with a lane: %v", err)
	}
	return pda.Escrow(key.PublicKey())
}

func (w *world) now(t *testing.T) int64 {
	t.Helper()
	now, err := w.e.Chain.Now(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return now.Unix()
}

func (w *world) balance(t *testing.T, account solana.PublicKey) uint64 {
	t.Helper()
	b, err := tokens.Balance(w.ctx, w.e.Chain.RPC, account)
	if err != nil {
		t.Fatalf("balance of %s: %v", account, err)
	}
	return b
}

// settle predicts l's outcome with the Go cost function, sends it (through
// tables if any) and returns the prediction and the program's event.
func (w *world) settle(t *testing.T, l *settlement.Layout, tables map[solana.PublicKey]solana.PublicKeySlice) (*settlement.Outcome, *im.BatchSettled) {
	t.Helper()
	state, err := w.e.State(w.ctx, w.node, l)
	if err != nil {
		t.Fatal(err)
	}
	predicted, err := settlement.Settle(state, l)
	if err != nil {
		t.Fatalf("predict batch %d: %v", l.Args.BatchSeq, err)
	}
	tx, err := w.e.SettleTx(w.node, l, tables)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := w.e.Sender.Send(w.ctx, tx)
	if err != nil {
		t.Fatalf("settle batch %d: %v", l.Args.BatchSeq, err)
	}
	payloads, err := events.Fetch(w.ctx, w.e.Chain.RPC, sig, im.ProgramID)
	if err != nil {
		t.Fatal(err)
	}
	var got *im.BatchSettled
	for _, p := range payloads {
		if ev, err := im.ParseEvent_BatchSettled(p); err == nil {
			got = ev
		}
	}
	if got == nil {
		t.Fatalf("batch %d: no BatchSettled event among %d", l.Args.BatchSeq, len(payloads))
	}
	return predicted, got
}

// The Go cost function and the program, given the same batches, produce the
// same numbers to the base unit: totals, every escrow's debit, every
// model's credit, every shortfall, and the escrows' balances afterwards.
func TestGoCostFunctionAgreesWithTheProgram(t *testing.T) {
	w := setup(t, mt.QueryPrice{InputPer1k: 10, OutputPer1k: 30}, mt.QueryPrice{InputPer1k: 3, OutputPer1k: 7}, mt.QueryPrice{InputPer1k: 1, OutputPer1k: 1})
	limit := uint64(50_000)
	escrows := []solana.PublicKey{
		w.escrow(t, 500*native, nil, nil),
		w.escrow(t, 20*native, []uint64{0, 1}, &limit), // model ids 0 and 1 are the first two launches
		w.escrow(t, 3_000, nil, nil),                   // runs out
		w.escrow(t, 1, nil, nil),
	}
	rng := rand.New(rand.NewPCG(7, 11))
	vaultBefore := w.balance(t, pda.EscrowVault())
	var charged uint64
	for seq := uint64(1); seq <= 4; seq++ {
		now := w.now(t)
		var entries []settlement.Entry
		for i := 0; i < 8; i++ { // three models and four escrows leave room for about 8 in a legacy transaction
			ei := rng.IntN(len(escrows))
			var shares []settlement.Share
			switch models := w.models; {
			case ei == 1 || rng.IntN(3) == 0:
				shares = []settlement.Share{{Model: models[0], WeightBps: 7_001}, {Model: models[1], WeightBps: 2_999}}
			case rng.IntN(2) == 0:
				shares = []settlement.Share{{Model: models[0], WeightBps: 3_333}, {Model: models[1], WeightBps: 3_333}, {Model: models[2], WeightBps: 3_334}}
			default:
				shares = []settlement.Share{{Model: models[rng.IntN(3)], WeightBps: 10_000}}
			}
			entries = append(entries, settlement.Entry{
				Escrow: escrows[ei], Shares: shares, Runs: 1 + rng.Uint64N(40),
				InputTokens: rng.Uint64N(200_000), OutputTokens: rng.Uint64N(50_000), ServedAt: now - rng.Int64N(5),
			})
		}
		l, err := settlement.Build(seq, [32]byte{byte(seq)}, w.runs(entries), entries)
		if err != nil {
			t.Fatal(err)
		}
		predicted, ev := w.settle(t, l, nil)
		if err := settlement.CheckOutcome(predicted, ev); err != nil {
			t.Fatal(err)
		}
		if ev.ReceiptsRoot != [32]uint8{byte(seq)} || ev.BatchSeq != seq {
			t.Fatalf("event header = %d %x", ev.BatchSeq, ev.ReceiptsRoot)
		}
		after, err := w.e.Escrows(w.ctx, l.Escrows)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range l.Escrows {
			got := w.lane(after[i])
			if got.Balance != predicted.After[k].Balance || got.Spent != predicted.After[k].Spent || got.Unpaid != predicted.After[k].Unpaid {
				t.Fatalf("escrow %s: program %d/%d/%d, Go %+v", k, got.Balance, got.Spent, got.Unpaid, predicted.After[k])
			}
		}
		charged += ev.Charged
	}
	if got := w.balance(t, pda.EscrowVault()); got != vaultBefore-charged {
		t.Fatalf("escrow vault %d, want %d", got, vaultBefore-charged)
	}
	// Some batches really exercised the shortfall path.
	esc, err := w.e.Escrows(w.ctx, escrows[2:])
	if err != nil {
		t.Fatal(err)
	}
	if esc[0].Unpaid == 0 || w.lane(esc[0]).Balance != 0 {
		t.Fatalf("the small escrow never ran short: %+v", esc[0])
	}
}

// A keeper's retry after a crash finds out by name that its batch landed;
// the same runs under the next batch number (a restored journal) are
// refused by name too.
func TestReplayedBatchIsRefusedByName(t *testing.T) {
	w := setup(t, mt.QueryPrice{InputPer1k: 10, OutputPer1k: 30})
	esc := w.escrow(t, 10*native, nil, nil)
	entries := []settlement.Entry{settlement.Single(esc, w.models[0], 1, 1_000, 1_000, w.now(t))}
	l, err := settlement.Build(1, [32]byte{}, w.runs(entries), entries)
	if err != nil {
		t.Fatal(err)
	}
	w.settle(t, l, nil)
	tx, err := w.e.SettleTx(w.node, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.e.Sender.Send(w.ctx, tx); !errors.Is(err, im.ErrBatchAlreadySettled) {
		t.Fatalf("replay: got %v, want %v", err, im.ErrBatchAlreadySettled)
	}
	l.Args.BatchSeq = 3
	tx, _ = w.e.SettleTx(w.node, l, nil)
	if _, err := w.e.Sender.Send(w.ctx, tx); !errors.Is(err, im.ErrBatchSeqGap) {
		t.Fatalf("gap: got %v, want %v", err, im.ErrBatchSeqGap)
	}
	l.Args.BatchSeq = 2
	tx, _ = w.e.SettleTx(w.node, l, nil)
	if _, err := w.e.Sender.Send(w.ctx, tx); !errors.Is(err, im.ErrRunsAlreadySettled) {
		t.Fatalf("runs again under the next batch: got %v, want %v", err, im.ErrRunsAlreadySettled)
	}
}

// A batch too large for a legacy transaction settles in a v0 transaction
// whose accounts come from an address lookup table.
func TestSettleThroughALookupTable(t *testing.T) {
	w := setup(t, mt.QueryPrice{InputPer1k: 10, OutputPer1k: 30}, mt.QueryPrice{InputPer1k: 2, OutputPer1k: 4})
	const n = 40
	var escrows []solana.PublicKey
	for i := 0; i < n; i++ {
		escrows = append(escrows, w.escrow(t, 10*native, nil, nil))
	}
	now := w.now(t)
	var entries []settlement.Entry
	for i, esc := range escrows {
		entries = append(entries, settlement.Single(esc, w.models[i%2], 3, 4_000+uint64(i), 900, now-int64(i%3)))
	}
	l, err := settlement.Build(1, [32]byte{42}, w.runs(entries), entries)
	if err != nil {
		t.Fatal(err)
	}

	// Without a table the transaction does not fit.
	legacy, err := w.e.SettleTx(w.node, l, nil)
	if err != nil {
		t.Fatal(err)
	}
	if size := txSize(t, legacy.Instructions, legacy.Payer); size <= 1232 {
		t.Fatalf("a %d-entry batch fits in a legacy transaction (%d bytes): the test proves nothing", n, size)
	}

	addresses := settlement.FixedTableAddresses(w.node.Settle)
	for _, m := range l.Models {
		addresses = append(addresses, settlement.ModelTableAddresses(m)...)
	}
	addresses = append(addresses, l.Escrows...)
	table, err := w.e.LookupTable(w.ctx, w.node.Keeper, addresses)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[solana.PublicKey]solana.PublicKeySlice{table: addresses}
	tx, err := w.e.SettleTx(w.node, l, tables)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := w.e.Sender.Simulate(w.ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	if sim.Size > 1232 || sim.Tx.Message.GetVersion() != solana.MessageVersionV0 {
		t.Fatalf("v0 settle is %d bytes (version %d)", sim.Size, sim.Tx.Message.GetVersion())
	}
	t.Logf("%d entries: %d bytes with a lookup table", n, sim.Size)
	predicted, ev := w.settle(t, l, tables)
	if err := settlement.CheckOutcome(predicted, ev); err != nil {
		t.Fatal(err)
	}
	if ev.Entries != n || ev.Charged == 0 {
		t.Fatalf("event = %+v", ev)
	}
}

func txSize(t *testing.T, ixs []solana.Instruction, payer solana.PublicKey) int {
	t.Helper()
	tx, err := solana.NewTransaction(ixs, solana.Hash{}, solana.TransactionPayer(payer))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tx.Message.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// Signatures: a compact-u16 count and 64 bytes each, plus the compute-budget instruction txsend adds (~41 bytes).
	return 1 + 64*int(tx.Message.Header.NumRequiredSignatures) + len(msg)
}
