// Command keeperbench measures the keeper on loopback, with its baseline in
// the same run:
//
//	go run ./tools/keeperbench gateway   # latency added by the gateway vs. the worker alone
//	go run ./tools/keeperbench journal   # durable receipts per second vs. one sync per receipt
//	go run ./tools/keeperbench journal-size  # file size per million receipts, before and after compaction
//	go run ./tools/keeperbench domain    # requests/s through a domain front door with 3 members vs one keeper
//	go run ./tools/keeperbench limits    # per-key limits at 2 000 req/s: admitted vs budget, added p50 with limits on vs off
//	go run ./tools/keeperbench llamacpp  # latency added in front of a real llama.cpp llama-server vs the server alone
//
// gateway --litellm <venv> adds a LiteLLM proxy in front of the same
// worker as the peer baseline; --json <file> writes any result as JSON
// (tools/benchreport reads it).
//
// Both run for a bounded time on 127.0.0.1 and print a table. The journal
// lives in --dir (default bench-out/, on the repository's disk: fsync
// latency is part of what is measured).
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: keeperbench gateway|journal|journal-size|domain|limits|llamacpp [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gateway":
		err = benchGateway(os.Args[2:])
	case "journal":
		err = benchJournal(os.Args[2:])
	case "journal-size":
		err = benchJournalSize(os.Args[2:])
	case "domain":
		err = benchDomain(os.Args[2:])
	case "limits":
		err = benchLimits(os.Args[2:])
	case "llamacpp":
		err = benchLlamaCpp(os.Args[2:])
	case "serve-gateway":
		// The keeper of a gateway benchmark, started by the benchmark.
		err = serveGateway(os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q (gateway, journal, journal-size, domain, limits or llamacpp)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func benchKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("keeperbench"))
	return ed25519.NewKeyFromSeed(seed[:])
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad list %q", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(p * float64(len(ds)-1))
	return ds[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

// fsyncBaseline measures one 4 KiB write + fsync, the cost a journal
// without group commit pays per receipt.
func fsyncBaseline(dir string, dur time.Duration) (perSec float64, p50, p99 time.Duration, err error) {
	f, err := os.CreateTemp(dir, "fsync-*")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	var ds []time.Duration
	start := time.Now()
	for i := 0; time.Since(start) < dur; i++ {
		t := time.Now()
		if _, err := f.WriteAt(buf, int64(i%256)*4096); err != nil {
			return 0, 0, 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, 0, 0, err
		}
		ds = append(ds, time.Since(t))
	}
	return float64(len(ds)) / time.Since(start).Seconds(), pct(ds, .5), pct(ds, .99), nil
}

// --- journal ---

func benchJournal(args []string) error {
	fs := flag.NewFlagSet("journal", flag.ExitOnError)
	dir := fs.String("dir", "bench-out", "directory for the journal file")
	levels := fs.String("writers", "1,64,1024,4096", "concurrent writers per step")
	dur := fs.Duration("duration", 3*time.Second, "time per step")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	_ = fs.Parse(args)
	var res journalResult
	ws, err := parseInts(*levels)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(*dir, "bench-journal.db")
	os.Remove(path)
	defer os.Remove(path)

	fmt.Printf("journal benchmark: %s, GOMAXPROCS=%d, %v per step\n", path, runtime.GOMAXPROCS(0), *dur)
	base, b50, b99, err := fsyncBaseline(*dir, 2*time.Second)
	if err != nil {
		return err
	}

	// Receipts are signed before timing (the gateway signs on its request
	// goroutines, in parallel); signing throughput is reported apart.
	key := benchKey()
	need := int(float64(150_000) * dur.Seconds() * float64(len(ws)))
	pre := make([]receipts.Signed, need)
	t0 := time.Now()
	var wg sync.WaitGroup
	per := (need + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
	for p := 0; p < need; p += per {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				var esc [32]byte
				esc[0] = byte(i % 97)
				now := time.Now().UnixMilli()
				s, err := receipts.Sign(receipts.Receipt{
					Version: receipts.Version, RunID: receipts.NewRunID(), Escrow: esc,
					Models:      []receipts.ModelShare{{ModelID: 1, WeightBps: 10000, InputPer1k: 1000, OutputPer1k: 2000}},
					InputTokens: 120, OutputTokens: 256, Cost: 600, ServedAtMs: now, CompletedAtMs: now + 40, Worker: "gpu-0",
				}, key)
				if err != nil {
					panic(err)
				}
				pre[i] = s
			}
		}(p, min(p+per, need))
	}
	wg.Wait()
	signRate := float64(need) / time.Since(t0).Seconds()

	j, err := journal.Open(journal.Config{Path: path})
	if err != nil {
		return err
	}
	defer j.Close()
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "writers\treceipts/s\tsyncs/s\treceipts/commit\tRecord p50 ms\tRecord p99 ms\tx baseline\t")
	next := atomic.Int64{}
	for _, w := range ws {
		st0 := j.Stats()
		stop := time.Now().Add(*dur)
		lat := make([][]time.Duration, w)
		var done atomic.Int64
		var exhausted atomic.Bool
		start := time.Now()
		for g := 0; g < w; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					i := next.Add(1) - 1
					if int(i) >= len(pre) {
						exhausted.Store(true)
						return
					}
					t := time.Now()
					if err := j.Record(context.Background(), pre[i]); err != nil {
						panic(err)
					}
					lat[g] = append(lat[g], time.Since(t))
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		el := time.Since(start).Seconds()
		st := j.Stats()
		var all []time.Duration
		for _, l := range lat {
			all = append(all, l...)
		}
		commits := st.Commits - st0.Commits
		rate := float64(done.Load()) / el
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.1f\t%s\t%s\t%.1f\t\n", w, rate, float64(commits)/el,
			float64(done.Load())/float64(max(commits, 1)), ms(pct(all, .5)), ms(pct(all, .99)), rate/base)
		res.Steps = append(res.Steps, journalStep{Writers: w, ReceiptsPerSec: rate, SyncsPerSec: float64(commits) / el,
			ReceiptsPerCommit: float64(done.Load()) / float64(max(commits, 1)), P50Ms: msf(pct(all, .5)), P99Ms: msf(pct(all, .99)), LowerBound: exhausted.Load()})
		if exhausted.Load() {
			fmt.Fprintln(tw, "(pre-signed receipts ran out: the rate above is a lower bound)\t")
		}
	}
	tw.Flush()
	fmt.Printf("baseline, one 4 KiB write + fsync per receipt: %.0f/s (p50 %s ms, p99 %s ms)\n", base, ms(b50), ms(b99))
	fmt.Printf("ed25519 receipt signing, %d goroutines: %.0f receipts/s (not in the table)\n", runtime.GOMAXPROCS(0), signRate)
	res.FsyncBaselinePerS, res.SignPerSec = base, signRate
	if *jsonOut != "" {
		return writeJSON(*jsonOut, res)
	}
	return nil
}

