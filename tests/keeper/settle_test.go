package keeper_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/prometheus/client_golang/prometheus"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/keeperapi"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/settler"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/keeper"
)

const native = keeper.NativeUnit

// env is one test's world, journal and settler configuration.
type env struct {
	t   *testing.T
	ctx context.Context
	w   *keeper.World
	j   *journal.Journal
	dir string
	reg *prometheus.Registry
}

func newEnv(t *testing.T, prices ...mt.QueryPrice) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	c := golocal.Start(t)
	w, err := keeper.NewWorld(ctx, c, prices...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	j, err := journal.Open(journal.Config{Path: filepath.Join(dir, "journal.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return &env{t: t, ctx: ctx, w: w, j: j, dir: dir, reg: prometheus.NewRegistry()}
}

// settler returns a settler over the env's journal and state file, talking
// to url (the chain, or a proxy in front of it).
func (e *env) settler(url string, mod func(*settler.Config)) *settler.Settler {
	e.t.Helper()
	cfg := settler.Config{
		RPC: rpcClient(url), Journal: e.j, Keeper: e.w.Node.Keeper, Node: e.w.NodeAddr,
		StatePath: filepath.Join(e.dir, "settler.json"), LookupTable: true,
		Interval: 100 * time.Millisecond, PollInterval: 50 * time.Millisecond, AwaitTimeout: 5 * time.Second,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		Registry: prometheus.NewRegistry(),
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := settler.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func logLevel() slog.Level {
	if os.Getenv("KEEPER_TEST_LOG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelError + 1
}

// record journals n runs spread over the given escrows and share sets.
func (e *env) record(n int, escrows []solana.PublicKey, shares [][]receipts.ModelShare, rng *rand.Rand) []receipts.RunID {
	e.t.Helper()
	var ids []receipts.RunID
	for i := 0; i < n; i++ {
		esc := escrows[rng.IntN(len(escrows))]
		sh := shares[rng.IntN(len(shares))]
		r, err := e.w.Receipt(esc, sh, 100+rng.Uint64N(3_000), 1+rng.Uint64N(800), time.Now())
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.j.Record(e.ctx, r); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, r.Receipt.RunID)
	}
	return ids
}

// clockPast waits until the chain's clock is past at (runs served in the
// clock's current second wait for the next).
func (e *env) clockPast(at time.Time) {
	e.t.Helper()
	for i := 0; i < 100; i++ {
		now, err := e.w.Chain.Now(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if now.Unix() > at.Unix() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatal("chain clock stuck")
}

// drain runs rounds until nothing is left to settle.
func (e *env) drain(s *settler.Settler) {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		idle, err := s.Round(e.ctx)
		if err != nil {
			e.t.Logf("round: %v", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		n, _ := e.j.UnbatchedCount()
		pending, _ := e.j.PendingBatches()
		if idle && n == 0 && len(pending) == 0 {
			return
		}
	}
	n, _ := e.j.UnbatchedCount()
	e.t.Fatalf("settlement did not drain: %d unbatched", n)
}

// settledAll checks that every id is settled in the journal.
func (e *env) settledAll(res *keeper.AuditResult, ids []receipts.RunID) {
	e.t.Helper()
	for _, id := range ids {
		if _, ok := res.Settled[id]; !ok {
			got, _ := e.j.Get(id)
			e.t.Fatalf("run %s was not settled (journal state %s)", id, got.State)
		}
	}
}

// A journal of runs over 12 escrows and three models (one mixture, prices
// that round) settles in several batches; the audit checks every batch's
// outcome and every balance against clients/settlement's prediction, the
// roots against the journal, and that each run was charged once. One
// escrow runs dry (shortfall) and one hits its spend limit.
func TestSettlesAJournalEndToEnd(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 7, OutputPer1k: 31}, mt.QueryPrice{InputPer1k: 3, OutputPer1k: 11}, mt.QueryPrice{InputPer1k: 1_000, OutputPer1k: 2_000})
	m := e.w.Models
	limit := uint64(40_000)
	var escrows []solana.PublicKey
	for i := 0; i < 10; i++ {
		esc, err := e.w.OpenEscrow(e.ctx, keeper.NewAPIKey(), 1_000*native, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		escrows = append(escrows, esc)
	}
	dry, err := e.w.OpenEscrow(e.ctx, keeper.NewAPIKey(), 2_000, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	limited, err := e.w.OpenEscrow(e.ctx, keeper.NewAPIKey(), 1_000*native, []uint64{m[0].ID, m[1].ID}, &limit)
	if err != nil {
		t.Fatal(err)
	}
	before, err := e.w.Snapshot(e.ctx, append(escrows, dry, limited))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shares := [][]receipts.ModelShare{m[0].Single(), m[1].Single(), m[2].Single(), keeper.Mixture(m[:2], []uint16{7_001, 2_999})}
	ids := e.record(300, escrows, shares, rng)
	ids = append(ids, e.record(20, []solana.PublicKey{dry}, shares, rng)...)
	ids = append(ids, e.record(30, []solana.PublicKey{limited}, shares[:2], rng)...)

	// Small batches, so that there are several.
	s := e.settler(e.w.Chain.URL, func(c *settler.Config) { c.MaxEntries = 12 })
	e.drain(s)
	res, err := e.w.Audit(e.ctx, e.j, before)
	if err != nil {
		t.Fatal(err)
	}
	e.settledAll(res, ids)
	if res.Runs != uint64(len(ids)) || len(res.Settled) != len(ids) {
		t.Fatalf("chain settled %d runs, journal %d, recorded %d", res.Runs, len(res.Settled), len(ids))
	}
	if res.Batches < 3 {
		t.Fatalf("only %d batches", res.Batches)
	}
	if res.Shortfall == 0 {
		t.Fatalf("the dry escrow and the spend limit should have left a shortfall")
	}
	// Every receipt proves into the root its batch recorded on chain; a
	// proof that was tampered with does not.
	keeperKey := e.w.Node.Keeper.PublicKey()
	page, err := keeperapi.ReceiptsPage(e.j, keeperKey, escrows[0], receipts.RunID{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	verified, err := keeperapi.VerifyPage(page, keeperKey)
	if err != nil {
		t.Fatal(err)
	}
	proofs, err := keeperapi.ReceiptProofs(e.j, escrows[0], receipts.RunID{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	checks := keeperapi.CheckProofs(e.ctx, e.w.Chain.RPC, verified, proofs)
	if len(checks) == 0 || len(checks) != len(page.Data) {
		t.Fatalf("%d proof checks for %d receipts", len(checks), len(page.Data))
	}
	for _, c := range checks {
		if c.Status != "verified" {
			t.Fatalf("receipt %s: %s %s", c.RunID, c.Status, c.Error)
		}
	}
	if len(proofs[0].Proof.Path) > 0 {
		proofs[0].Proof.Path[0][0] ^= 1
	} else {
		proofs[0].Proof.Index = 1
	}
	if c := keeperapi.CheckProofs(e.ctx, e.w.Chain.RPC, verified[:1], proofs[:1]); c[0].Status != "failed" {
		t.Fatalf("a tampered proof: %+v", c[0])
	}

	st := s.Status()
	if st.ChainLastBatch != res.LastBatchSeq || st.LocalLastSettled != res.LastBatchSeq || st.LagSeconds != 0 || len(st.LookupTables) != 1 {
		t.Fatalf("status %+v after %d batches", st, res.Batches)
	}
	t.Logf("%d runs in %d batches; charged %d, shortfall %d", res.Runs, res.Batches, res.Charged, res.Shortfall)
}

// With a lookup table a batch carries one entry for each of 44 escrows
// (the 64-account limit binds); without one, about nine.
func TestBatchCapacityWithAndWithoutLookupTable(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 10, OutputPer1k: 30})
	var escrows []solana.PublicKey
	for i := 0; i < 50; i++ {
		esc, err := e.w.OpenEscrow(e.ctx, keeper.NewAPIKey(), 100*native, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		escrows = append(escrows, esc)
	}
	before, err := e.w.Snapshot(e.ctx, escrows)
	if err != nil {
		t.Fatal(err)
	}
	record := func() {
		for _, esc := range escrows {
			r, err := e.w.Receipt(esc, e.w.Models[0].Single(), 1_500, 400, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := e.j.Record(e.ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, table := range []bool{false, true} {
		record()
		// Runs the chain's clock has not reached yet wait for a later
		// batch, which would split the batch this test measures.
		e.clockPast(time.Now())
		s := e.settler(e.w.Chain.URL, func(c *settler.Config) { c.LookupTable = table })
		first, _ := e.w.LastBatchSeq(e.ctx)
		e.drain(s)
		last, _ := e.w.LastBatchSeq(e.ctx)
		batches, err := e.w.SettledBatches(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		largest := 0
		for seq := first + 1; seq <= last; seq++ {
			largest = max(largest, int(batches[seq].Event.Entries))
		}
		t.Logf("lookup table %v: 50 escrows in %d batches, largest %d entries", table, last-first, largest)
		if table && largest < 40 {
			t.Fatalf("with a lookup table the largest batch had %d entries", largest)
		}
		if !table && (largest < 7 || largest > 14) {
			t.Fatalf("without a lookup table the largest batch had %d entries", largest)
		}
	}
	if _, err := e.w.Audit(e.ctx, e.j, before); err != nil {
		t.Fatal(err)
	}
}

// The settler stops (as a crash would) at each point of a batch's life —
// after the receipts were assigned, after the plan was stored, after the
// transaction was signed and recorded but before it was sent, after it was
// sent, after it landed but before the journal marked it settled — and a
// new settler on the same journal and state file finishes the job: every
// run settled exactly once, balances as predicted.
func TestCrashPointsSettleExactlyOnce(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 5, OutputPer1k: 17})
	var escrows []solana.PublicKey
	for i := 0; i < 4; i++ {
		esc, err := e.w.OpenEscrow(e.ctx, keeper.NewAPIKey(), 500*native, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		escrows = append(escrows, esc)
	}
	before, err := e.w.Snapshot(e.ctx, escrows)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var all []receipts.RunID
	crash := errors.New("crash")
	for _, point := range []string{settler.PointAssigned, settler.PointPlanned, settler.PointSigned, settler.PointSent, settler.PointLanded} {
		ids := e.record(25, escrows, [][]receipts.ModelShare{e.w.Models[0].Single()}, rng)
		all = append(all, ids...)
		e.clockPast(time.Now())
		seqBefore, _ := e.w.LastBatchSeq(e.ctx)
		stopped := false
		s := e.settler(e.w.Chain.URL, func(c *settler.Config) {
			c.Checkpoint = func(p string, seq uint64) error {
				if p == point && !stopped {
					stopped = true
					return crash
				}
				return nil
			}
		})
		// Runs served in the chain clock's current second wait for the next one.
		var err error
		for i := 0; i < 50 && err == nil; i++ {
			if _, err = s.Round(e.ctx); err == nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if !errors.Is(err, settler.ErrStopped) {
			t.Fatalf("%s: round ended with %v, want a stop", point, err)
		}
		seqAtCrash, _ := e.w.LastBatchSeq(e.ctx)
		wantLanded := point == settler.PointSent || point == settler.PointLanded
		if landed := seqAtCrash == seqBefore+1; landed != wantLanded {
			t.Fatalf("%s: batch landed before the crash: %v", point, landed)
		}
		// A new settler: only the journal, the state file and the chain remain.
		e.drain(e.settler(e.w.Chain.URL, nil))
		if seq, _ := e.w.LastBatchSeq(e.ctx); seq != seqBefore+1 {
			t.Fatalf("%s: %d batches after the restart, want 1", point, seq-seqBefore)
		}
		res, err := e.w.Audit(e.ctx, e.j, before)
		if err != nil {
			t.Fatalf("%s: %v", point, err)
		}
		e.settledAll(res, all)
		if res.Runs != uint64(len(all)) {
			t.Fatalf("%s: %d runs settled on chain, %d recorded", point, res.Runs, len(all))
		}
		b, _ := e.j.Batch(seqBefore + 1)
		t.Logf("%s: batch %d settled by %s after %d transaction(s)", point, b.Seq, b.SettledSignature, len(b.TxSignatures))
	}
}

func rpcClient(url string) *rpc.Client { return rpc.New(url) }
