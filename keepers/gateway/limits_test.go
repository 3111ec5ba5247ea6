package gateway

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

// fakeNow is a settable clock for the limiter.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// limitHarness is a gateway with lim as its limits, a worker whose natural
// answer is 5 tokens, and a limiter clock that moves only when told.
func limitHarness(t *testing.T, lim Limits) (*harness, *fakeNow) {
	t.Helper()
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}, MinTokens: 5, MaxTokens: 5}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
		mutate:  func(c *Config) { c.Limits = lim },
	})
	clk := &fakeNow{t: time.Unix(1_700_000_000, 0)}
	if h.gw.limits != nil {
		h.gw.limits.now = clk.now
	}
	return h, clk
}

// chat is a chat request for model; ignoreEOS makes the worker write all
// maxTokens, otherwise it stops after 5.
func chat(model string, maxTokens int, ignoreEOS bool) string {
	return fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"What is a keeper?"}],"max_tokens":%d,"ignore_eos":%v}`, model, maxTokens, ignoreEOS)
}

type limitStep struct {
	key, body string
	want      int    // HTTP status
	message   string // in the 429's message
	never     bool   // the request exceeds a whole budget: no Retry-After
	advance   time.Duration
}

func TestPerKeyLimits(t *testing.T) {
	rich := EscrowAddress(keyRich)
	for _, c := range []struct {
		name  string
		lim   Limits
		steps []limitStep
	}{
		{"disabled by default", Limits{}, []limitStep{
			{key: keyRich, body: chat("model-a", 500, true), want: 200},
			{key: keyRich, body: chat("model-a", 500, true), want: 200},
			{key: keyRich, body: chat("model-a", 500, true), want: 200},
		}},
		{"rpm exceeded, then refilled", Limits{Key: Rate{RPM: 2}}, []limitStep{
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
			{key: keyRich, body: chat("model-a", 8, false), want: 429, message: "2 requests per minute for this API key"},
			{key: keyOnlyA, body: chat("model-a", 8, false), want: 200}, // another key, its own budget
			{advance: 30 * time.Second},
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
			{key: keyRich, body: chat("model-a", 8, false), want: 429},
		}},
		{"tpm counts max_tokens", Limits{Key: Rate{TPM: 1000}}, []limitStep{
			{key: keyRich, body: chat("model-a", 1001, false), want: 429, message: "more than the whole budget; lower max_tokens", never: true},
			{key: keyRich, body: chat("model-a", 600, true), want: 200}, // uses all 600: no refund
			{key: keyRich, body: chat("model-a", 600, true), want: 429, message: "1000 tokens per minute for this API key"},
		}},
		{"refund after completion lets the next request through", Limits{Key: Rate{TPM: 1000}}, []limitStep{
			{key: keyRich, body: chat("model-a", 600, false), want: 200}, // reserves ~610, uses ~15
			{key: keyRich, body: chat("model-a", 600, false), want: 200},
			{key: keyRich, body: chat("model-a", 600, false), want: 200},
		}},
		{"per-model limit independent of another model", Limits{Models: map[string]Rate{"model-a": {RPM: 1}}}, []limitStep{
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
			{key: keyRich, body: chat("model-a", 8, false), want: 429, message: "for this API key on model 'model-a'"},
			{key: keyRich, body: chat("model-b", 8, false), want: 200},
			{key: keyRich, body: chat("model-b", 8, false), want: 200},
		}},
		{"per-model tpm", Limits{Models: map[string]Rate{"model-b": {TPM: 100}}}, []limitStep{
			{key: keyRich, body: chat("model-b", 150, false), want: 429, message: "this API key on model 'model-b': this request alone", never: true},
			{key: keyRich, body: chat("model-a", 150, false), want: 200},
		}},
		{"per-escrow override", Limits{Key: Rate{RPM: 1}, Escrows: map[solana.PublicKey]Rate{rich: {RPM: 3}}}, []limitStep{
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
			{key: keyRich, body: chat("model-a", 8, false), want: 429, message: "3 requests per minute"},
			{key: keyOnlyA, body: chat("model-a", 8, false), want: 200},
			{key: keyOnlyA, body: chat("model-a", 8, false), want: 429, message: "1 requests per minute"},
		}},
		{"escrow override lifts the limit", Limits{Key: Rate{RPM: 1}, Escrows: map[solana.PublicKey]Rate{rich: {}}}, []limitStep{
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
			{key: keyRich, body: chat("model-a", 8, false), want: 200},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, clk := limitHarness(t, c.lim)
			if (h.gw.limits != nil) != c.lim.enabled() {
				t.Fatalf("limiter present %v, want %v", h.gw.limits != nil, c.lim.enabled())
			}
			for i, s := range c.steps {
				if s.advance > 0 {
					clk.add(s.advance)
					continue
				}
				resp := h.do("POST", "/v1/chat/completions", s.key, s.body)
				if resp.StatusCode != s.want {
					t.Fatalf("step %d: HTTP %d, want %d: %s", i, resp.StatusCode, s.want, readAll(t, resp.Body))
				}
				if s.want != 429 {
					readAll(t, resp.Body)
					continue
				}
				e := apiErr(t, resp)
				if e.Type != "rate_limit_exceeded" || e.Code == nil || *e.Code != "rate_limit_exceeded" || !strings.Contains(e.Message, s.message) {
					t.Fatalf("step %d: error %+v (code %v), want rate_limit_exceeded naming %q", i, e, e.Code, s.message)
				}
				ra := resp.Header.Get("Retry-After")
				if s.never {
					if ra != "" {
						t.Fatalf("step %d: Retry-After %q for a request that can never fit", i, ra)
					}
				} else if n, err := strconv.Atoi(ra); err != nil || n < 1 || n > 60 {
					t.Fatalf("step %d: Retry-After %q, want 1..60 s", i, ra)
				}
			}
		})
	}
}

func TestLimitRetryAfterAndMetrics(t *testing.T) {
	h, clk := limitHarness(t, Limits{Key: Rate{RPM: 2}, Models: map[string]Rate{"model-a": {TPM: 60}}})
	for i := 0; i < 2; i++ {
		if resp := h.do("POST", "/v1/chat/completions", keyRich, chat("model-b", 8, false)); resp.StatusCode != 200 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	}
	resp := h.do("POST", "/v1/chat/completions", keyRich, chat("model-b", 8, false))
	// One request a 30 s at 2 rpm.
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" {
		t.Fatalf("HTTP %d Retry-After %q, want 429 and 30", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The body is exactly OpenAI's shape.
	var body map[string]map[string]any
	if err := json.Unmarshal(readAll(t, resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	e := body["error"]
	if len(body) != 1 || len(e) != 4 || e["type"] != "rate_limit_exceeded" || e["code"] != "rate_limit_exceeded" || e["param"] != nil || e["message"] == "" {
		t.Fatalf("body %v", body)
	}
	clk.add(30 * time.Second)
	// model-a's 60 tpm refills one token a second: a request for 70 never fits,
	// and it still does not take the key's request.
	if resp := h.do("POST", "/v1/chat/completions", keyRich, chat("model-a", 70, false)); resp.StatusCode != 429 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	if resp := h.do("POST", "/v1/chat/completions", keyRich, chat("model-b", 8, false)); resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: a refused request took from the key's budget", resp.StatusCode)
	}
	for _, c := range []struct {
		limit, scope string
		want         float64
	}{{"rpm", "key", 1}, {"tpm", "model", 1}, {"tpm", "key", 0}, {"rpm", "model", 0}} {
		if got := testutil.ToFloat64(h.gw.metrics.RateLimited.WithLabelValues(c.limit, c.scope)); got != c.want {
			t.Errorf("keeper_ratelimit_rejected_total{limit=%q,scope=%q} = %v, want %v", c.limit, c.scope, got, c.want)
		}
	}
}

func TestLimiterMemoryBound(t *testing.T) {
	l := newLimiter(Limits{Key: Rate{RPM: 1}, MaxKeys: 640})
	for i := 0; i < 20_000; i++ {
		if _, hit := l.admit(solana.NewWallet().PublicKey(), []string{"m"}, 10); hit != nil {
			t.Fatalf("new key %d refused: %s", i, hit.message())
		}
	}
	if n := l.tracked(); n > 640 {
		t.Fatalf("%d keys tracked, bound 640", n)
	}
	// A key in use is the most recent and is kept.
	k := solana.NewWallet().PublicKey()
	if _, hit := l.admit(k, nil, 1); hit != nil {
		t.Fatal(hit.message())
	}
	if _, hit := l.admit(k, nil, 1); hit == nil {
		t.Fatal("second request within the minute admitted at 1 rpm")
	}
}

func TestLimitTokensCorrectedToUsage(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1_700_000_000, 0)}
	l := newLimiter(Limits{Key: Rate{TPM: 100}})
	l.now = clk.now
	k := solana.NewWallet().PublicKey()
	for _, c := range []struct {
		reserve, charged int64
		admitNext        bool // a 60-token request right after
	}{
		{reserve: 100, charged: 100, admitNext: false},
		{reserve: 100, charged: 10, admitNext: true}, // 90 refunded
		{reserve: 50, charged: 0, admitNext: true},   // failed run: all back
		{reserve: 50, charged: 80, admitNext: false}, // used more than reserved: debt
	} {
		clk.add(time.Minute) // full again
		tk, hit := l.admit(k, nil, c.reserve)
		if hit != nil {
			t.Fatalf("%+v: %s", c, hit.message())
		}
		tk.done(c.charged)
		next, hit := l.admit(k, nil, 60)
		if (hit == nil) != c.admitNext {
			t.Fatalf("%+v: next admitted %v", c, hit == nil)
		}
		next.done(0)
	}
}

// After a run, the token budgets keep exactly the tokens it was charged
// for: a single model's run and a mixture's (all its calls, on each member).
func TestLimitKeepsChargedTokens(t *testing.T) {
	h, _ := limitHarness(t, Limits{Key: Rate{TPM: 100_000}, Models: map[string]Rate{"model-a": {TPM: 100_000}, "model-b": {TPM: 100_000}}})
	level := func(model string) float64 {
		l := h.gw.limits
		s := l.shard(EscrowAddress(keyRich))
		s.mu.Lock()
		defer s.mu.Unlock()
		el, ok := s.keys[EscrowAddress(keyRich)]
		if !ok {
			return 100_000
		}
		kb := el.Value.(*keyBuckets)
		if model == "" {
			return kb.tpm.level
		}
		if kb.models[model] == nil {
			return 100_000
		}
		return kb.models[model][1].level
	}
	for _, c := range []struct {
		model      string
		usedModels []string
	}{
		{model: "model-a", usedModels: []string{"model-a"}},
		{model: "mix:model-b+model-a", usedModels: []string{"model-a", "model-b"}},
	} {
		before := map[string]float64{"": level("")}
		for _, m := range c.usedModels {
			before[m] = level(m)
		}
		resp := h.do("POST", "/v1/chat/completions", keyRich, chat(c.model, 7, true))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d %s", c.model, resp.StatusCode, readAll(t, resp.Body))
		}
		var out struct {
			Usage struct {
				TotalTokens float64 `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(readAll(t, resp.Body), &out); err != nil || out.Usage.TotalTokens == 0 {
			t.Fatalf("%s: usage %+v %v", c.model, out, err)
		}
		for m, b := range before {
			if got := b - level(m); got != out.Usage.TotalTokens {
				t.Errorf("%s: budget %q lost %v tokens, the run was charged %v", c.model, m, got, out.Usage.TotalTokens)
			}
		}
	}
}

