package keeper_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/keeper"
)

// The real keeper binary in front of two real llama.cpp llama-server
// processes (scripts/setup.sh builds the pinned server once; each serves
// the tiny model under its own alias), settling on the local chain. Chat
// and completions, streamed and not, with and without
// stream_options.include_usage, a mixture over both; one server SIGKILLed
// mid-stream (an error event, no [DONE], no receipt, no charge), the keeper
// routing around it until it is restarted (health back, traffic returns).
// A recording proxy between the keeper and each server keeps every body the
// servers wrote; for every run the receipt's tokens must equal the usage the
// servers reported (their usage object, else their timings: prompt_n +
// cache_n, predicted_n) to the token, the client must see the same usage,
// and the escrow and its lane must be debited exactly the receipts' costs.
func TestKeeperInFrontOfRealLlamaServers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the keeper binary and llama-server against the local chain")
	}
	if _, _, err := golocal.LlamaServerPaths(); err != nil {
		t.Fatal(err) // not a skip: CI must not pass without the real server
	}
	keeperBin, _ := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()

	// Two servers, one model each, as the fixture recorder runs them.
	var servers [2]*golocal.LlamaServer
	var proxies [2]*recorder
	for i, alias := range []string{"tiny-a", "tiny-b"} {
		s, err := golocal.StartLlamaServer(ctx, alias, filepath.Join(dir, alias+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Kill)
		servers[i], proxies[i] = s, newRecorder(t, s.URL)
	}

	c := golocal.Start(t)
	w, err := keeper.NewWorld(ctx, c, mt.QueryPrice{InputPer1k: 1_000, OutputPer1k: 2_000}, mt.QueryPrice{InputPer1k: 3_000, OutputPer1k: 5_000})
	if err != nil {
		t.Fatal(err)
	}
	key := keeper.NewAPIKey()
	escrow, err := w.OpenEscrow(ctx, key, 1_000*native, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, err := w.Snapshot(ctx, []solana.PublicKey{escrow})
	if err != nil {
		t.Fatal(err)
	}
	keypair := filepath.Join(dir, "keeper.json")
	writeKeypair(t, keypair, w.Node.Keeper)
	cfg := filepath.Join(dir, "keeper.toml")
	writeFile(t, cfg, fmt.Sprintf(`listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
keypair = %q
rpc_url = %q
log_format = "json"
log_level = "info"

[journal]
path = %q

[pool]
health_interval = "100ms"
health_timeout = "1s"

[[model]]
name = "tiny-a"
id = %d

[[model]]
name = "tiny-b"
id = %d

[[worker]]
name = "llama-a"
url = %q
kind = "llamacpp"
models = ["tiny-a"]

[[worker]]
name = "llama-b"
url = %q
kind = "llamacpp"
models = ["tiny-b"]

[settle]
node = %q
interval = "300ms"
`, keypair, c.URL, filepath.Join(dir, "journal.db"), w.Models[0].ID, w.Models[1].ID, proxies[0].url, proxies[1].url, w.NodeAddr))
	logPath := filepath.Join(dir, "keeper.log")
	kr := startKeeper(t, keeperBin, cfg, logPath)
	defer kr.p.stop()

	single := map[string][]receipts.ModelShare{"tiny-a": w.Models[0].Single(), "tiny-b": w.Models[1].Single()}
	var runs []llamaRun
	serve := func(model, endpoint string, stream, includeUsage bool, shares []receipts.ModelShare, want int) {
		t.Helper()
		r := sendLlama(t, kr.api, key, model, endpoint, stream, includeUsage, 8)
		// A proxy hands a body over when it closes it, just after the
		// last byte went on to the keeper.
		var calls []serverCall
		for deadline := time.Now().Add(2 * time.Second); len(calls) < want && time.Now().Before(deadline); {
			for _, p := range proxies {
				calls = append(calls, p.take()...)
			}
			if len(calls) < want {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if len(calls) != want {
			t.Fatalf("%s: the servers answered %d calls, want %d", r.name, len(calls), want)
		}
		for _, call := range calls {
			in, out := call.usage(t)
			r.serverIn += in
			r.serverOut += out
		}
		r.shares = shares
		runs = append(runs, r)
	}
	for _, model := range []string{"tiny-a", "tiny-b"} {
		for _, ep := range []string{"/v1/chat/completions", "/v1/completions"} {
			serve(model, ep, false, false, single[model], 1)
			serve(model, ep, true, false, single[model], 1)
			serve(model, ep, true, true, single[model], 1)
		}
	}
	// A mixture: tiny-b answers first, then tiny-a aggregates; the receipt
	// charges the tokens of both calls, half to each model.
	mix := keeper.Mixture(w.Models, []uint16{5_000, 5_000})
	serve("mix:tiny-a+tiny-b", "/v1/chat/completions", false, false, mix, 2)
	serve("mix:tiny-a+tiny-b", "/v1/chat/completions", true, true, mix, 2)

	// tiny-a's server is SIGKILLed while it streams a long answer: the
	// client gets an error event and no [DONE]; the run has no receipt.
	killed := killMidStream(t, kr.api, key, servers[0])
	proxies[0].take()
	waitWorker(t, kr, "llama-a", false)
	if code, body := chatModel(t, kr.api, key, "tiny-a"); code != http.StatusServiceUnavailable {
		t.Fatalf("tiny-a with its server down: HTTP %d %s, want 503", code, body)
	}
	serve("tiny-b", "/v1/chat/completions", true, true, single["tiny-b"], 1) // the other server still serves

	// Back on the same port, first still loading its model: the keeper reads
	// the real server's 503 "Loading model" and keeps it out of routing.
	if err := servers[0].StartLoading(ctx); err != nil {
		t.Fatal(err)
	}
	waitWorkerError(t, kr, "llama-a", "HTTP 503: Loading model")
	if code, body := chatModel(t, kr.api, key, "tiny-a"); code != http.StatusServiceUnavailable {
		t.Fatalf("tiny-a while its server loads: HTTP %d %s, want 503", code, body)
	}
	servers[0].Kill()
	// Restarted with its model: healthy again, and tiny-a is served.
	if err := servers[0].Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitWorker(t, kr, "llama-a", true)
	serve("tiny-a", "/v1/chat/completions", false, false, single["tiny-a"], 1)
	serve("tiny-a", "/v1/chat/completions", true, false, single["tiny-a"], 1)

	settled(t, kr, logPath)
	kr.p.stop()

	// Every receipt: the servers' usage to the token, priced as settlement
	// prices it; the killed run has none.
	j, err := journal.Open(journal.Config{Path: filepath.Join(dir, "journal.db"), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	entries, err := j.Receipts(escrow, [16]byte{}, 1_000)
	if err != nil {
		t.Fatal(err)
	}
	byRun := map[string]journal.Entry{}
	for _, e := range entries {
		byRun[e.Signed.Receipt.RunID.String()] = e
	}
	if _, ok := byRun[killed]; ok {
		t.Fatalf("the run cut by the server's death has a receipt: %+v", byRun[killed].Signed.Receipt)
	}
	if len(byRun) != len(runs) {
		t.Fatalf("%d receipts for %d served runs", len(byRun), len(runs))
	}
	// The chain charges each settle entry (the runs of one batch with the
	// same models) its tokens' cost rounded up once: that is what the escrow
	// pays. Each receipt's cost is its own tokens' cost rounded up, so the
	// receipts of an entry may add up to a little more.
	type entryKey struct {
		batch  uint64
		shares string
	}
	type entryTokens struct {
		in, out uint64
		shares  []receipts.ModelShare
	}
	entriesByKey := map[entryKey]*entryTokens{}
	var quoted uint64
	for _, r := range runs {
		e, ok := byRun[r.id]
		if !ok {
			t.Fatalf("%s: no receipt for run %s", r.name, r.id)
		}
		rc := e.Signed.Receipt
		want := settlementCost(t, r.serverIn, r.serverOut, r.shares)
		if e.State != journal.StateSettled || rc.Estimated || rc.Partial ||
			rc.InputTokens != r.serverIn || rc.OutputTokens != r.serverOut || rc.Cost != want {
			t.Fatalf("%s: receipt %s %d in, %d out, cost %d (estimated %v, partial %v); the servers reported %d in, %d out: cost %d",
				r.name, e.State, rc.InputTokens, rc.OutputTokens, rc.Cost, rc.Estimated, rc.Partial, r.serverIn, r.serverOut, want)
		}
		if r.clientIn != r.serverIn || r.clientOut != r.serverOut || r.clientCost != want {
			t.Fatalf("%s: the client saw %d in, %d out, cost %d; the servers reported %d in, %d out (cost %d)",
				r.name, r.clientIn, r.clientOut, r.clientCost, r.serverIn, r.serverOut, want)
		}
		quoted += want
		k := entryKey{e.BatchSeq, fmt.Sprint(r.shares)}
		if entriesByKey[k] == nil {
			entriesByKey[k] = &entryTokens{shares: r.shares}
		}
		entriesByKey[k].in += r.serverIn
		entriesByKey[k].out += r.serverOut
		t.Logf("%-58s run %s: %d in, %d out, cost %d, batch %d", r.name, r.id, rc.InputTokens, rc.OutputTokens, rc.Cost, e.BatchSeq)
	}
	var charged uint64
	for _, et := range entriesByKey {
		charged += settlementCost(t, et.in, et.out, et.shares)
	}
	checkEscrowSpent(t, w, escrow, charged)
	if _, err := w.Audit(ctx, j, before); err != nil {
		t.Fatalf("audit: %v", err)
	}
	t.Logf("%d runs in %d settle entries; escrow and lane debited %d base units (the receipts quote %d: per-run rounding); every receipt equal to the servers' usage",
		len(runs), len(entriesByKey), charged, quoted)
}

// llamaRun is one request through the keeper: what the client saw and
// what the servers behind it reported.
type llamaRun struct {
	name                            string
	id                              string
	clientIn, clientOut, clientCost uint64
	serverIn, serverOut             uint64
	shares                          []receipts.ModelShare
}

// sendLlama sends one request and reads the usage the client is shown:
// the body's usage and the X-Usage-* headers (non-streamed), the usage
// chunk (include_usage) and the X-Usage-* trailers (streamed).
func sendLlama(t *testing.T, api, key, model, endpoint string, stream, includeUsage bool, maxTokens int) llamaRun {
	t.Helper()
	r := llamaRun{name: fmt.Sprintf("%s %s stream=%v include_usage=%v", model, endpoint, stream, includeUsage)}
	body := map[string]any{"model": model, "max_tokens": maxTokens, "temperature": 0, "seed": 42}
	if endpoint == "/v1/completions" {
		body["prompt"] = "The quick brown fox"
	} else {
		body["messages"] = []map[string]string{{"role": "user", "content": "Hello, who are you?"}}
	}
	if stream {
		body["stream"] = true
		if includeUsage {
			body["stream_options"] = map[string]bool{"include_usage": true}
		}
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+api+endpoint, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d %v %s", r.name, resp.StatusCode, err, raw)
	}
	r.id = resp.Header.Get("X-Run-Id")
	hdr := resp.Header
	if stream {
		hdr = resp.Trailer
		if !strings.HasSuffix(string(raw), "data: [DONE]\n\n") {
			t.Fatalf("%s: stream without [DONE]: %s", r.name, raw)
		}
		var usageChunks int
		for _, data := range sseData(raw) {
			var ch struct{ Usage *wireUsage }
			if json.Unmarshal([]byte(data), &ch) == nil && ch.Usage != nil {
				usageChunks++
				if ch.Usage.Prompt != hdrInt(t, hdr, "X-Usage-Prompt-Tokens") || ch.Usage.Completion != hdrInt(t, hdr, "X-Usage-Completion-Tokens") {
					t.Fatalf("%s: usage chunk %+v differs from the trailers %v", r.name, *ch.Usage, hdr)
				}
			}
		}
		if includeUsage && usageChunks == 0 {
			t.Fatalf("%s: include_usage but no usage chunk: %s", r.name, raw)
		}
	} else {
		var full struct{ Usage *wireUsage }
		if json.Unmarshal(raw, &full) != nil || full.Usage == nil ||
			full.Usage.Prompt != hdrInt(t, hdr, "X-Usage-Prompt-Tokens") || full.Usage.Completion != hdrInt(t, hdr, "X-Usage-Completion-Tokens") {
			t.Fatalf("%s: body usage and X-Usage headers %v disagree: %s", r.name, hdr, raw)
		}
	}
	r.clientIn = hdrInt(t, hdr, "X-Usage-Prompt-Tokens")
	r.clientOut = hdrInt(t, hdr, "X-Usage-Completion-Tokens")
	r.clientCost = hdrInt(t, hdr, "X-Usage-Cost")
	if r.id == "" || hdr.Get("X-Usage-Estimated") != "false" {
		t.Fatalf("%s: run id %q, estimated %q", r.name, r.id, hdr.Get("X-Usage-Estimated"))
	}
	return r
}

type wireUsage struct {
	Prompt     uint64 `json:"prompt_tokens"`
	Completion uint64 `json:"completion_tokens"`
}

func hdrInt(t *testing.T, h http.Header, name string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(h.Get(name), 10, 64)
	if err != nil {
		t.Fatalf("%s %q: %v", name, h.Get(name), err)
	}
	return v
}

func sseData(raw []byte) []string {
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if d, ok := strings.CutPrefix(line, "data: "); ok && d != "[DONE]" {
			out = append(out, d)
		}
	}
	return out
}

func settlementCost(t *testing.T, in, out uint64, shares []receipts.ModelShare) uint64 {
	t.Helper()
	var cost uint64
	for _, s := range shares {
		c, err := settlement.ShareCost(in, out, s.InputPer1k, s.OutputPer1k, s.WeightBps)
		if err != nil {
			t.Fatal(err)
		}
		cost += c
	}
	return cost
}

// killMidStream streams a long chat answer from s's model, SIGKILLs s once
// the first generated text reached the client, and checks that the stream
// then ends with an error event and no [DONE]. It returns the run id.
func killMidStream(t *testing.T, api, key string, s *golocal.LlamaServer) string {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Hello, who are you?"}],"max_tokens":400,"ignore_eos":true,"stream":true}`, s.Alias)
	req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	id := resp.Header.Get("X-Run-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("long stream: HTTP %d, run id %q", resp.StatusCode, id)
	}
	br := bufio.NewReader(resp.Body)
	var rest strings.Builder
	for killed := false; ; {
		line, err := br.ReadString('\n')
		rest.WriteString(line)
		if err != nil {
			break
		}
		if d, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok && !killed && strings.Contains(d, `"content":"`) {
			s.Kill()
			killed = true
			rest.Reset()
		}
	}
	text := rest.String()
	if strings.Contains(text, "[DONE]") || !strings.Contains(text, `"error"`) {
		t.Fatalf("after the server's death the stream went on with:\n%s", text)
	}
	return id
}

// chatModel sends one short non-streamed chat request for model.
func chatModel(t *testing.T, api, key, model string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hi"}],"max_tokens":4}`, model)
	req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitWorker waits until the keeper's admin status shows worker healthy
// (or not).
func waitWorker(t *testing.T, k keeperRun, worker string, healthy bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct {
			Workers []struct {
				Name    string `json:"name"`
				Healthy bool   `json:"healthy"`
			} `json:"workers"`
		}
		getJSON(t, "http://"+k.admin+"/status", &st)
		for _, w := range st.Workers {
			if w.Name == worker && w.Healthy == healthy {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker %s never became healthy=%v: %+v", worker, healthy, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitWorkerError waits until the keeper's admin status shows worker
// unhealthy with a last error containing msg.
func waitWorkerError(t *testing.T, k keeperRun, worker, msg string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct {
			Workers []struct {
				Name      string `json:"name"`
				Healthy   bool   `json:"healthy"`
				LastError string `json:"last_error"`
			} `json:"workers"`
		}
		getJSON(t, "http://"+k.admin+"/status", &st)
		for _, w := range st.Workers {
			if w.Name == worker && !w.Healthy && strings.Contains(w.LastError, msg) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker %s never showed %q: %+v", worker, msg, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkEscrowSpent checks the escrow and its lane to the node paid exactly
// spent, with nothing unpaid.
func checkEscrowSpent(t *testing.T, w *keeper.World, escrow solana.PublicKey, spent uint64) {
	t.Helper()
	es, err := w.Escrows(context.Background(), []solana.PublicKey{escrow})
	if err != nil {
		t.Fatal(err)
	}
	l := settlement.LaneOf(es[0], w.NodeAddr)
	if l == nil || l.Spent != spent || es[0].Spent != spent || es[0].Unpaid != 0 {
		t.Fatalf("escrow spent %d, lane %+v, unpaid %d; the settle entries of the receipts cost %d", es[0].Spent, l, es[0].Unpaid, spent)
	}
}

// serverCall is one response a llama-server wrote, as the recorder saw it.
type serverCall struct {
	path string
	body []byte
}

// usage is what the server reported for the call: its usage object, else
// its timings (prompt_n + cache_n, predicted_n). Where both are present
// they must agree.
func (c serverCall) usage(t *testing.T) (in, out uint64) {
	t.Helper()
	type timings struct {
		PromptN    *uint64 `json:"prompt_n"`
		CacheN     *uint64 `json:"cache_n"`
		PredictedN *uint64 `json:"predicted_n"`
	}
	var u *wireUsage
	var tm *timings
	datas := sseData(c.body)
	if len(datas) == 0 {
		datas = []string{string(c.body)}
	}
	for _, d := range datas {
		var ch struct {
			Usage   *wireUsage
			Timings *timings
		}
		if err := json.Unmarshal([]byte(d), &ch); err != nil {
			t.Fatalf("server %s wrote %q: %v", c.path, d, err)
		}
		if ch.Usage != nil {
			u = ch.Usage
		}
		if ch.Timings != nil {
			tm = ch.Timings
		}
	}
	if tm == nil || tm.PromptN == nil || tm.PredictedN == nil {
		t.Fatalf("server %s reported no timings:\n%s", c.path, c.body)
	}
	var cache uint64
	if tm.CacheN != nil {
		cache = *tm.CacheN
	}
	in, out = *tm.PromptN+cache, *tm.PredictedN
	if u != nil && (u.Prompt != in || u.Completion != out) {
		t.Fatalf("server %s: usage %+v, timings say %d in, %d out", c.path, *u, in, out)
	}
	return in, out
}

// recorder is a reverse proxy that keeps every response body a server
// wrote, streamed through untouched.
type recorder struct {
	url   string
	mu    sync.Mutex
	calls []serverCall
}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{url: "http://" + ln.Addr().String()}
	rp := httputil.NewSingleHostReverseProxy(u)
	direct := rp.Director
	rp.Director = func(req *http.Request) {
		direct(req)
		// Like the keeper's pool: a request on a kept-alive connection
		// llama-server closed after a stream is sent again on a new one.
		if req.Body != nil {
			b, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(bytes.NewReader(b))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		}
		req.Header["X-Idempotency-Key"] = nil
	}
	rp.FlushInterval = -1
	rp.ErrorLog = log.New(io.Discard, "", 0) // the killed server's cut body is expected
	rp.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasPrefix(resp.Request.URL.Path, "/v1/") {
			return nil
		}
		resp.Body = &teeBody{ReadCloser: resp.Body, done: func(b []byte) {
			r.mu.Lock()
			r.calls = append(r.calls, serverCall{path: resp.Request.URL.Path, body: b})
			r.mu.Unlock()
		}}
		return nil
	}
	srv := &http.Server{Handler: rp}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return r
}

// take returns and forgets the calls recorded so far.
func (r *recorder) take() []serverCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// teeBody keeps what is read through it and hands it over on Close.
type teeBody struct {
	io.ReadCloser
	buf  bytes.Buffer
	once sync.Once
	done func([]byte)
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

func (b *teeBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.done(b.buf.Bytes()) })
	return err
}
