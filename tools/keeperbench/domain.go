package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/keepers/frontdoor"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/workers"
	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

// domainResult is `keeperbench domain --json`.
type domainResult struct {
	Members        int     `json:"members"`
	Clients        int     `json:"clients"`
	PerWorkerSlots int     `json:"per_worker_slots"`
	StepSeconds    float64 `json:"step_seconds"`
	GOMAXPROCS     int     `json:"gomaxprocs"`
	KeeperRPS      float64 `json:"keeper_rps"`
	DomainRPS      float64 `json:"domain_rps"`
	Ratio          float64 `json:"ratio"`
	KeeperRefused  int64   `json:"keeper_refused"`
	DomainRefused  int64   `json:"domain_refused"`
}

// benchDomain measures requests/s through a domain front door with n
// member keepers against one keeper alone, in the same run. Every keeper
// (the lone one and each member) fronts one simulated GPU that serves at
// most --slots requests at once (a worker over its slots is refused, as a
// saturated GPU is): the domain's point is to pool capacity.
func benchDomain(args []string) error {
	fs := flag.NewFlagSet("domain", flag.ExitOnError)
	dir := fs.String("dir", "bench-out", "directory for the journal files")
	members := fs.Int("members", 3, "member keepers behind the front door")
	clients := fs.Int("clients", 48, "concurrent clients (closed loop)")
	slots := fs.Int("slots", 8, "requests each simulated GPU serves at once")
	perToken := fs.Duration("per-token", 2*time.Millisecond, "simulated time per output token")
	tokens := fs.Int("max-tokens", 16, "output tokens per request")
	dur := fs.Duration("duration", 5*time.Second, "time per target")
	jsonOut := fs.String("json", "", "also write the result as JSON to this file")
	_ = fs.Parse(args)
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	esc := gateway.NewMemoryEscrows()
	esc.Put(gateway.EscrowState{Address: gateway.EscrowAddress(benchAPIKey), KeyHash: apikey.ID(benchAPIKey), Lane: &gateway.Lane{Balance: 1 << 62}})
	_, fdKey, _ := ed25519.GenerateKey(nil)

	var stops []func()
	defer func() {
		for _, s := range stops {
			s()
		}
	}()
	keeper := func(name string, fd ed25519.PublicKey) (string, error) {
		url, stop, err := benchMember(filepath.Join(*dir, "bench-domain-"+name+".db"), esc, fd, *slots, *perToken)
		stops = append(stops, stop)
		return url, err
	}
	alone, err := keeper("alone", nil)
	if err != nil {
		return err
	}
	var list frontdoor.StaticMembers
	for i := 0; i < *members; i++ {
		url, err := keeper(fmt.Sprintf("member-%d", i), fdKey.Public().(ed25519.PublicKey))
		if err != nil {
			return err
		}
		list = append(list, frontdoor.Member{Node: solana.NewWallet().PublicKey(), URL: url})
	}
	adm, err := gateway.NewAdmitter(gateway.Config{Models: []gateway.ModelConfig{{Name: "bench-model", ID: 1}}, Escrows: esc,
		Prices: gateway.StaticPrices{1: {InputPer1k: 1000, OutputPer1k: 2000}}})
	if err != nil {
		return err
	}
	router := frontdoor.NewRouter(frontdoor.RouterConfig{Source: list, Refresh: time.Second})
	if err := router.Refresh(context.Background()); err != nil {
		return err
	}
	rctx, rcancel := context.WithCancel(context.Background())
	defer rcancel()
	go router.Run(rctx)
	ledger := frontdoor.NewLedger(frontdoor.LedgerConfig{Chain: boundlessLane{}, Nodes: router.Nodes})
	fd, err := frontdoor.New(frontdoor.Config{Admitter: adm, Router: router, Ledger: ledger, Key: fdKey, Registry: prometheus.NewRegistry()})
	if err != nil {
		return err
	}
	fdURL, stop, err := serve(fd.Handler())
	if err != nil {
		return err
	}
	stops = append(stops, stop)

	body := fmt.Sprintf(`{"model":"bench-model","messages":[{"role":"user","content":"Summarise the keeper's job in one line."}],"max_tokens":%d,"ignore_eos":true}`, *tokens)
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, DisableCompression: true}}
	fmt.Printf("domain benchmark: loopback, GOMAXPROCS=%d, %d closed-loop clients, each simulated GPU %d slots × %d tokens × %v, %v per target\n",
		runtime.GOMAXPROCS(0), *clients, *slots, *tokens, *perToken, *dur)
	closedLoop(client, alone, body, *clients, 500*time.Millisecond)
	k, kRefused := closedLoop(client, alone, body, *clients, *dur)
	closedLoop(client, fdURL, body, *clients, 500*time.Millisecond)
	d, dRefused := closedLoop(client, fdURL, body, *clients, *dur)
	res := domainResult{Members: *members, Clients: *clients, PerWorkerSlots: *slots, StepSeconds: dur.Seconds(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		KeeperRPS: k, DomainRPS: d, KeeperRefused: kRefused, DomainRefused: dRefused}
	if k > 0 {
		res.Ratio = d / k
	}
	fmt.Printf("one keeper:                      %8.1f req/s (%d refused: GPU busy)\n", k, kRefused)
	fmt.Printf("front door + %d member keepers:   %8.1f req/s (%d refused)\n", *members, d, dRefused)
	fmt.Printf("ratio domain/keeper: %.2f (load generator, front door, keepers and simulators share this machine's cores)\n", res.Ratio)
	if *jsonOut != "" {
		return writeJSON(*jsonOut, res)
	}
	return nil
}

