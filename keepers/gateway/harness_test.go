package gateway

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

// Test API keys and their escrows.
const (
	keyRich    = "sk-test-rich-0123456789"
	keyPoor    = "sk-test-poor-0123456789"
	keyOnlyA   = "sk-test-only-model-a-01"
	keyRotated = "sk-test-rotated-0123456"
	keyUnknown = "sk-test-nobody-01234567"
)

var testPrices = StaticPrices{1: {InputPer1k: 1000, OutputPer1k: 2000}, 2: {InputPer1k: 500, OutputPer1k: 700}, 3: {InputPer1k: 10, OutputPer1k: 10}}

type harness struct {
	t       *testing.T
	gw      *Gateway
	srv     *httptest.Server
	journal *journal.Journal
	escrows *MemoryEscrows
	sims    map[string]*workersim.Sim
	stops   []func()
	pool    *workers.Pool
	key     ed25519.PrivateKey
}

type harnessOpts struct {
	// workers: name -> (models, sim config)
	workers map[string]workersim.Config
	models  map[string][]string
	mutate  func(*Config)
}

func defaultWorkers() harnessOpts {
	return harnessOpts{
		workers: map[string]workersim.Config{
			"gpu-a": {Models: []string{"model-a", "model-b"}},
			"gpu-b": {Models: []string{"model-a"}},
		},
		models: map[string][]string{"gpu-a": {"model-a", "model-b"}, "gpu-b": {"model-a"}},
	}
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	h := &harness{t: t, sims: map[string]*workersim.Sim{}}
	var wcs []workers.WorkerConfig
	for _, name := range sortedKeys(o.workers) {
		sim := workersim.New(o.workers[name])
		srv := httptest.NewServer(sim)
		var once sync.Once
		stop := func() { once.Do(srv.Close) }
		t.Cleanup(stop)
		h.stops = append(h.stops, stop)
		h.sims[name] = sim
		wcs = append(wcs, workers.WorkerConfig{Name: name, URL: srv.URL, Kind: workers.KindVLLM, Models: o.models[name]})
	}
	pool, err := workers.New(workers.Config{Workers: wcs, BreakerThreshold: 100})
	if err != nil {
		t.Fatal(err)
	}
	pool.CheckNow(context.Background())
	h.pool = pool
	j, err := journal.Open(journal.Config{Path: filepath.Join(t.TempDir(), "journal.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	h.journal = j
	h.escrows = NewMemoryEscrows()
	limit := uint64(1_000_000)
	h.putEscrow(keyRich, EscrowState{Lane: &Lane{Balance: 1_000_000_000}})
	h.putEscrow(keyPoor, EscrowState{Lane: &Lane{Balance: 1_000_000}, SpendLimit: &limit, Spent: 999_990})
	h.putEscrow(keyOnlyA, EscrowState{Lane: &Lane{Balance: 1_000_000_000}, AllowedModels: []uint64{1}})
	other := solana.NewWallet().PublicKey()
	h.putEscrow(keyRotated, EscrowState{Lane: &Lane{Balance: 1_000_000_000}, RotatedTo: &other})
	seed := sha256.Sum256([]byte("gateway test keeper"))
	h.key = ed25519.NewKeyFromSeed(seed[:])
	cfg := Config{
		Models:   []ModelConfig{{Name: "model-a", ID: 1}, {Name: "model-b", ID: 2}},
		Pool:     pool,
		Escrows:  h.escrows,
		Prices:   testPrices,
		Journal:  j,
		Key:      h.key,
		Registry: prometheus.NewRegistry(),
		Unsettled: func() uint64 {
			return j.UnsettledTotal()
		},
	}
	if o.mutate != nil {
		o.mutate(&cfg)
	}
	gw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.gw = gw
	h.srv = httptest.NewServer(gw.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (h *harness) putEscrow(key string, st EscrowState) {
	st.Address = EscrowAddress(key)
	st.KeyHash = apikey.ID(key)
	h.escrows.Put(st)
}

func (h *harness) do(method, path, key, body string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// apiErr decodes an OpenAI-style error body, failing if it is not one.
func apiErr(t *testing.T, resp *http.Response) errorFields {
	t.Helper()
	var e errorBody
	b := readAll(t, resp.Body)
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("not an OpenAI error body (HTTP %d): %s", resp.StatusCode, b)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("error response without X-Request-Id")
	}
	return e.Error
}

// sseData returns the data payloads of an SSE body.
func sseData(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

// receiptsOf returns every receipt of an escrow, waiting briefly for none.
func (h *harness) receiptsOf(key string) []journal.Entry {
	h.t.Helper()
	es, err := h.journal.Receipts(EscrowAddress(key), receipts.RunID{}, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

// heldReservations is how many escrows have admission reservations held.
func (h *harness) heldReservations() int {
	h.gw.admitMu.Lock()
	defer h.gw.admitMu.Unlock()
	return len(h.gw.reserved)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
