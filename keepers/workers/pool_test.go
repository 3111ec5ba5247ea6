package workers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeWorker answers probes with a switchable status and records paths.
type fakeWorker struct {
	srv    *httptest.Server
	status atomic.Int32
	probed atomic.Value
	body   atomic.Value // []byte answered with status, if set
}

func newFake(t *testing.T) *fakeWorker {
	f := &fakeWorker{}
	f.status.Store(200)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.probed.Store(r.URL.Path)
		w.WriteHeader(int(f.status.Load()))
		if b, ok := f.body.Load().([]byte); ok {
			_, _ = w.Write(b)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newPool(t *testing.T, cfg Config) *Pool {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigValidation(t *testing.T) {
	cases := map[string][]WorkerConfig{
		"no name":        {{URL: "http://a", Kind: KindVLLM, Models: []string{"m"}}},
		"duplicate name": {{Name: "a", URL: "http://a", Kind: KindVLLM, Models: []string{"m"}}, {Name: "a", URL: "http://b", Kind: KindVLLM, Models: []string{"m"}}},
		"bad kind":       {{Name: "a", URL: "http://a", Kind: "tgi", Models: []string{"m"}}},
		"bad url":        {{Name: "a", URL: "ftp://a", Kind: KindVLLM, Models: []string{"m"}}},
		"no models":      {{Name: "a", URL: "http://a", Kind: KindVLLM}},
		"bad alias":      {{Name: "a", URL: "http://a", Kind: KindVLLM, Models: []string{"m="}}},
	}
	for name, ws := range cases {
		if _, err := New(Config{Workers: ws}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if k, err := ParseKind("llama.cpp"); err != nil || k != KindLlamaCpp {
		t.Errorf("ParseKind llama.cpp: %v %v", k, err)
	}
}

func TestLeastOutstandingRoutingAndExclusion(t *testing.T) {
	a, b := newFake(t), newFake(t)
	p := newPool(t, Config{Workers: []WorkerConfig{
		{Name: "a", URL: a.srv.URL, Kind: KindVLLM, Models: []string{"m", "tiny=llama3.2:1b"}},
		{Name: "b", URL: b.srv.URL + "/v1", Kind: KindVLLM, Models: []string{"m"}},
	}})
	if p.Ready() {
		t.Fatal("ready before the first health round")
	}
	p.CheckNow(context.Background())
	if !p.Ready() || !p.Available("m") {
		t.Fatal("not ready after a healthy round")
	}
	l1, err := p.Acquire("m", nil)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := p.Acquire("m", nil)
	if err != nil {
		t.Fatal(err)
	}
	if l1.Worker() == l2.Worker() {
		t.Fatal("second request went to the busier worker")
	}
	// Hold a: every new request goes to b while it is less loaded.
	l2.Release(Success)
	for i := 0; i < 10; i++ {
		l, err := p.Acquire("m", nil)
		if err != nil {
			t.Fatal(err)
		}
		if l.Worker().Name() != other(l1.Worker().Name()) {
			t.Fatalf("request %d went to %s", i, l.Worker().Name())
		}
		l.Release(Success)
	}
	l3, err := p.Acquire("m", []*Worker{other2(p, l1.Worker())})
	if err != nil || l3.Worker() != l1.Worker() {
		t.Fatalf("exclusion: %v", err)
	}
	l3.Release(Success)
	l1.Release(Success)
	l1.Release(Success) // double release is harmless
	for _, s := range p.Snapshot() {
		if s.Outstanding != 0 {
			t.Fatalf("%s outstanding %d after releases", s.Name, s.Outstanding)
		}
	}
	l, err := p.Acquire("tiny", nil)
	if err != nil || l.Worker().UpstreamModel("tiny") != "llama3.2:1b" {
		t.Fatalf("alias: %v", err)
	}
	l.Release(Success)
	if _, err := p.Acquire("nope", nil); !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("unknown model: %v", err)
	}
	if got := b.probed.Load(); got != "/health" {
		t.Fatalf("vllm probe path %v (base URL /v1 suffix must be stripped)", got)
	}
}

func other(n string) string {
	if n == "a" {
		return "b"
	}
	return "a"
}

func other2(p *Pool, w *Worker) *Worker {
	for _, x := range p.workers {
		if x != w {
			return x
		}
	}
	return nil
}

func TestHealthChecks(t *testing.T) {
	f, o := newFake(t), newFake(t)
	p := newPool(t, Config{UnhealthyAfter: 2, Workers: []WorkerConfig{
		{Name: "v", URL: f.srv.URL, Kind: KindLlamaCpp, Models: []string{"m"}},
		{Name: "o", URL: o.srv.URL, Kind: KindOllama, Models: []string{"m2"}},
	}})
	f.status.Store(503) // llama.cpp while loading the model
	p.CheckNow(context.Background())
	if p.Available("m") {
		t.Fatal("worker answering 503 on the first round is available")
	}
	if _, err := p.Acquire("m", nil); !errors.Is(err, ErrNoWorker) {
		t.Fatalf("want ErrNoWorker, got %v", err)
	}
	if o.probed.Load() != "/api/version" {
		t.Fatalf("ollama probe path %v", o.probed.Load())
	}
	f.status.Store(200)
	p.CheckNow(context.Background())
	if !p.Available("m") {
		t.Fatal("recovered worker not available")
	}
	f.status.Store(500)
	p.CheckNow(context.Background())
	if !p.Available("m") {
		t.Fatal("one failed probe after the first round already marks down")
	}
	p.CheckNow(context.Background())
	if p.Available("m") {
		t.Fatal("two failed probes did not mark down")
	}
	f.srv.Close()
	p.CheckNow(context.Background())
	if s := p.Snapshot()[0]; s.Healthy || s.LastError == "" {
		t.Fatalf("closed server: %+v", s)
	}
}

// A llama.cpp server restarted between two probes answers its real
// "Loading model" 503 (captured): the worker is down at once, not after
// UnhealthyAfter probes, gets no traffic while loading, and is back on
// the first 200. Any other failed probe still needs UnhealthyAfter.
func TestLlamaCppLoadingIsNotReady(t *testing.T) {
	loading := fixture(t, "llamacpp/captured/health_loading.json")
	f, v := newFake(t), newFake(t)
	p := newPool(t, Config{UnhealthyAfter: 3, Workers: []WorkerConfig{
		{Name: "l", URL: f.srv.URL, Kind: KindLlamaCpp, Models: []string{"m"}},
		{Name: "v", URL: v.srv.URL, Kind: KindVLLM, Models: []string{"m2"}},
	}})
	p.CheckNow(context.Background())
	if !p.Available("m") || !p.Available("m2") {
		t.Fatal("healthy workers not available")
	}
	for _, w := range []*fakeWorker{f, v} {
		w.status.Store(503)
		w.body.Store(loading)
	}
	p.CheckNow(context.Background())
	if p.Available("m") {
		t.Fatal("llama.cpp loading its model is still available")
	}
	if _, err := p.Acquire("m", nil); !errors.Is(err, ErrNoWorker) {
		t.Fatalf("want ErrNoWorker while loading, got %v", err)
	}
	if s := p.Snapshot()[0]; s.Healthy || !strings.Contains(s.LastError, "HTTP 503: Loading model") {
		t.Fatalf("loading worker's status %+v", s)
	}
	if !p.Available("m2") {
		t.Fatal("a vLLM 503 marked down before UnhealthyAfter probes")
	}
	f.status.Store(200)
	f.body.Store([]byte(`{"status":"ok"}`))
	p.CheckNow(context.Background())
	if !p.Available("m") {
		t.Fatal("loaded worker not available")
	}
}

func TestCircuitBreaker(t *testing.T) {
	f := newFake(t)
	p := newPool(t, Config{BreakerThreshold: 3, BreakerCooldown: 50 * time.Millisecond, Workers: []WorkerConfig{
		{Name: "a", URL: f.srv.URL, Kind: KindOpenAI, Models: []string{"m"}},
	}})
	p.CheckNow(context.Background())
	fail := func() {
		l, err := p.Acquire("m", nil)
		if err != nil {
			t.Fatal(err)
		}
		l.Release(WorkerFault)
	}
	fail()
	fail()
	// Neutral outcomes (client gone, 4xx) neither trip nor reset it.
	l, _ := p.Acquire("m", nil)
	l.Release(Neutral)
	fail()
	if _, err := p.Acquire("m", nil); !errors.Is(err, ErrNoWorker) {
		t.Fatalf("open circuit admitted a request: %v", err)
	}
	if c := p.Snapshot()[0].Circuit; c != "open" {
		t.Fatalf("circuit %s", c)
	}
	time.Sleep(60 * time.Millisecond)
	trial, err := p.Acquire("m", nil)
	if err != nil {
		t.Fatalf("half-open did not admit a trial: %v", err)
	}
	if _, err := p.Acquire("m", nil); !errors.Is(err, ErrNoWorker) {
		t.Fatal("half-open admitted a second request during the trial")
	}
	trial.Release(WorkerFault) // reopens for twice as long
	time.Sleep(60 * time.Millisecond)
	if _, err := p.Acquire("m", nil); !errors.Is(err, ErrNoWorker) {
		t.Fatal("cool-down did not double after a failed trial")
	}
	time.Sleep(60 * time.Millisecond)
	trial, err = p.Acquire("m", nil)
	if err != nil {
		t.Fatal(err)
	}
	trial.Release(Success)
	if c := p.Snapshot()[0].Circuit; c != "closed" {
		t.Fatalf("successful trial left circuit %s", c)
	}
}

func TestMaxOutstanding(t *testing.T) {
	f := newFake(t)
	p := newPool(t, Config{Workers: []WorkerConfig{{Name: "a", URL: f.srv.URL, Kind: KindVLLM, Models: []string{"m"}, MaxOutstanding: 1}}})
	p.CheckNow(context.Background())
	l, err := p.Acquire("m", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Acquire("m", nil); !errors.Is(err, ErrNoWorker) {
		t.Fatalf("saturated worker admitted: %v", err)
	}
	l.Release(Success)
	if _, err := p.Acquire("m", nil); err != nil {
		t.Fatal(err)
	}
}

func TestLeaseDoSendsToTheWorker(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	p := newPool(t, Config{Workers: []WorkerConfig{{Name: "a", URL: srv.URL, Kind: KindVLLM, Models: []string{"m"}, APIKey: "sk-worker"}}})
	p.CheckNow(context.Background())
	l, _ := p.Acquire("m", nil)
	defer l.Release(Success)
	resp, err := l.Do(context.Background(), Embeddings, strings.NewReader("{}"), false)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Load() != "POST /v1/embeddings Bearer sk-worker" {
		t.Fatalf("worker saw %v", got.Load())
	}
}

// llama.cpp's server answers a stream with "Keep-Alive: timeout=5,
// max=100" and then closes the connection. A request the pool sends on
// that connection before it noticed gets no answer at all: it is sent
// again on a new connection (a worker that never answered cannot have
// charged anything), not failed with EOF. The fake closes each kept-alive
// connection after reading the second request on it, deterministically.
func TestRequestOnAConnectionTheWorkerClosedIsResent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns, answered atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 0; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if n == 1 {
						return // the second request on a connection: closed unanswered
					}
					answered.Add(1)
					body := `{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				}
			}()
		}
	}()
	p := newPool(t, Config{Workers: []WorkerConfig{{Name: "l", URL: "http://" + ln.Addr().String(), Kind: KindLlamaCpp, Models: []string{"m"}}}})
	p.checked.Store(true)
	p.workers[0].healthy.Store(true)
	for i := 0; i < 3; i++ {
		l, err := p.Acquire("m", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := l.Do(context.Background(), ChatCompletions, strings.NewReader(`{"model":"m","messages":[]}`), false)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		l.Release(Success)
	}
	if answered.Load() != 3 || conns.Load() != 3 {
		t.Fatalf("%d answers on %d connections; want 3 on 3 (each kept-alive connection closed under the next request)", answered.Load(), conns.Load())
	}
}