// A burst of concurrent requests cannot take more than the budget: each
// reserves its worst case before any completes.
func TestLimitBurstStaysWithinBudget(t *testing.T) {
	clk := &fakeNow{t: time.Unix(1_700_000_000, 0)}
	l := newLimiter(Limits{Key: Rate{TPM: 10_000}, Models: map[string]Rate{"m": {RPM: 50}}})
	l.now = clk.now
	k := solana.NewWallet().PublicKey()
	var mu sync.Mutex
	var admitted []*limitTicket
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tk, hit := l.admit(k, []string{"m"}, 300); hit == nil {
				mu.Lock()
				admitted = append(admitted, tk)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(admitted) != 10_000/300 {
		t.Fatalf("%d admitted, the budget holds %d", len(admitted), 10_000/300)
	}
	for _, tk := range admitted {
		tk.done(0)
	}
	// Refunded tokens are back, but the 50 rpm of model m are not: 33 taken.
	n := 0
	for i := 0; i < 40; i++ {
		if _, hit := l.admit(k, []string{"m"}, 1); hit == nil {
			n++
		}
	}
	if n != 50-10_000/300 {
		t.Fatalf("%d admitted after the refund, want %d", n, 50-10_000/300)
	}
}

func BenchmarkLimiterAdmit(b *testing.B) {
	l := newLimiter(Limits{Key: Rate{RPM: 1 << 40, TPM: 1 << 50}, Models: map[string]Rate{"m": {RPM: 1 << 40, TPM: 1 << 50}}})
	keys := make([]solana.PublicKey, 4096)
	for i := range keys {
		keys[i] = solana.NewWallet().PublicKey()
	}
	models := []string{"m"}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			tk, hit := l.admit(keys[i%len(keys)], models, 500)
			if hit != nil {
				b.Fatal(hit.message())
			}
			tk.done(200)
			i++
		}
	})
}