// --- gateway ---

const benchAPIKey = "sk-keeperbench-000000000001"

func benchGateway(args []string) error {
	fs := flag.NewFlagSet("gateway", flag.ExitOnError)
	dir := fs.String("dir", "bench-out", "directory for the journal file")
	rates := fs.String("rates", "250,500,1000,2000", "requests per second, one step each")
	dur := fs.Duration("duration", 4*time.Second, "time per step and target")
	stream := fs.Bool("stream", false, "streaming requests")
	tokens := fs.Int("max-tokens", 16, "output tokens per request")
	gc := fs.String("gc", "keeper", "the keeper's garbage collector: keeper (its default, keepers/gcpolicy, as keeper run applies it) or go (Go's own default, for comparison)")
	keeperMode := fs.String("keeper", "process", "where the keeper runs: process (its own, as in production) or in-process (beside the load generator and the worker, so one profile shows all three)")
	memJournal := fs.Bool("memory-journal", false, "diagnostic: an in-memory journal without durability, to separate the proxy's cost from the journal's (not a real configuration)")
	var profiles profileFlags
	profiles.register(fs)
	litellmVenv := fs.String("litellm", "", "also measure a LiteLLM proxy (the peer baseline) in front of the same worker: the venv holding it")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	_ = fs.Parse(args)
	rs, err := parseInts(*rates)
	if err != nil {
		return err
	}
	if *keeperMode != "process" && *keeperMode != "in-process" {
		return fmt.Errorf("--keeper %q: use process or in-process", *keeperMode)
	}
	inProcess := *keeperMode == "in-process"
	gcSetting, err := applyGC(*gc)
	if err != nil {
		return err
	}
	if !inProcess {
		// The load generator and the worker simulator are not the
		// keeper: they keep Go's default (or GOGC/GOMEMLIMIT), the same
		// for the baseline and the keeper's path.
		if _, err := applyGC("go"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(*dir, "bench-gateway-journal.db")
	os.Remove(path)
	defer os.Remove(path)

	simURL, stopSim, err := startSim()
	if err != nil {
		return err
	}
	defer stopSim()
	setup := keeperSetup{worker: simURL, journal: path, memJournal: *memJournal, gc: *gc, profiles: profiles}
	var keeper benchKeeper
	if inProcess {
		keeper, err = startInProcessKeeper(setup)
	} else {
		keeper, err = startChildKeeper(setup)
	}
	if err != nil {
		return err
	}
	defer func() {
		if err := keeper.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
	}()
	gwURL := keeper.URL()

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 8192, MaxIdleConnsPerHost: 8192, DisableCompression: true, IdleConnTimeout: time.Minute}}
	body := []byte(fmt.Sprintf(`{"model":"bench-model","messages":[{"role":"user","content":"Summarise the keeper's job in one line."}],"max_tokens":%d,"ignore_eos":true,"stream":%v}`, *tokens, *stream))

	jdesc := path
	if *memJournal {
		jdesc = "IN MEMORY, NOT DURABLE (diagnostic)"
	}
	where := "its own process"
	if inProcess {
		where = "this process, beside the load generator and the worker simulator"
	}
	fmt.Printf("gateway benchmark: loopback, GOMAXPROCS=%d, streaming=%v, %d output tokens, %v per step and target; journal %s; keeper in %s, garbage collector %s\n",
		runtime.GOMAXPROCS(0), *stream, *tokens, *dur, jdesc, where, gcSetting)
	if inProcess {
		stopProfiles, err := profiles.start()
		if err != nil {
			return err
		}
		defer stopProfiles()
	}
	fmt.Println("load generator, worker simulator and keeper share this machine's cores; latency is from the scheduled send time (open loop)")
	_, f50, f99, err := fsyncBaseline(*dir, time.Second)
	if err != nil {
		return err
	}
	var lite *litellmProxy
	if *litellmVenv != "" {
		if lite, err = startLiteLLM(*litellmVenv, simURL, *dir); err != nil {
			return err
		}
		defer lite.Stop()
		fmt.Printf("peer baseline: LiteLLM proxy at %s in front of the same worker (%d worker processes, log %s)\n", lite.URL, runtime.GOMAXPROCS(0), lite.log)
	}
	// LiteLLM may fall behind: its requests give up after 10 s (counted as errors).
	liteClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConns: 8192, MaxIdleConnsPerHost: 8192, DisableCompression: true, IdleConnTimeout: time.Minute}}
	res := gatewayResult{GC: gcSetting.String(), Keeper: *keeperMode, Streaming: *stream, OutputTokens: *tokens, StepSeconds: dur.Seconds(), Journal: jdesc, FsyncP50Ms: msf(f50), FsyncP99Ms: msf(f99), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "req/s\tdirect p50\tdirect p99\tkeeper p50\tkeeper p99\tadded p50\tadded p99\terrors\treceipts/commit\tmean commit ms\tjournal wait p50\tjournal wait p99\t"
	if lite != nil {
		head += "litellm p50\tlitellm p99\tlitellm added p50\tlitellm added p99\tlitellm errors\tours/theirs p50\tours/theirs p99\t"
	}
	fmt.Fprintln(tw, head)
	// Phase 1: the worker alone and through the keeper, rate by rate.
	var direct, viaKeeper []loadResult
	for _, rate := range rs {
		// Warm both paths' connection pools at this rate.
		runLoad(client, simURL, "", body, rate, 500*time.Millisecond)
		runLoad(client, gwURL, benchAPIKey, body, rate, 500*time.Millisecond)
		d := runLoad(client, simURL, "", body, rate, *dur)
		c0, err := keeper.Counters()
		if err != nil {
			return err
		}
		k := runLoad(client, gwURL, benchAPIKey, body, rate, *dur)
		c, err := keeper.Counters()
		if err != nil {
			return err
		}
		waits := c.waits()
		commits := max(c.Commits-c0.Commits, 1)
		rpc := float64(c.Records-c0.Records) / float64(commits)
		mc := time.Duration(c.CommitTimeNs-c0.CommitTimeNs) / time.Duration(commits)
		direct, viaKeeper = append(direct, d), append(viaKeeper, k)
		res.Steps = append(res.Steps, gatewayStep{Rate: rate, Direct: d.json(), Keeper: k.json(), ReceiptsPerCommit: rpc, MeanCommitMs: msf(mc),
			JournalWaitP50Ms: msf(pct(waits, .5)), JournalWaitP99Ms: msf(pct(waits, .99))})
	}
	// Phase 2: LiteLLM at the same rates, after the keeper's steps so that
	// the backlog of a rate it cannot keep up with never loads them; once
	// it is saturated (errors, or a median over a second) higher rates are
	// not sent to it.
	var lites []*loadResult
	saturated := false
	for _, rate := range rs {
		if lite == nil || saturated {
			lites = append(lites, nil)
			continue
		}
		runLoad(liteClient, lite.URL, lite.Key, body, rate, 500*time.Millisecond)
		l := runLoad(liteClient, lite.URL, lite.Key, body, rate, *dur)
		lite.drain(liteClient, body)
		lites = append(lites, &l)
		saturated = l.errors > 0 || l.p50 > time.Second
	}
	for i, rate := range rs {
		d, k := direct[i], viaKeeper[i]
		step := &res.Steps[i]
		line := fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%.1f\t%.3f\t%.3f\t%.3f\t", rate, ms(d.p50), ms(d.p99), ms(k.p50), ms(k.p99),
			ms(k.p50-d.p50), ms(k.p99-d.p99), d.errors+k.errors, d.n+k.n, step.ReceiptsPerCommit, step.MeanCommitMs, step.JournalWaitP50Ms, step.JournalWaitP99Ms)
		if l := lites[i]; l != nil {
			lj := l.json()
			step.LiteLLM = &lj
			line += fmt.Sprintf("%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t", ms(l.p50), ms(l.p99), ms(l.p50-d.p50), ms(l.p99-d.p99), l.errors, l.n,
				ratio(k.p50-d.p50, l.p50-d.p50), ratio(k.p99-d.p99, l.p99-d.p99))
		} else if lite != nil {
			step.LiteLLMSkipped = true
			line += "–\t–\t–\t–\tnot sent: saturated at a lower rate\t–\t–\t"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Printf("all times in ms. journal fsync on this disk: p50 %s ms, p99 %s ms (every keeper response waits for one group commit: one write of a frame to the preallocated receipt log and one fdatasync; bbolt gets the receipts later, in the background)\n", ms(f50), ms(f99))
	if *jsonOut != "" {
		return writeJSON(*jsonOut, res)
	}
	return nil
}

// memoryJournal keeps receipts in memory only: a diagnostic stand-in that
// shows what the gateway costs without the journal's syncs.
type memoryJournal struct {
	mu    sync.Mutex
	spend map[[32]byte]uint64
}

func (m *memoryJournal) Record(_ context.Context, s receipts.Signed) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spend == nil {
		m.spend = map[[32]byte]uint64{}
	}
	m.spend[s.Receipt.Escrow] += s.Receipt.Cost
	return nil
}

