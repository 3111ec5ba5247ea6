package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/workers"
	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

// --- limits ---
//
// The per-key limits under load. Two questions, one run:
//
//  1. Accuracy: at the offered rate, spread over keys whose budgets bind
//     (half of them on requests per minute, half on tokens per minute,
//     each a tenth of what the key is offered), how many requests and
//     tokens are admitted over a window from a fresh start against the
//     budget? A fresh bucket holds one minute's budget (the documented
//     burst) and refills continuously, so a key may take its budget plus
//     the refill over the window; the last request that would overdraw
//     the bucket is refused, so up to one request (rpm) or one request's
//     worst case (tpm) a key may be left over: that is the allowance
//     below the expected figure.
//  2. Cost: the gateway's added p50 with limits off and with limits on
//     (every key limited, budgets too large to bind, so both serve the
//     same requests), alternated, same worker, same journal.

type limitsAccuracy struct {
	Limit    string  `json:"limit"` // "rpm" or "tpm"
	Keys     int     `json:"keys"`
	PerKey   int64   `json:"budget_per_key_per_min"`
	Offered  int     `json:"offered"`
	Admitted int64   `json:"admitted"` // requests, or tokens charged for tpm
	Expected float64 `json:"expected"`
	// Allowance is how far below Expected the admitted figure may
	// legitimately be: a request is refused when the bucket holds less
	// than it may take (one request, or one request's worst case in
	// tokens, per key).
	Allowance float64 `json:"allowance"`
	ErrorPct  float64 `json:"error_pct"`
	Within1   bool    `json:"within_1pct"`
}

type limitsLatency struct {
	Round  int         `json:"round"`
	Direct latencyJSON `json:"direct"`
	Off    latencyJSON `json:"off"`
	On     latencyJSON `json:"on"`
}

type limitsResult struct {
	Rate        int              `json:"rate"`
	WindowS     float64          `json:"window_s"`
	Accuracy    []limitsAccuracy `json:"accuracy"`
	Latency     []limitsLatency  `json:"latency"`
	AddedOffP50 float64          `json:"added_p50_off_ms"` // median over rounds
	AddedOnP50  float64          `json:"added_p50_on_ms"`
	GrowthMs    float64          `json:"p50_growth_ms"` // median of the rounds' on − off
	GOMAXPROCS  int              `json:"gomaxprocs"`
}