// boundlessLane is a chain whose domain lane never runs out: the benchmark
// measures routing, not admission.
type boundlessLane struct{}

func (boundlessLane) Read(_ context.Context, escrows, _ []solana.PublicKey) (frontdoor.Snapshot, error) {
	s := frontdoor.Snapshot{Available: map[solana.PublicKey]uint64{}}
	for _, e := range escrows {
		s.Available[e] = 1 << 62
	}
	return s, nil
}

// benchMember starts a keeper gateway (a domain member when fd is set)
// with a real journal in front of its own capacity-limited simulator.
func benchMember(path string, esc *gateway.MemoryEscrows, fd ed25519.PublicKey, slots int, perToken time.Duration) (string, func(), error) {
	os.Remove(path)
	simURL, stopSim, err := serve(workersim.New(workersim.Config{Models: []string{"bench-model"}, PerToken: perToken}))
	if err != nil {
		return "", func() {}, err
	}
	pool, err := workers.New(workers.Config{Workers: []workers.WorkerConfig{{Name: "gpu", URL: simURL, Kind: workers.KindVLLM,
		Models: []string{"bench-model"}, MaxOutstanding: slots}}, BreakerThreshold: 1 << 30})
	if err != nil {
		return "", stopSim, err
	}
	pool.CheckNow(context.Background())
	j, err := journal.Open(journal.Config{Path: path})
	if err != nil {
		return "", stopSim, err
	}
	gw, err := gateway.New(gateway.Config{Models: []gateway.ModelConfig{{Name: "bench-model", ID: 1}}, Pool: pool, Escrows: esc,
		Prices: gateway.StaticPrices{1: {InputPer1k: 1000, OutputPer1k: 2000}}, Journal: j, Key: benchKey(), FrontDoor: fd,
		Registry: prometheus.NewRegistry(), MaxAttempts: 1})
	if err != nil {
		j.Close()
		return "", stopSim, err
	}
	url, stopGW, err := serve(gw.Handler())
	return url, func() { stopGW(); stopSim(); j.Close(); os.Remove(path) }, err
}

func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", func() {}, err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// closedLoop runs n clients back to back for dur and returns the answered
// requests per second and how many were refused (a refused client waits
// 2ms before its next request).
func closedLoop(client *http.Client, base, body string, n int, dur time.Duration) (float64, int64) {
	var ok, refused atomic.Int64
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+benchAPIKey)
				resp, err := client.Do(req)
				if err != nil {
					refused.Add(1)
					time.Sleep(2 * time.Millisecond)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ok.Add(1)
				} else {
					refused.Add(1)
					time.Sleep(2 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / dur.Seconds(), refused.Load()
}
