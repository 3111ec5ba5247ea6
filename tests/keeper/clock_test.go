package keeper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
	"github.com/modelcommons/modelcommons/keepers/keeperd"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/keeper"
)

// syncBuffer is a log sink the daemon writes to from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestKeeperFollowsTheChainClock runs the keeper (in process: gateway,
// settler, chain clock) on a chain whose clock was moved a day ahead of
// this host's before the protocol, the model and the node were set up, and
// another day ahead while the keeper runs. Every run it serves is dated by
// the chain's clock — after the node's registration, never after the
// chain's clock — and settles: none is written off as served before
// registration or refused as served in the future, each is charged exactly
// what its receipt quoted (1 and 2 base units per input and output token,
// so costs are exact), and the audit against clients/settlement holds. With
// the host's clock the runs would date a day before the node registered
// and never settle. Also on the real chain: GET /v1/models lists only the
// configured model that is active on chain (another configured id has no
// model: listed nowhere, 404), and the keeper warns at start that its
// price refresh (the default 2 s) is not below the protocol's 1 s minimum
// hold-up.
func TestKeeperFollowsTheChainClock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := golocal.Start(t)
	day := 24 * time.Hour
	travel := func(by time.Duration) time.Time {
		t.Helper()
		now, err := c.Now(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at := now.Add(by)
		if err := c.TimeTravel(ctx, at); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			if now, err := c.Now(ctx); err == nil && !now.Before(at) {
				return at
			}
			if i > 100 {
				t.Fatalf("chain clock did not reach %s", at)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	travel(day)
	w, err := keeper.NewWorld(ctx, c, mt.QueryPrice{InputPer1k: 1_000, OutputPer1k: 2_000})
	if err != nil {
		t.Fatal(err)
	}
	apiKey := keeper.NewAPIKey()
	escrow, err := w.OpenEscrow(ctx, apiKey, 1_000*native, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, err := w.Snapshot(ctx, []solana.PublicKey{escrow})
	if err != nil {
		t.Fatal(err)
	}

	sim := httptest.NewServer(workersim.New(workersim.Config{Models: []string{"sim-model", "ghost-model"}}))
	defer sim.Close()
	dir := t.TempDir()
	keypair := filepath.Join(dir, "keeper.json")
	writeKeypair(t, keypair, w.Node.Keeper)
	cfg := keeperconfig.Config{
		Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", Keypair: keypair, RPCURL: c.URL,
		Journal: keeperconfig.JournalConfig{Path: filepath.Join(dir, "journal.db")},
		Models:  []keeperconfig.ModelEntry{{Name: "sim-model", ID: w.Models[0].ID}, {Name: "ghost-model", ID: 4_000_000}},
		Workers: []keeperconfig.WorkerEntry{{Name: "sim", URL: sim.URL, Kind: "vllm", Models: []string{"sim-model", "ghost-model"}}},
		Pool:    keeperconfig.PoolConfig{HealthInterval: keeperconfig.Duration{Duration: 200 * time.Millisecond}},
		Settle:  keeperconfig.SettleConfig{Node: w.NodeAddr.String(), Interval: keeperconfig.Duration{Duration: 300 * time.Millisecond}},
		Chain:   keeperconfig.ChainConfig{ClockRefresh: keeperconfig.Duration{Duration: 200 * time.Millisecond}},
	}
	var logs syncBuffer
	d, err := keeperd.New(cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	api, _, err := d.Listen()
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	var runErr error
	stopKeeper := sync.OnceFunc(func() { stop(); runErr = <-done })
	defer stopKeeper()
	waitFor(t, 30*time.Second, "keeper ready", func() bool {
		resp, err := http.Get("http://" + api + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(logs.String(), "price_refresh is not below the protocol's min_period_secs") {
		t.Errorf("no start-up warning for a 2 s price refresh against the protocol's 1 s minimum hold-up; log:\n%s", logs.String())
	}

	// /v1/models agrees with serving: the ghost is configured and has a
	// worker, but no model on chain.
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	getJSON(t, "http://"+api+"/v1/models", &list)
	if len(list.Data) != 1 || list.Data[0].ID != "sim-model" {
		t.Fatalf("GET /v1/models: %+v, want only sim-model", list.Data)
	}
	if st, _ := serveOne(t, api, apiKey, "ghost-model", false); st != http.StatusNotFound {
		t.Fatalf("request for the model that is not on chain: HTTP %d", st)
	}

	type served struct {
		id     string
		window [2]time.Time // the chain's clock just before and after the request
	}
	var runs []served
	serve := func(n int) {
		for i := 0; i < n; i++ {
			lo, err := c.Now(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st, id := serveOne(t, api, apiKey, "sim-model", i%2 == 0)
			if st != http.StatusOK || id == "" {
				t.Fatalf("run %d: HTTP %d; keeper log:\n%s", len(runs), st, logs.String())
			}
			hi, err := c.Now(ctx)
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, served{id: id, window: [2]time.Time{lo, hi}})
		}
	}
	serve(4)
	// Another day ahead while the keeper runs: it follows within a clock refresh.
	ahead := travel(day)
	waitFor(t, 10*time.Second, "the keeper's clock to follow the chain", func() bool {
		st, err := d.Status()
		return err == nil && st.ChainClock != nil && !st.ChainClock.Now.Before(ahead)
	})
	serve(4)

	waitFor(t, 90*time.Second, "settlement to drain", func() bool {
		st, err := d.Status()
		return err == nil && st.Unbatched == 0 && st.PendingBatches == 0 && st.Settlement != nil &&
			st.Settlement.ChainKnown && st.Settlement.ChainLastBatch == st.Settlement.LocalLastSettled && st.Settlement.LocalLastSettled > 0
	})
	stopKeeper()
	if runErr != nil {
		t.Fatalf("keeper run: %v", runErr)
	}

	j, err := journal.Open(journal.Config{Path: cfg.Journal.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	res, err := w.Audit(ctx, j, before)
	if err != nil {
		t.Fatal(err)
	}
	var quoted uint64
	for _, r := range runs {
		id, err := receipts.ParseRunID(r.id)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := res.Settled[id]
		if !ok {
			got, _ := j.Get(id)
			t.Fatalf("run %s was not settled: journal state %s", r.id, got.State)
		}
		rc := e.Signed.Receipt
		// Dated by the chain's clock: within the chain's second before the
		// request and the one after (the estimate trails by under a second
		// or two), a day or two ahead of this host's clock.
		if s := rc.ServedAt(); s.Before(r.window[0].Add(-2*time.Second)) || s.After(r.window[1].Add(time.Second)) {
			t.Fatalf("run %s served at %s; the chain's clock read %s .. %s around it", r.id, s.UTC(), r.window[0].UTC(), r.window[1].UTC())
		}
		if rc.Cost != rc.InputTokens+2*rc.OutputTokens {
			t.Fatalf("run %s quoted %d for %d in / %d out", r.id, rc.Cost, rc.InputTokens, rc.OutputTokens)
		}
		quoted += rc.Cost
	}
	var debits uint64
	for _, v := range res.Debits {
		debits += v
	}
	if len(res.Settled) != len(runs) || debits != quoted || res.Charged != quoted || res.Shortfall != 0 {
		t.Fatalf("%d runs served, %d settled; escrow debited %d, batches charged %d (shortfall %d); the receipts quoted %d",
			len(runs), len(res.Settled), debits, res.Charged, res.Shortfall, quoted)
	}
	for _, reason := range []string{"served_before_node_registration", "ServedInFuture", "ServedBeforeRegistration"} {
		if strings.Contains(logs.String(), reason) {
			t.Errorf("the keeper log mentions %s:\n%s", reason, logs.String())
		}
	}
	t.Logf("%d runs dated a day and two days ahead of this host, settled in %d batches, %d base units = their quotes", len(runs), res.Batches, debits)
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// serveOne sends one chat completion and returns its status and run id.
func serveOne(t *testing.T, api, key, model string, stream bool) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"What time is it on chain?"}],"max_tokens":8,"stream":%v}`, model, stream)
	req, err := http.NewRequest(http.MethodPost, "http://"+api+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Run-Id")
}