func benchLimits(args []string) error {
	fs := flag.NewFlagSet("limits", flag.ExitOnError)
	dir := fs.String("dir", "bench-out", "directory for the journal file")
	rate := fs.Int("rate", 2000, "requests per second offered")
	keys := fs.Int("keys", 20, "API keys the load is spread over (half limited by rpm, half by tpm)")
	window := fs.Duration("window", 10*time.Second, "accuracy: measured window, from fresh buckets")
	step := fs.Duration("duration", 4*time.Second, "cost: time per latency step")
	rounds := fs.Int("rounds", 5, "cost: rounds of direct / limits off / limits on")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	_ = fs.Parse(args)
	if *keys < 2 || *rate <= 0 {
		return fmt.Errorf("need at least 2 keys and a positive rate")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(*dir, "bench-limits-journal.db")
	os.Remove(path)
	defer os.Remove(path)

	simURL, pool, j, stop, err := benchBackend(path)
	if err != nil {
		return err
	}
	defer stop()

	const maxTokens = 16
	body := []byte(fmt.Sprintf(`{"model":"bench-model","messages":[{"role":"user","content":"Summarise the keeper's job in one line."}],"max_tokens":%d,"ignore_eos":true}`, maxTokens))
	apiKeys := make([]string, *keys)
	esc := gateway.NewMemoryEscrows()
	for i := range apiKeys {
		apiKeys[i] = fmt.Sprintf("sk-keeperbench-limits-%06d", i)
		esc.Put(gateway.EscrowState{Address: gateway.EscrowAddress(apiKeys[i]), KeyHash: apikey.ID(apiKeys[i]), Lane: &gateway.Lane{Balance: 1 << 62}})
	}
	rpmKeys, tpmKeys := apiKeys[:*keys/2], apiKeys[*keys/2:]
	perKeyRate := float64(*rate) / float64(*keys) // requests/s offered per key
	// Budgets that bind: a tenth of what each key is offered.
	rpm := int64(perKeyRate * 60 / 10)
	// A request's charge, measured once through an unlimited gateway.
	start := func(lim gateway.Limits) (string, func(), error) {
		gw, err := gateway.New(gateway.Config{
			Models: []gateway.ModelConfig{{Name: "bench-model", ID: 1}}, Pool: pool, Escrows: esc,
			Prices: gateway.StaticPrices{1: {InputPer1k: 1000, OutputPer1k: 2000}}, Journal: j, Key: benchKey(),
			Registry: prometheus.NewRegistry(), Limits: lim,
		})
		if err != nil {
			return "", nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		srv := &http.Server{Handler: gw.Handler()}
		go srv.Serve(ln)
		return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 8192, MaxIdleConnsPerHost: 8192, DisableCompression: true, IdleConnTimeout: time.Minute}}

	offURL, stopOff, err := start(gateway.Limits{})
	if err != nil {
		return err
	}
	defer stopOff()
	probe := runMulti(client, offURL, apiKeys[:1], body, 50, 200*time.Millisecond)
	if probe.ok == 0 || probe.tokens[apiKeys[0]] == 0 {
		return fmt.Errorf("probe requests failed (%d errors)", probe.errors)
	}
	perReq := float64(probe.tokens[apiKeys[0]]) / float64(probe.ok)
	tpm := int64(perKeyRate * perReq * 60 / 10)

	over := map[solana.PublicKey]gateway.Rate{}
	for _, k := range rpmKeys {
		over[gateway.EscrowAddress(k)] = gateway.Rate{RPM: rpm}
	}
	for _, k := range tpmKeys {
		over[gateway.EscrowAddress(k)] = gateway.Rate{TPM: tpm}
	}
	bindURL, stopBind, err := start(gateway.Limits{Escrows: over})
	if err != nil {
		return err
	}
	defer stopBind()
	// Every key limited, budgets a thousand times what it is offered.
	loose := gateway.Limits{Key: gateway.Rate{RPM: int64(perKeyRate*60) * 1000, TPM: int64(perKeyRate*perReq*60) * 1000}}
	onURL, stopOn, err := start(loose)
	if err != nil {
		return err
	}
	defer stopOn()

	fmt.Printf("limits benchmark: loopback, GOMAXPROCS=%d, %d req/s over %d keys (%.0f req/s a key), %d output tokens (%.1f tokens charged a request); journal %s\n",
		runtime.GOMAXPROCS(0), *rate, *keys, perKeyRate, maxTokens, perReq, path)
	res := limitsResult{Rate: *rate, WindowS: window.Seconds(), GOMAXPROCS: runtime.GOMAXPROCS(0)}

	// 1. Accuracy.
	fmt.Printf("accuracy: budgets %d rpm (keys 1–%d) and %d tpm (keys %d–%d), a tenth of what each is offered; window %s from fresh buckets\n",
		rpm, len(rpmKeys), tpm, len(rpmKeys)+1, *keys, *window)
	w := runMulti(client, bindURL, apiKeys, body, *rate, *window)
	if w.errors > 0 {
		return fmt.Errorf("accuracy window: %d requests failed other than with 429", w.errors)
	}
	var reqs, toks int64
	for _, k := range rpmKeys {
		reqs += w.admitted[k]
	}
	for _, k := range tpmKeys {
		toks += w.tokens[k]
	}
	worst := float64(maxTokens) + perReq // generous: a request's worst case is its prompt estimate + max_tokens
	// From a fresh start: one full bucket, then the refill until the last
	// request was sent (measured: on a loaded machine the open loop can
	// fall behind its schedule, and the buckets refill by the clock).
	span := w.span.Seconds()
	for _, a := range []limitsAccuracy{
		{Limit: "rpm", Keys: len(rpmKeys), PerKey: rpm, Offered: w.offered / 2, Admitted: reqs,
			Expected: float64(rpm) * (1 + span/60) * float64(len(rpmKeys)), Allowance: float64(len(rpmKeys))},
		{Limit: "tpm", Keys: len(tpmKeys), PerKey: tpm, Offered: w.offered / 2, Admitted: toks,
			Expected: float64(tpm) * (1 + span/60) * float64(len(tpmKeys)), Allowance: worst * float64(len(tpmKeys))},
	} {
		switch {
		case float64(a.Admitted) > a.Expected:
			a.ErrorPct = (float64(a.Admitted) - a.Expected) / a.Expected * 100
		case float64(a.Admitted) < a.Expected-a.Allowance:
			a.ErrorPct = (float64(a.Admitted) - a.Expected + a.Allowance) / a.Expected * 100
		}
		a.Within1 = a.ErrorPct <= 1 && a.ErrorPct >= -1
		res.Accuracy = append(res.Accuracy, a)
		unit := "requests"
		if a.Limit == "tpm" {
			unit = "tokens"
		}
		fmt.Printf("  %s: %d keys × %d/min, %s window: admitted %d %s, budget (one full bucket + refill) %.0f (up to %.0f below it left unused): error %+.2f %% (within 1 %%: %v)\n",
			a.Limit, a.Keys, a.PerKey, *window, a.Admitted, unit, a.Expected, a.Allowance, a.ErrorPct, a.Within1)
	}

	// 2. Cost: alternate direct, off and on.
	var offs, ons, growth []float64
	for r := 1; r <= *rounds; r++ {
		runMulti(client, onURL, apiKeys, body, *rate, 500*time.Millisecond)
		d := runMulti(client, simURL, []string{""}, body, *rate, *step)
		// Alternate which goes first, so that a drift of the machine's
		// load does not always favour the same one.
		var off, on multiResult
		if r%2 == 1 {
			off = runMulti(client, offURL, apiKeys, body, *rate, *step)
			on = runMulti(client, onURL, apiKeys, body, *rate, *step)
		} else {
			on = runMulti(client, onURL, apiKeys, body, *rate, *step)
			off = runMulti(client, offURL, apiKeys, body, *rate, *step)
		}
		lr := limitsLatency{Round: r, Direct: d.json(), Off: off.json(), On: on.json()}
		res.Latency = append(res.Latency, lr)
		offs = append(offs, lr.Off.P50Ms-lr.Direct.P50Ms)
		ons = append(ons, lr.On.P50Ms-lr.Direct.P50Ms)
		growth = append(growth, lr.On.P50Ms-lr.Off.P50Ms)
		fmt.Printf("  round %d at %d req/s: direct p50 %.3f ms; added p50 limits off %.3f ms, on %.3f ms (p99 %.3f / %.3f); errors %d/%d/%d\n", r, *rate,
			lr.Direct.P50Ms, offs[r-1], ons[r-1], lr.Off.P99Ms-lr.Direct.P99Ms, lr.On.P99Ms-lr.Direct.P99Ms, d.errors, off.errors, on.errors)
	}
	res.AddedOffP50, res.AddedOnP50 = median(offs), median(ons)
	// The growth is the median of each round's on − off (paired: both
	// ran back to back on the same machine state).
	res.GrowthMs = median(growth)
	fmt.Printf("added p50, median of %d rounds: limits off %.3f ms, on %.3f ms; growth (median of the rounds' on − off) %+.3f ms (target ≤ 0.05 ms)\n", *rounds, res.AddedOffP50, res.AddedOnP50, res.GrowthMs)
	if *jsonOut != "" {
		return writeJSON(*jsonOut, res)
	}
	return nil
}

// benchBackend starts the worker (a workersim with no latency of its own)
// and its pool, and opens a journal at path; stop undoes both.
func benchBackend(path string) (simURL string, pool *workers.Pool, j *journal.Journal, stop func(), err error) {
	simURL, stopSim, err := startSim()
	if err != nil {
		return "", nil, nil, nil, err
	}
	pool, j, err = keeperBackend(simURL, path)
	if err != nil {
		stopSim()
		return "", nil, nil, nil, err
	}
	return simURL, pool, j, func() { j.Close(); stopSim() }, nil
}

// startSim serves a workersim for "bench-model" on loopback.
func startSim() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: workersim.New(workersim.Config{Models: []string{"bench-model"}})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// keeperBackend is the keeper's side of a benchmark: a pool with the one
// worker at workerURL, checked healthy, and a journal opened at path.
func keeperBackend(workerURL, path string) (*workers.Pool, *journal.Journal, error) {
	pool, err := workers.New(workers.Config{Workers: []workers.WorkerConfig{{Name: "sim", URL: workerURL, Kind: workers.KindVLLM, Models: []string{"bench-model"}}}})
	if err != nil {
		return nil, nil, err
	}
	pool.CheckNow(context.Background())
	j, err := journal.Open(journal.Config{Path: path})
	if err != nil {
		return nil, nil, err
	}
	return pool, j, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// multiResult is one open-loop run over several keys.
type multiResult struct {
	lat      []time.Duration // of the 200s
	offered  int
	ok       int
	limited  int // 429s
	errors   int // anything else
	admitted map[string]int64
	tokens   map[string]int64 // total_tokens charged, by key
	span     time.Duration    // from the first request sent to the last
}

func (m multiResult) json() latencyJSON {
	return latencyJSON{P50Ms: msf(pct(m.lat, .5)), P99Ms: msf(pct(m.lat, .99)), N: m.offered, Errors: m.errors}
}

// runMulti sends requests at rate for dur (open loop), key by key in turn,
// and counts the answers per key.
func runMulti(client *http.Client, base string, keys []string, body []byte, rate int, dur time.Duration) multiResult {
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, total)
	code := make([]int, total)
	toks := make([]int64, total)
	var wg sync.WaitGroup
	var fails atomic.Int64
	start := time.Now()
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if k := keys[i%len(keys)]; k != "" {
				req.Header.Set("Authorization", "Bearer "+k)
			}
			resp, err := client.Do(req)
			if err != nil {
				fails.Add(1)
				return
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				fails.Add(1)
				return
			}
			code[i], lat[i] = resp.StatusCode, time.Since(due)
			if resp.StatusCode == http.StatusOK {
				var out struct {
					Usage struct {
						TotalTokens int64 `json:"total_tokens"`
					} `json:"usage"`
				}
				if json.Unmarshal(data, &out) == nil {
					toks[i] = out.Usage.TotalTokens
				}
			}
		}()
	}
	last := time.Now()
	wg.Wait()
	m := multiResult{offered: total, errors: int(fails.Load()), admitted: map[string]int64{}, tokens: map[string]int64{}, span: last.Sub(start)}
	for i := range total {
		k := keys[i%len(keys)]
		switch code[i] {
		case http.StatusOK:
			m.ok++
			m.lat = append(m.lat, lat[i])
			m.admitted[k]++
			m.tokens[k] += toks[i]
		case http.StatusTooManyRequests:
			m.limited++
		case 0:
		default:
			m.errors++
		}
	}
	return m
}