func (m *memoryJournal) UnsettledSpend(e [32]byte) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.spend[e]
}

func (m *memoryJournal) Receipts([32]byte, receipts.RunID, int) ([]journal.Entry, error) {
	return nil, nil
}

type loadResult struct {
	p50, p99  time.Duration
	n, errors int
}

// runLoad sends requests at a fixed rate for dur (open loop) and returns
// latency percentiles measured from each request's scheduled time.
func runLoad(client *http.Client, base, key string, body []byte, rate int, dur time.Duration) loadResult {
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, total)
	var errs atomic.Int64
	var wg sync.WaitGroup
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
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := client.Do(req)
			if err != nil {
				errs.Add(1)
				lat[i] = -1
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				errs.Add(1)
			}
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	ok := lat[:0:0]
	for _, l := range lat {
		if l >= 0 {
			ok = append(ok, l)
		}
	}
	return loadResult{p50: pct(ok, .5), p99: pct(ok, .99), n: total, errors: int(errs.Load())}
}

// serveBenchGateway serves a gateway on loopback in front of pool, with one
// funded escrow for benchAPIKey serving "bench-model" (model 1) and jn as
// its journal; it returns the gateway's URL and what stops it.
func serveBenchGateway(pool *workers.Pool, jn gateway.Journal) (string, func(), error) {
	esc := gateway.NewMemoryEscrows()
	esc.Put(gateway.EscrowState{Address: gateway.EscrowAddress(benchAPIKey), KeyHash: apikey.ID(benchAPIKey), Lane: &gateway.Lane{Balance: 1 << 62}})
	gw, err := gateway.New(gateway.Config{
		Models: []gateway.ModelConfig{{Name: "bench-model", ID: 1}}, Pool: pool, Escrows: esc,
		Prices: gateway.StaticPrices{1: {InputPer1k: 1000, OutputPer1k: 2000}}, Journal: jn, Key: benchKey(),
		Registry: prometheus.NewRegistry(),
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
