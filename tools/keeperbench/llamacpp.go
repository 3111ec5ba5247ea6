package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/workers"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// --- llamacpp: the keeper in front of a real llama.cpp llama-server ---

type llamacppRow struct {
	Streaming bool        `json:"streaming"`
	Direct    latencyJSON `json:"direct"`
	Keeper    latencyJSON `json:"keeper"`
}

type llamacppResult struct {
	OutputTokens int           `json:"output_tokens"`
	Requests     int           `json:"requests"`
	Journal      string        `json:"journal"`
	GOMAXPROCS   int           `json:"gomaxprocs"`
	Rows         []llamacppRow `json:"rows"`
}

// benchLlamaCpp measures the latency the keeper's gateway (admission,
// proxy, usage, the durable receipt) adds in front of a real llama-server
// with the tiny test model, against the same server called directly, in
// the same run: one client, one request at a time, the direct and the
// keeper request interleaved (order alternating) so both see the same
// server state, prompt cache included.
func benchLlamaCpp(args []string) error {
	fs := flag.NewFlagSet("llamacpp", flag.ExitOnError)
	dir := fs.String("dir", "bench-out", "directory for the journal file and the server's log")
	n := fs.Int("requests", 200, "requests per target and mode")
	tokens := fs.Int("max-tokens", 16, "output tokens per request (ignore_eos)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	_ = fs.Parse(args)
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	ctx := context.Background()
	srv, err := golocal.StartLlamaServer(ctx, "bench-model", filepath.Join(*dir, "bench-llama-server.log"))
	if err != nil {
		return err
	}
	defer srv.Kill()
	path := filepath.Join(*dir, "bench-llamacpp-journal.db")
	os.Remove(path)
	defer os.Remove(path)
	pool, err := workers.New(workers.Config{Workers: []workers.WorkerConfig{{Name: "llama", URL: srv.URL, Kind: workers.KindLlamaCpp, Models: []string{"bench-model"}}}})
	if err != nil {
		return err
	}
	pool.CheckNow(ctx)
	j, err := journal.Open(journal.Config{Path: path})
	if err != nil {
		return err
	}
	defer j.Close()
	gwURL, stopGateway, err := serveBenchGateway(pool, j)
	if err != nil {
		return err
	}
	defer stopGateway()

	fmt.Printf("llama.cpp benchmark: one client, %d requests per target and mode, %d output tokens, GOMAXPROCS=%d; llama-server (tiny test model, -np 1 -t 2) at %s; journal %s\n",
		*n, *tokens, runtime.GOMAXPROCS(0), srv.URL, path)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	res := llamacppResult{OutputTokens: *tokens, Requests: *n, Journal: path, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "streaming\tserver p50\tserver p99\tkeeper p50\tkeeper p99\tadded p50\tadded p99\tkeeper/server p50\terrors\t")
	for _, stream := range []bool{false, true} {
		body := []byte(fmt.Sprintf(`{"model":"bench-model","messages":[{"role":"user","content":"Summarise the keeper's job in one line."}],"max_tokens":%d,"ignore_eos":true,"temperature":0,"stream":%v}`, *tokens, stream))
		// Warm-up: connections, the prompt cache, the journal file.
		for i := 0; i < 10; i++ {
			timeOne(client, srv.URL, "", body)
			timeOne(client, gwURL, benchAPIKey, body)
		}
		var d, k []time.Duration
		var errs int
		var firstErr error
		for i := 0; i < *n; i++ {
			first, second := srv.URL, gwURL
			if i%2 == 1 {
				first, second = second, first
			}
			for _, base := range []string{first, second} {
				key := ""
				if base == gwURL {
					key = benchAPIKey
				}
				lat, err := timeOne(client, base, key, body)
				switch {
				case err != nil:
					errs++
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", base, err)
					}
				case base == gwURL:
					k = append(k, lat)
				default:
					d = append(d, lat)
				}
			}
		}
		dr := loadResult{p50: pct(d, .5), p99: pct(d, .99), n: *n, errors: *n - len(d)}
		kr := loadResult{p50: pct(k, .5), p99: pct(k, .99), n: *n, errors: *n - len(k)}
		fmt.Fprintf(tw, "%v\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%d/%d\t\n", stream, ms(dr.p50), ms(dr.p99), ms(kr.p50), ms(kr.p99),
			ms(kr.p50-dr.p50), ms(kr.p99-dr.p99), float64(kr.p50)/float64(max(dr.p50, 1)), errs, 2**n)
		res.Rows = append(res.Rows, llamacppRow{Streaming: stream, Direct: dr.json(), Keeper: kr.json()})
		if firstErr != nil {
			defer fmt.Printf("streaming=%v: first error: %v\n", stream, firstErr)
		}
	}
	tw.Flush()
	fmt.Println("all times in ms, from send to the last byte; the keeper's column includes its journal's group commit (one fsync per response)")
	if *jsonOut != "" {
		return writeJSON(*jsonOut, res)
	}
	return nil
}

// timeOne sends one chat request and reads the whole answer.
func timeOne(client *http.Client, base, key string, body []byte) (time.Duration, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	// llama-server may close a kept-alive connection after a stream; the
	// key (not sent: nil) lets Go's transport replay the request on a fresh
	// connection instead of failing it, as it does for GETs.
	req.Header["X-Idempotency-Key"] = nil
	t := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if bytes.Contains(body, []byte(`"stream":true`)) && !bytes.HasSuffix(b, []byte("data: [DONE]\n\n")) {
		return 0, fmt.Errorf("stream without [DONE]: %.300s", b)
	}
	return time.Since(t), nil
}
