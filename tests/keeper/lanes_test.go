package keeper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/keeper"
)

// Lanes and run numbers through the real keeper binary: an escrow pays a
// node only through the lane its owner opened to it, so two keepers on one
// escrow cannot over-serve it; a keeper whose journal is behind the chain
// refuses to start.

// laneWorld is a chain with one model (1 and 2 base units per input and
// output token, so costs are exact) and a workersim serving it.
type laneWorld struct {
	ctx    context.Context
	w      *keeper.World
	dir    string
	bin    string
	simURL string
}

// simArgs are extra workersim flags; a flag given again overrides.
func newLaneWorld(t *testing.T, simArgs ...string) *laneWorld {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the keeper binary against the local chain")
	}
	keeperBin, simBin := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	c := golocal.Start(t)
	w, err := keeper.NewWorld(ctx, c, mt.QueryPrice{InputPer1k: 1_000, OutputPer1k: 2_000})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sim, simURL := start(t, simBin, filepath.Join(dir, "workersim.log"), func(line string) (string, bool) {
		rest, ok := strings.CutPrefix(line, "workersim ready url=")
		url, _, _ := strings.Cut(rest, " ")
		return url, ok
	}, append([]string{"--listen", "127.0.0.1:0", "--model", "sim-model", "--per-token", "1ms", "--min-tokens", "3", "--max-tokens", "8"}, simArgs...)...)
	t.Cleanup(sim.kill)
	return &laneWorld{ctx: ctx, w: w, dir: dir, bin: keeperBin, simURL: simURL}
}

// config writes a keeper config for the node whose keeper key is key,
// journaling to journalPath and settling every interval.
func (lw *laneWorld) config(t *testing.T, name string, key solana.PrivateKey, node solana.PublicKey, journalPath, interval string) string {
	t.Helper()
	keypair := filepath.Join(lw.dir, name+"-keeper.json")
	writeKeypair(t, keypair, key)
	cfgPath := filepath.Join(lw.dir, name+".toml")
	simKeeper{Keypair: keypair, RPC: lw.w.Chain.URL, Journal: journalPath, SimURL: lw.simURL, Node: node.String(),
		ModelID: lw.w.Models[0].ID, Interval: interval}.write(t, cfgPath)
	return cfgPath
}

