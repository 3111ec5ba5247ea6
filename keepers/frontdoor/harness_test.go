package frontdoor

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

const userKey = "sk-domain-user-0123456789"

var prices = gateway.StaticPrices{1: {InputPer1k: 1000, OutputPer1k: 2000}}

var models = []gateway.ModelConfig{{Name: "tiny", ID: 1}}

// fakeChain is the chain as the ledger sees it: each escrow's domain lane
// and each member node's last_run_seq, changed only by settle (below) and
// read at one slot.
type fakeChain struct {
	mu      sync.Mutex
	slot    uint64
	lanes   map[solana.PublicKey]uint64
	runSeq  map[solana.PublicKey]uint64
	escrows *gateway.MemoryEscrows
	reads   int
}

func (c *fakeChain) Read(_ context.Context, escrows, nodes []solana.PublicKey) (Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	s := Snapshot{Slot: c.slot, Available: map[solana.PublicKey]uint64{}, RunSeq: map[solana.PublicKey]uint64{}}
	for _, e := range escrows {
		s.Available[e] = c.lanes[e]
	}
	for _, n := range nodes {
		s.RunSeq[n] = c.runSeq[n]
	}
	return s, nil
}

// setLane sets a lane on chain and in the escrow accounts everyone reads.
func (c *fakeChain) setLane(escrow solana.PublicKey, keyID solana.PublicKey, bal uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slot++
	c.lanes[escrow] = bal
	c.escrows.Put(gateway.EscrowState{Address: escrow, KeyHash: keyID, Lane: &gateway.Lane{Balance: bal}})
}

// member is one domain member keeper: a real gateway in front of a worker
// simulator, with its own journal.
type member struct {
	node    solana.PublicKey
	gw      *gateway.Gateway
	srv     *httptest.Server
	journal *journal.Journal
	sim     *workersim.Sim
	batch   uint64
}

type domainHarness struct {
	t       *testing.T
	chain   *fakeChain
	members []*member
	fdKey   ed25519.PrivateKey
	escrow  solana.PublicKey
	router  *Router
	ledger  *Ledger
	fd      *FrontDoor
	srv     *httptest.Server
}

func newDomain(t *testing.T, n int, lane uint64, extra ...Member) *domainHarness {
	t.Helper()
	_, fdKey, _ := ed25519.GenerateKey(nil)
	h := &domainHarness{t: t, fdKey: fdKey}
	h.chain = &fakeChain{lanes: map[solana.PublicKey]uint64{}, runSeq: map[solana.PublicKey]uint64{}, escrows: gateway.NewMemoryEscrows()}
	h.escrow = gateway.EscrowAddress(userKey)
	h.chain.setLane(h.escrow, apikey.ID(userKey), lane)
	var list StaticMembers
	for i := 0; i < n; i++ {
		m := h.newMember(i)
		h.members = append(h.members, m)
		list = append(list, Member{Node: m.node, URL: m.srv.URL + "/v1"})
	}
	list = append(list, extra...)
	adm, err := gateway.NewAdmitter(gateway.Config{Models: models, Escrows: h.chain.escrows, Prices: prices, DefaultMaxTokens: 64})
	if err != nil {
		t.Fatal(err)
	}
	h.router = NewRouter(RouterConfig{Source: list})
	if err := h.router.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.ledger = NewLedger(LedgerConfig{Chain: h.chain, Marks: h.router.marks, Nodes: h.router.Nodes})
	h.fd, err = New(Config{Admitter: adm, Router: h.router, Ledger: h.ledger, Key: fdKey, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.fd.Handler())
	t.Cleanup(h.srv.Close)
	return h
}

func (h *domainHarness) newMember(i int) *member {
	t := h.t
	sim := workersim.New(workersim.Config{Models: []string{"tiny"}, MinTokens: 4, MaxTokens: 24, Seed: uint64(i + 1)})
	ws := httptest.NewServer(sim)
	t.Cleanup(ws.Close)
	pool, err := workers.New(workers.Config{Workers: []workers.WorkerConfig{{Name: fmt.Sprintf("gpu-%d", i), URL: ws.URL, Kind: workers.KindVLLM, Models: []string{"tiny"}}}})
	if err != nil {
		t.Fatal(err)
	}
	pool.CheckNow(context.Background())
	j, err := journal.Open(journal.Config{Path: filepath.Join(t.TempDir(), "journal.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	_, key, _ := ed25519.GenerateKey(nil)
	node := solana.NewWallet().PublicKey()
	gw, err := gateway.New(gateway.Config{Models: models, Pool: pool, Escrows: h.chain.escrows, Prices: prices, Journal: j, Key: key,
		Node: node, FrontDoor: h.fdKey.Public().(ed25519.PublicKey), DefaultMaxTokens: 64, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return &member{node: node, gw: gw, srv: srv, journal: j, sim: sim}
}

// settle settles every member's recorded runs as the program would: the
// lane is debited and the node's last_run_seq raised in one slot, then the
// member's journal marks the batch settled (the settler's order: the chain
// first). It fails the test if the lane cannot pay: an over-served lane.
func (h *domainHarness) settle() {
	h.t.Helper()
	for _, m := range h.members {
		runs, err := m.journal.UnbatchedRuns(10_000)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(runs) == 0 {
			continue
		}
		var ids []receipts.RunID
		var cost, top uint64
		for _, r := range runs {
			if r.Escrow != h.escrow {
				h.t.Fatalf("run %s on escrow %x", r.ID, r.Escrow)
			}
			ids = append(ids, r.ID)
			cost += r.Cost
			top = max(top, r.Seq)
		}
		h.chain.mu.Lock()
		bal := h.chain.lanes[h.escrow]
		if cost > bal {
			h.chain.mu.Unlock()
			h.t.Fatalf("lane over-served: member %s owes %d, the lane holds %d", m.node, cost, bal)
		}
		h.chain.slot++
		h.chain.lanes[h.escrow] = bal - cost
		h.chain.runSeq[m.node] = top
		h.chain.escrows.Put(gateway.EscrowState{Address: h.escrow, KeyHash: apikey.ID(userKey), Lane: &gateway.Lane{Balance: bal - cost}})
		h.chain.mu.Unlock()
		m.batch++
		if _, err := m.journal.AssignBatch(m.batch, ids); err != nil {
			h.t.Fatal(err)
		}
		if err := m.journal.MarkSettled(m.batch, "sig", h.chain.slot); err != nil {
			h.t.Fatal(err)
		}
	}
}

// post sends a generation request to url.
func post(t *testing.T, url, path, key, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(t *testing.T, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const chatBody = `{"model":"tiny","messages":[{"role":"user","content":"hello domain"}],"max_tokens":32}`
const streamBody = `{"model":"tiny","messages":[{"role":"user","content":"hello domain"}],"max_tokens":32,"stream":true}`