// chat sends one chat request and returns the status and body.
func chat(t *testing.T, api, key string) (int, string) {
	t.Helper()
	body := `{"model":"sim-model","messages":[{"role":"user","content":"count to ten"}],"max_tokens":8}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// runStatus is the part of the admin /status the lane tests read.
type runStatus struct {
	Unbatched      int    `json:"unbatched_runs"`
	PendingBatches int    `json:"pending_batches"`
	JournalRunSeq  uint64 `json:"journal_run_seq"`
	Settlement     *struct {
		ChainLastBatch   uint64 `json:"chain_last_batch_seq"`
		LocalLastSettled uint64 `json:"local_last_settled_seq"`
		ChainLastRunSeq  uint64 `json:"chain_last_run_seq"`
		JournalRunSeq    uint64 `json:"journal_run_seq"`
		Rounds           uint64 `json:"rounds"`
	} `json:"settlement"`
}

func (k keeperRun) runStatus(t *testing.T) runStatus {
	t.Helper()
	var st runStatus
	resp, err := http.Get("http://" + k.admin + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// settled waits until the keeper has settled everything it journaled.
func settled(t *testing.T, k keeperRun, logPath string) runStatus {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var st runStatus
		resp, err := http.Get("http://" + k.admin + "/status")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		if s := st.Settlement; err == nil && st.Unbatched == 0 && st.PendingBatches == 0 && s != nil && s.ChainLastBatch == s.LocalLastSettled &&
			s.ChainLastRunSeq == st.JournalRunSeq {
			return st
		}
		if time.Now().After(deadline) {
			k.p.kill()
			t.Fatalf("settlement did not drain: %+v %v; log:\n%s", st, err, tailFile(logPath, 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// journalCosts sums the costs of escrow's receipts in a journal file by
// state.
func journalCosts(t *testing.T, path string, escrow solana.PublicKey) map[journal.State]uint64 {
	t.Helper()
	j, err := journal.Open(journal.Config{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	es, err := j.Receipts(escrow, [16]byte{}, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[journal.State]uint64{}
	for _, e := range es {
		out[e.State] += e.Signed.Receipt.Cost
	}
	return out
}

func metricValue(t *testing.T, admin, series string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// A request whose escrow has no lane to the keeper's node gets an
// OpenAI-style 402 saying how the owner opens one (with the escrow and the
// node); once the owner opens the lane, the same key is served.
func TestNoLaneForThisNodeIs402(t *testing.T) {
	lw := newLaneWorld(t)
	other, err := lw.w.RegisterNode(lw.ctx, 1_000*native)
	if err != nil {
		t.Fatal(err)
	}
	key := keeper.NewAPIKey()
	escrow, err := lw.w.OpenEscrowLanes(lw.ctx, key, 2_000*native, []keeper.LaneAmount{{Node: other.Addr(), Amount: 1_000 * native}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := lw.config(t, "k", lw.w.Node.Keeper, lw.w.NodeAddr, filepath.Join(lw.dir, "journal.db"), "300ms")
	logPath := filepath.Join(lw.dir, "keeper.log")
	k := startKeeper(t, lw.bin, cfg, logPath)
	defer k.p.stop()
	code, body := chat(t, k.api, key)
	want := fmt.Sprintf("mt escrow allow %s %s", escrow, lw.w.NodeAddr)
	if code != http.StatusPaymentRequired || !strings.Contains(body, want) || !strings.Contains(body, `"code":"insufficient_quota"`) {
		t.Fatalf("no lane: HTTP %d %s", code, body)
	}
	ix, err := lw.w.AllowIx(lw.w.Owner.PublicKey(), escrow, lw.w.NodeAddr, 500*native)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lw.w.Send(lw.ctx, lw.w.Owner, nil, ix); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body = chat(t, k.api, key)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after allow: HTTP %d %s", code, body)
		}
		time.Sleep(300 * time.Millisecond) // the gateway re-reads escrows every 2s
	}
	settled(t, k, logPath)
}

// Two keepers (two nodes) serve one escrow at full load — far more demand
// than the lanes hold. Each admits only against its own lane, so neither is
// left with a shortfall: every run either side served is paid in full, each
// node is charged only to its lane, the escrow's total spend stays within
// the sum of the lanes, and the money given to no lane is untouched.
func TestTwoKeepersOneEscrowNeverOverServe(t *testing.T) {
	lw := newLaneWorld(t)
	nodeB, err := lw.w.RegisterNode(lw.ctx, 1_000*native)
	if err != nil {
		t.Fatal(err)
	}
	const laneA, laneB, spare = 700, 400, 5_000 // base units; one run costs about 20
	key := keeper.NewAPIKey()
	escrow, err := lw.w.OpenEscrowLanes(lw.ctx, key, laneA+laneB+spare,
		[]keeper.LaneAmount{{Node: lw.w.NodeAddr, Amount: laneA}, {Node: nodeB.Addr(), Amount: laneB}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	type side struct {
		name    string
		journal string
		log     string
		k       keeperRun
		ok, pay atomic.Int64
	}
	sides := []*side{{name: "a"}, {name: "b"}}
	for i, s := range sides {
		s.journal, s.log = filepath.Join(lw.dir, s.name+"-journal.db"), filepath.Join(lw.dir, s.name+"-keeper.log")
		key, node := lw.w.Node.Keeper, lw.w.NodeAddr
		if i == 1 {
			key, node = nodeB.Keeper, nodeB.Addr()
		}
		s.k = startKeeper(t, lw.bin, lw.config(t, s.name, key, node, s.journal, "300ms"), s.log)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for _, s := range sides {
		for c := 0; c < 4; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := `{"model":"sim-model","messages":[{"role":"user","content":"count to ten"}],"max_tokens":8}`
				for {
					select {
					case <-stop:
						return
					default:
					}
					req, _ := http.NewRequest(http.MethodPost, "http://"+s.k.api+"/v1/chat/completions", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+key)
					resp, err := client.Do(req)
					if err != nil {
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					switch resp.StatusCode {
					case http.StatusOK:
						s.ok.Add(1)
					case http.StatusPaymentRequired:
						s.pay.Add(1)
						time.Sleep(5 * time.Millisecond)
					}
				}
			}()
		}
	}
	// Load until both lanes are spent: settlement moves money out of a
	// lane and out of the keeper's unsettled spend together, so a spent
	// lane stays closed to new requests.
	time.Sleep(6 * time.Second)
	close(stop)
	wg.Wait()
	for _, s := range sides {
		settled(t, s.k, s.log)
		s.k.p.stop()
	}
	es, err := lw.w.Escrows(lw.ctx, []solana.PublicKey{escrow})
	if err != nil {
		t.Fatal(err)
	}
	e := es[0]
	if e.Unpaid != 0 {
		t.Fatalf("escrow has %d unpaid: a keeper served more than its lane held", e.Unpaid)
	}
	if e.Balance != spare {
		t.Fatalf("unallocated balance %d, want %d untouched", e.Balance, spare)
	}
	var lanesSpent uint64
	for i, s := range sides {
		node, lane := lw.w.NodeAddr, uint64(laneA)
		if i == 1 {
			node, lane = nodeB.Addr(), laneB
		}
		l := settlement.LaneOf(e, node)
		if l == nil {
			t.Fatalf("lane of node %s gone", node)
		}
		costs := journalCosts(t, s.journal, escrow)
		if costs[journal.StateRecorded]+costs[journal.StateBatched]+costs[journal.StateFailed] != 0 {
			t.Fatalf("keeper %s left runs unsettled or written off: %v", s.name, costs)
		}
		// Each node was charged exactly its own served runs, from its own lane.
		if l.Spent != costs[journal.StateSettled] || l.Spent+l.Balance != lane || l.Spent > lane {
			t.Fatalf("node %s: lane spent %d (balance %d of %d), its settled runs cost %d", s.name, l.Spent, l.Balance, lane, costs[journal.StateSettled])
		}
		if s.ok.Load() == 0 || s.pay.Load() == 0 {
			t.Fatalf("keeper %s: %d served, %d refused (402); the test needs both", s.name, s.ok.Load(), s.pay.Load())
		}
		lanesSpent += l.Spent
		t.Logf("keeper %s: %d served, %d refused (402); lane %d, spent %d", s.name, s.ok.Load(), s.pay.Load(), lane, l.Spent)
	}
	if e.Spent != lanesSpent || e.Spent > laneA+laneB {
		t.Fatalf("escrow spent %d, lanes spent %d of %d", e.Spent, lanesSpent, laneA+laneB)
	}
}

// A keeper restarted on an older copy of its journal — one that still
// holds runs the chain has since settled, and numbered fewer runs than the
// chain settled — refuses to start with one line saying what happened and
// what to do, and nothing is charged twice. With --accept-journal-loss it
// writes those runs off (logged, counted), numbers new runs above the
// chain's mark and settles them.
func TestStaleJournalRefusesToStart(t *testing.T) {
	lw := newLaneWorld(t)
	key := keeper.NewAPIKey()
	escrow, err := lw.w.OpenEscrow(lw.ctx, key, 1_000*native, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	journalPath := filepath.Join(lw.dir, "journal.db")
	// Settlement rounds an hour apart: the runs served now stay unsettled.
	slow := lw.config(t, "slow", lw.w.Node.Keeper, lw.w.NodeAddr, journalPath, "1h")
	fast := lw.config(t, "fast", lw.w.Node.Keeper, lw.w.NodeAddr, journalPath, "300ms")
	serve := func(k keeperRun, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			if code, body := chat(t, k.api, key); code != http.StatusOK {
				t.Fatalf("HTTP %d %s", code, body)
			}
		}
	}

	// Runs 1..5 served, not settled; the operator copies the journal.
	k := startKeeper(t, lw.bin, slow, filepath.Join(lw.dir, "keeper-1.log"))
	for st := k.runStatus(t); st.Settlement == nil || st.Settlement.Rounds == 0; st = k.runStatus(t) {
		time.Sleep(50 * time.Millisecond) // its first round is over: the next is an hour away
	}
	serve(k, 5)
	k.p.stop()
	stale := filepath.Join(lw.dir, "journal-copy.db")
	copyFile(t, journalPath, stale)

	// The keeper goes on: runs 1..5 settle, runs 6..10 are served and settle.
	k = startKeeper(t, lw.bin, fast, filepath.Join(lw.dir, "keeper-2.log"))
	serve(k, 5)
	st := settled(t, k, filepath.Join(lw.dir, "keeper-2.log"))
	k.p.stop()
	if st.Settlement.ChainLastRunSeq != 10 {
		t.Fatalf("chain settled runs up to %d, want 10", st.Settlement.ChainLastRunSeq)
	}
	latest := filepath.Join(lw.dir, "journal-latest.db")
	copyFile(t, journalPath, latest)
	paid := journalCosts(t, latest, escrow)[journal.StateSettled]

	// The old copy is restored: the keeper refuses, with one line.
	copyFile(t, stale, journalPath)
	ctx, cancel := context.WithTimeout(lw.ctx, time.Minute)
	defer cancel()
	out, err := osexec.CommandContext(ctx, lw.bin, "run", "--config", fast).CombinedOutput()
	if err == nil {
		t.Fatalf("keeper started on a stale journal:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{"error: journal " + journalPath + " is behind node " + lw.w.NodeAddr.String(),
		"settled runs up to #10", "numbered runs up to #5", "5 unsettled runs", "restore the latest copy of the journal", "--accept-journal-loss"} {
		if !strings.Contains(last, want) {
			t.Fatalf("refusal %q does not say %q (output:\n%s)", last, want, out)
		}
	}
	t.Logf("refusal: %s", last)
	checkLane(t, lw, escrow, paid, 10)

	// A lost journal (a new, empty file) is refused the same way.
	if err := os.Rename(journalPath, journalPath+".aside"); err != nil {
		t.Fatal(err)
	}
	out, err = osexec.CommandContext(ctx, lw.bin, "run", "--config", fast).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "numbered runs up to #0 and holds 0 unsettled runs") {
		t.Fatalf("keeper on an empty journal: %v\n%s", err, out)
	}
	if err := os.Rename(journalPath+".aside", journalPath); err != nil {
		t.Fatal(err)
	}

	// The operator accepts the loss: the stale runs are written off, new
	// runs are numbered 11, 12, 13 and settle.
	logPath := filepath.Join(lw.dir, "keeper-3.log")
	p, addrs := start(t, lw.bin, logPath, func(line string) (string, bool) {
		var l struct{ Msg, API, Admin string }
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "keeper serving" {
			return "", false
		}
		return l.API + " " + l.Admin, true
	}, "run", "--config", fast, "--accept-journal-loss")
	api, admin, _ := strings.Cut(addrs, " ")
	k = keeperRun{p: p, api: api, admin: admin}
	defer k.p.stop()
	waitReady(t, k, logPath)
	if v := metricValue(t, k.admin, `keeper_settlement_written_off_runs_total{reason="journal_loss_accepted"}`); v != "5" {
		t.Fatalf("runs written off for the journal loss: %q, want 5", v)
	}
	serve(k, 3)
	st = settled(t, k, logPath)
	if st.Settlement.ChainLastRunSeq != 13 || st.JournalRunSeq != 13 {
		t.Fatalf("after accepting the loss: chain run %d, journal run %d; want 13", st.Settlement.ChainLastRunSeq, st.JournalRunSeq)
	}
	k.p.stop()
	costs := journalCosts(t, journalPath, escrow)
	if costs[journal.StateFailed] == 0 || costs[journal.StateRecorded]+costs[journal.StateBatched] != 0 {
		t.Fatalf("journal after accepting: %v", costs)
	}
	// The three new runs are the only new charge: nothing settled twice.
	checkLane(t, lw, escrow, paid+costs[journal.StateSettled], 13)
}

// checkLane checks that the escrow paid exactly spent, through the node's
// lane, with the node's run mark at lastRun.
func checkLane(t *testing.T, lw *laneWorld, escrow solana.PublicKey, spent, lastRun uint64) {
	t.Helper()
	es, err := lw.w.Escrows(lw.ctx, []solana.PublicKey{escrow})
	if err != nil {
		t.Fatal(err)
	}
	l := settlement.LaneOf(es[0], lw.w.NodeAddr)
	node, err := settlerNode(lw)
	if err != nil {
		t.Fatal(err)
	}
	if l == nil || l.Spent != spent || es[0].Spent != spent || es[0].Unpaid != 0 || node != lastRun {
		t.Fatalf("escrow spent %d (lane %+v, unpaid %d), node's last run %d; want %d spent, last run %d", es[0].Spent, l, es[0].Unpaid, node, spent, lastRun)
	}
}

func settlerNode(lw *laneWorld) (uint64, error) {
	res, err := lw.w.Chain.RPC.GetAccountInfo(lw.ctx, pda.Node(lw.w.Node.Operator.PublicKey()))
	if err != nil {
		return 0, err
	}
	n, err := im.ParseAccount_Node(res.Value.Data.GetBinary())
	if err != nil {
		return 0, err
	}
	return n.LastRunSeq, nil
}

func waitReady(t *testing.T, k keeperRun, logPath string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + k.api + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("keeper not ready; log %s:\n%s", logPath, tailFile(logPath, 30))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
