package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

const chatBody = `{"model":"model-a","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is a keeper?"}],"max_tokens":12,"ignore_eos":true}`

type chatResponse struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     uint64 `json:"prompt_tokens"`
		CompletionTokens uint64 `json:"completion_tokens"`
		TotalTokens      uint64 `json:"total_tokens"`
	} `json:"usage"`
}

func TestChatCompletionIsJournaledBeforeTheResponse(t *testing.T) {
	h := newHarness(t, defaultWorkers())
	resp := h.do("POST", "/v1/chat/completions", keyRich, chatBody)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Fatal("no request id")
	}
	var cr chatResponse
	if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
		t.Fatal(err)
	}
	if cr.Usage.CompletionTokens != 12 || cr.Choices[0].FinishReason != "length" {
		t.Fatalf("response %+v", cr)
	}
	es := h.receiptsOf(keyRich)
	if len(es) != 1 {
		t.Fatalf("%d receipts", len(es))
	}
	r := es[0].Signed.Receipt
	if err := es[0].Signed.Verify(); err != nil {
		t.Fatal(err)
	}
	wantCost, _ := Cost(r.Models, cr.Usage.PromptTokens, 12)
	if r.InputTokens != cr.Usage.PromptTokens || r.OutputTokens != 12 || r.Estimated || r.Cost != wantCost || r.Kind != receipts.KindChat {
		t.Fatalf("receipt %+v", r)
	}
	if r.Models[0].ModelID != 1 || r.Models[0].WeightBps != 10000 || r.Models[0].InputPer1k != 1000 || r.Models[0].OutputPer1k != 2000 {
		t.Fatalf("receipt models %+v", r.Models)
	}
	if r.Escrow != EscrowAddress(keyRich) || r.Keeper != [32]byte(h.gw.KeeperKey()) {
		t.Fatal("receipt escrow or keeper wrong")
	}
	if got := h.journal.UnsettledSpend(EscrowAddress(keyRich)); got != wantCost {
		t.Fatalf("unsettled spend %d, want %d", got, wantCost)
	}
}

func TestStreamingPassThrough(t *testing.T) {
	h := newHarness(t, defaultWorkers())
	for _, include := range []bool{false, true} {
		body := `{"model":"model-a","messages":[{"role":"user","content":"Stream please"}],"max_tokens":9,"ignore_eos":true,"stream":true`
		if include {
			body += `,"stream_options":{"include_usage":true}`
		}
		resp := h.do("POST", "/v1/chat/completions", keyRich, body+"}")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		data := sseData(t, resp.Body)
		if data[len(data)-1] != "[DONE]" {
			t.Fatalf("stream does not end with [DONE]: %q", data[len(data)-1])
		}
		usageChunks, content := 0, ""
		for _, d := range data[:len(data)-1] {
			var c struct {
				Choices []struct {
					Delta struct{ Content string } `json:"delta"`
				} `json:"choices"`
				Usage *struct {
					CompletionTokens int `json:"completion_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal([]byte(d), &c); err != nil {
				t.Fatalf("chunk %q: %v", d, err)
			}
			if c.Usage != nil {
				usageChunks++
				if c.Usage.CompletionTokens != 9 {
					t.Fatalf("usage chunk %q", d)
				}
			}
			for _, ch := range c.Choices {
				content += ch.Delta.Content
			}
		}
		want := 0
		if include {
			want = 1
		}
		if usageChunks != want {
			t.Fatalf("include_usage=%v: %d usage chunks reached the client", include, usageChunks)
		}
		if workers.EstimateTokens(content) != 9 {
			t.Fatalf("content %q", content)
		}
	}
	es := h.receiptsOf(keyRich)
	if len(es) != 2 || es[0].Signed.Receipt.OutputTokens != 9 || es[0].Signed.Receipt.Estimated {
		t.Fatalf("receipts: %d %+v", len(es), es)
	}
}

func TestCompletionsAndEmbeddings(t *testing.T) {
	h := newHarness(t, defaultWorkers())
	resp := h.do("POST", "/v1/completions", keyRich, `{"model":"model-a","prompt":"Once upon a time","max_tokens":4,"ignore_eos":true}`)
	if resp.StatusCode != 200 {
		t.Fatalf("completions HTTP %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	resp = h.do("POST", "/v1/embeddings", keyRich, `{"model":"model-b","input":["alpha beta","gamma"]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("embeddings HTTP %d: %s", resp.StatusCode, readAll(t, resp.Body))
	}
	es := h.receiptsOf(keyRich)
	if len(es) != 2 {
		t.Fatalf("%d receipts", len(es))
	}
	c, e := es[0].Signed.Receipt, es[1].Signed.Receipt
	if c.Kind != receipts.KindCompletion || c.OutputTokens != 4 || c.InputTokens != 4 {
		t.Fatalf("completion receipt %+v", c)
	}
	if e.Kind != receipts.KindEmbedding || e.OutputTokens != 0 || e.InputTokens != 3 || e.Models[0].ModelID != 2 {
		t.Fatalf("embedding receipt %+v", e)
	}
}

func TestErrors(t *testing.T) {
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
		mutate: func(c *Config) {
			c.MaxBodyBytes = 4096
			c.MaxTokensLimit = 1000
			c.DefaultMaxTokens = 256
		},
	})
	big := `{"model":"model-a","messages":[{"role":"user","content":"` + strings.Repeat("x", 5000) + `"}]}`
	cases := []struct {
		name, path, key, body string
		status                int
		code, param           string
	}{
		{"no key", "/v1/chat/completions", "", chatBody, 401, "invalid_api_key", ""},
		{"unknown key", "/v1/chat/completions", keyUnknown, chatBody, 401, "invalid_api_key", ""},
		{"rotated key", "/v1/chat/completions", keyRotated, chatBody, 401, "invalid_api_key", ""},
		{"malformed json", "/v1/chat/completions", keyRich, `{"model":`, 400, "", ""},
		{"not an object", "/v1/chat/completions", keyRich, `[1,2]`, 400, "", ""},
		{"no model", "/v1/chat/completions", keyRich, `{"messages":[{"role":"user","content":"x"}]}`, 400, "", "model"},
		{"no messages", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[]}`, 400, "", "messages"},
		{"absurd max_tokens", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":100000000}`, 400, "", "max_tokens"},
		{"negative max_tokens", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":-1}`, 400, "", "max_tokens"},
		{"max_tokens not a number", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":"lots"}`, 400, "", "max_tokens"},
		{"n too large", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"n":50}`, 400, "", "n"},
		{"body too large", "/v1/chat/completions", keyRich, big, 413, "request_too_large", ""},
		{"unknown model", "/v1/chat/completions", keyRich, `{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}`, 404, "model_not_found", "model"},
		{"model not allowed", "/v1/chat/completions", keyOnlyA, `{"model":"model-b","messages":[{"role":"user","content":"x"}]}`, 403, "model_not_allowed", "model"},
		{"insufficient funds", "/v1/chat/completions", keyPoor, chatBody, 402, "insufficient_quota", ""},
		{"mixture on embeddings", "/v1/embeddings", keyRich, `{"model":"mix:model-a+model-b","input":"x"}`, 400, "", "model"},
		{"bad mixture weights", "/v1/chat/completions", keyRich, `{"model":"mix:model-a@5000+model-b@4000","messages":[{"role":"user","content":"x"}]}`, 400, "", "model"},
		{"unknown endpoint", "/v1/images/generations", keyRich, `{}`, 404, "not_found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := h.do("POST", c.path, c.key, c.body)
			e := apiErr(t, resp)
			if resp.StatusCode != c.status {
				t.Fatalf("HTTP %d, want %d: %+v", resp.StatusCode, c.status, e)
			}
			if c.code != "" && (e.Code == nil || *e.Code != c.code) {
				t.Fatalf("code %v, want %s", e.Code, c.code)
			}
			if c.param != "" && (e.Param == nil || *e.Param != c.param) {
				t.Fatalf("param %v, want %s", e.Param, c.param)
			}
		})
	}
	if n := len(h.receiptsOf(keyRich)) + len(h.receiptsOf(keyPoor)) + len(h.receiptsOf(keyOnlyA)); n != 0 {
		t.Fatalf("%d receipts from failed requests", n)
	}
}

func TestNoHealthyWorkerIs503(t *testing.T) {
	h := newHarness(t, defaultWorkers())
	for _, s := range h.sims {
		s.SetFaults(workersim.Faults{ErrorRate: 1})
	}
	resp := h.do("POST", "/v1/chat/completions", keyRich, chatBody)
	if e := apiErr(t, resp); resp.StatusCode != 502 && resp.StatusCode != 503 {
		t.Fatalf("every worker failing: HTTP %d %+v", resp.StatusCode, e)
	}
	// Health checks now fail too: nothing is routable.
	h.srvClose()
	resp = h.do("POST", "/v1/chat/completions", keyRich, chatBody)
	e := apiErr(t, resp)
	if resp.StatusCode != 503 || *e.Code != "no_healthy_worker" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("no healthy worker: HTTP %d %+v", resp.StatusCode, e)
	}
	if len(h.receiptsOf(keyRich)) != 0 {
		t.Fatal("failed runs were journaled")
	}
	r := h.do("GET", "/readyz", "", "")
	if r.StatusCode != 503 {
		t.Fatalf("readyz %d with no healthy worker", r.StatusCode)
	}
}

// srvClose stops every simulated worker and re-runs the health checks.
func (h *harness) srvClose() {
	for _, stop := range h.stops {
		stop()
	}
	h.pool.CheckNow(context.Background())
	h.pool.CheckNow(context.Background())
}

func TestFailoverBeforeTheFirstByte(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			h := newHarness(t, defaultWorkers())
			// gpu-a fails every request before anything reaches the client
			// (HTTP 500; a cut JSON body when not streaming), then is down
			// altogether while the pool still believes it healthy.
			faults := []workersim.Faults{{ErrorRate: 1}}
			if !stream {
				faults = append(faults, workersim.Faults{MalformedRate: 1}, workersim.Faults{DieRate: 1})
			}
			served := 0
			check := func(what string) {
				for i := 0; i < 8; i++ {
					body := fmt.Sprintf(`{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":5,"stream":%v}`, stream)
					resp := h.do("POST", "/v1/chat/completions", keyRich, body)
					b := readAll(t, resp.Body)
					if resp.StatusCode != 200 || (stream && !strings.HasSuffix(string(b), "data: [DONE]\n\n")) {
						t.Fatalf("%s: HTTP %d %s", what, resp.StatusCode, b)
					}
					served++
				}
			}
			for _, f := range faults {
				h.sims["gpu-a"].SetFaults(f)
				check(fmt.Sprintf("faults %+v", f))
			}
			h.stops[0]() // gpu-a's server is gone
			check("gpu-a down")
			for _, e := range h.receiptsOf(keyRich) {
				if e.Signed.Receipt.Worker != "gpu-b" {
					t.Fatalf("a run was recorded on the failing worker: %+v", e.Signed.Receipt)
				}
			}
			if n := len(h.receiptsOf(keyRich)); n != served {
				t.Fatalf("%d receipts for %d served runs", n, served)
			}
			// Requests did land on gpu-a first and were retried on gpu-b
			// (ties between idle workers break at random: with 16+ requests
			// the chance that none tried gpu-a first is below 1e-4).
			if r := testutil.ToFloat64(h.gw.metrics.Retries); r < 1 {
				t.Fatalf("no request was retried (%v)", r)
			}
		})
	}
}

func TestWorkerDiesMidStreamNoCharge(t *testing.T) {
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}, Faults: workersim.Faults{DieRate: 1}}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
	})
	resp := h.do("POST", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":20,"ignore_eos":true,"stream":true}`)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	data := sseData(t, resp.Body)
	if len(data) < 2 {
		t.Fatalf("expected partial output then an error, got %q", data)
	}
	last := data[len(data)-1]
	if last == "[DONE]" || !strings.Contains(last, `"error"`) {
		t.Fatalf("stream that died mid-way ended with %q", last)
	}
	if n := len(h.receiptsOf(keyRich)); n != 0 {
		t.Fatalf("%d receipts for a failed run", n)
	}
	if h.journal.UnsettledSpend(EscrowAddress(keyRich)) != 0 {
		t.Fatal("failed run counted as spend")
	}
	// The reservation was released: the poor key's budget is untouched by it.
	if held := h.heldReservations(); held != 0 {
		t.Fatalf("%d reservations left", held)
	}
}

// A worker that starts answering and then goes silent is abandoned after
// the idle timeout: before the first byte reached the client the request
// moves to another worker; mid-stream the client gets an error. Nothing is
// charged for the stalled attempts.
func TestStalledWorker(t *testing.T) {
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{
			"gpu-a": {Models: []string{"model-a", "model-b"}, Faults: workersim.Faults{StallRate: 1}},
			"gpu-b": {Models: []string{"model-a"}},
		},
		models: map[string][]string{"gpu-a": {"model-a", "model-b"}, "gpu-b": {"model-a"}},
		mutate: func(c *Config) { c.UpstreamIdleTimeout = 200 * time.Millisecond },
	})
	// Not streaming: gpu-a sends headers and half a body, then nothing.
	for i := 0; i < 6; i++ {
		resp := h.do("POST", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":5}`)
		if b := readAll(t, resp.Body); resp.StatusCode != 200 {
			t.Fatalf("HTTP %d %s", resp.StatusCode, b)
		}
	}
	for _, e := range h.receiptsOf(keyRich) {
		if e.Signed.Receipt.Worker != "gpu-a" {
			continue
		}
		t.Fatal("a run was charged on the stalled worker")
	}
	// Streaming on model-b (only gpu-a): the stream stalls mid-way.
	start := time.Now()
	resp := h.do("POST", "/v1/chat/completions", keyRich, `{"model":"model-b","messages":[{"role":"user","content":"x"}],"max_tokens":20,"ignore_eos":true,"stream":true}`)
	data := sseData(t, resp.Body)
	if last := data[len(data)-1]; !strings.Contains(last, `"error"`) {
		t.Fatalf("stalled stream ended with %q", last)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stalled stream took %v to fail", d)
	}
	if n := len(h.receiptsOf(keyRich)); n != 6 {
		t.Fatalf("%d receipts, want the 6 runs gpu-b served", n)
	}
	if h.sims["gpu-a"].Stats().Stalls == 0 {
		t.Fatal("the stall fault never fired")
	}
}

func TestMissingUsageIsEstimated(t *testing.T) {
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}, Faults: workersim.Faults{NoUsage: true}}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
	})
	for _, stream := range []string{"false", "true"} {
		resp := h.do("POST", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":7,"ignore_eos":true,"stream":`+stream+`}`)
		readAll(t, resp.Body)
	}
	es := h.receiptsOf(keyRich)
	if len(es) != 2 {
		t.Fatalf("%d receipts", len(es))
	}
	for _, e := range es {
		r := e.Signed.Receipt
		if !r.Estimated || r.OutputTokens != 7 || r.InputTokens != uint64(workers.EstimateChatPrompt([]string{"x"})) {
			t.Fatalf("estimated receipt %+v", r)
		}
	}
}

func TestClientDisconnectMidStream(t *testing.T) {
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}, PerToken: 20 * time.Millisecond}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":200,"ignore_eos":true,"stream":true}`))
	req.Header.Set("Authorization", "Bearer "+keyRich)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the run to end", func() bool { return h.pool.Snapshot()[0].Outstanding == 0 })
	// Charged for what reached the client, marked partial (the exact
	// count: TestDisconnectMidStreamChargesWhatWasGenerated).
	es := h.receiptsOf(keyRich)
	if len(es) != 1 || !es[0].Signed.Receipt.Partial || es[0].Signed.Receipt.OutputTokens >= 200 {
		t.Fatalf("receipts for an abandoned stream: %+v", es)
	}
	// The keeper keeps serving.
	resp2 := h.do("POST", "/v1/chat/completions", keyRich, chatBody)
	if resp2.StatusCode != 200 {
		t.Fatalf("after a disconnect: HTTP %d", resp2.StatusCode)
	}
}

func TestAdmissionCountsInFlightAndUnsettled(t *testing.T) {
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}, TTFT: 150 * time.Millisecond}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
	})
	// Worst case of one request: prompt estimate (+25%) at 1000/1k and
	// 100 output tokens at 2000/1k.
	body := `{"model":"model-a","messages":[{"role":"user","content":"hi"}],"max_tokens":100}`
	req, _ := h.gw.parseRequest(workers.ChatCompletions, []byte(body))
	shares := []receipts.ModelShare{{ModelID: 1, WeightBps: 10000, InputPer1k: 1000, OutputPer1k: 2000}}
	worst, _ := h.gw.worstCase(shares, req.promptTokens, 100)
	key := "sk-test-exact-budget-001"
	h.putEscrow(key, EscrowState{Lane: &Lane{Balance: 3*worst + worst/2}})
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := http.NewRequest("POST", h.srv.URL+"/v1/chat/completions", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			r.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Error(err)
				return
			}
			readAll(t, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	ok, paid := 0, 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 402:
			paid++
		default:
			t.Fatalf("unexpected status %d", c)
		}
	}
	if ok != 3 || paid != 2 {
		t.Fatalf("%d admitted, %d refused; want 3 and 2 (budget for 3.5 worst cases)", ok, paid)
	}
	// Now the unsettled spend of those runs counts against the escrow.
	spent := h.journal.UnsettledSpend(EscrowAddress(key))
	if spent == 0 || spent > 3*worst {
		t.Fatalf("unsettled %d", spent)
	}
	h.putEscrow(key, EscrowState{Lane: &Lane{Balance: spent + worst - 1}})
	if resp := h.do("POST", "/v1/chat/completions", key, body); resp.StatusCode != 402 {
		t.Fatalf("balance minus unsettled below worst case: HTTP %d", resp.StatusCode)
	}
	h.putEscrow(key, EscrowState{Lane: &Lane{Balance: spent + worst}})
	if resp := h.do("POST", "/v1/chat/completions", key, body); resp.StatusCode != 200 {
		t.Fatalf("exact budget: HTTP %d", resp.StatusCode)
	}
	// Only the lane counts: unallocated money does not, whatever its amount.
	h.putEscrow(key, EscrowState{Balance: 1 << 40, Lane: &Lane{Balance: spent + worst - 1}})
	if resp := h.do("POST", "/v1/chat/completions", key, body); resp.StatusCode != 402 {
		t.Fatalf("unallocated balance admitted: HTTP %d", resp.StatusCode)
	}
}

// An escrow without a lane to this node, or revoking it, gets a 402 that
// says what the owner can do, naming the escrow and the node.
func TestNoLaneIsRefusedWithWhatToDo(t *testing.T) {
	node := solana.NewWallet().PublicKey()
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
		mutate:  func(c *Config) { c.Node = node },
	})
	key := "sk-test-no-lane-001"
	escrow := EscrowAddress(key)
	for _, c := range []struct {
		name string
		st   EscrowState
		want string
	}{
		{"no lane", EscrowState{Balance: 1 << 40}, "mt escrow allow " + escrow.String() + " " + node.String()},
		{"revoking", EscrowState{Lane: &Lane{Balance: 1 << 40, RevokeRequestedAt: 1}}, "revoking its lane"},
	} {
		h.putEscrow(key, c.st)
		resp := h.do("POST", "/v1/chat/completions", key, chatBody)
		body := string(readAll(t, resp.Body))
		resp.Body.Close()
		if resp.StatusCode != http.StatusPaymentRequired || !strings.Contains(body, c.want) || !strings.Contains(body, `"insufficient_quota"`) {
			t.Fatalf("%s: HTTP %d %s", c.name, resp.StatusCode, body)
		}
	}
}

func TestRateLimits(t *testing.T) {
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": {Models: []string{"model-a", "model-b"}}},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
		mutate:  func(c *Config) { c.RateLimit = 0.001; c.RateBurst = 2 },
	})
	codes := []int{}
	for i := 0; i < 3; i++ {
		resp := h.do("POST", "/v1/chat/completions", keyRich, chatBody)
		readAll(t, resp.Body)
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("codes %v, want 200 200 429", codes)
	}
	// Other keys have their own budget.
	if resp := h.do("POST", "/v1/chat/completions", keyOnlyA, chatBody); resp.StatusCode != 200 {
		t.Fatalf("other key: HTTP %d", resp.StatusCode)
	}
}

func TestMixture(t *testing.T) {
	h := newHarness(t, defaultWorkers())
	for _, stream := range []bool{false, true} {
		body := fmt.Sprintf(`{"model":"mix:model-b@3000+model-a@7000","messages":[{"role":"user","content":"Why own models together?"}],"max_tokens":6,"ignore_eos":true,"stream":%v,"stream_options":{"include_usage":true}}`, stream)
		if !stream {
			body = strings.Replace(body, `,"stream_options":{"include_usage":true}`, "", 1)
		}
		resp := h.do("POST", "/v1/chat/completions", keyRich, body)
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d %s", resp.StatusCode, readAll(t, resp.Body))
		}
		var prompt, completion uint64
		if stream {
			data := sseData(t, resp.Body)
			if data[len(data)-1] != "[DONE]" {
				t.Fatal("no [DONE]")
			}
			var u struct {
				Model string `json:"model"`
				Usage struct {
					PromptTokens, CompletionTokens uint64
				} `json:"usage"`
			}
			usageSeen := 0
			for _, d := range data[:len(data)-1] {
				if strings.Contains(d, `"usage"`) {
					usageSeen++
					var raw map[string]json.RawMessage
					_ = json.Unmarshal([]byte(d), &raw)
					_ = json.Unmarshal([]byte(d), &u)
					var us map[string]uint64
					_ = json.Unmarshal(raw["usage"], &us)
					prompt, completion = us["prompt_tokens"], us["completion_tokens"]
				}
			}
			if usageSeen != 1 || u.Model != "mix:model-b@3000+model-a@7000" {
				t.Fatalf("%d usage chunks, model %q", usageSeen, u.Model)
			}
		} else {
			var cr chatResponse
			if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
				t.Fatal(err)
			}
			if cr.Model != "mix:model-b@3000+model-a@7000" {
				t.Fatalf("model %q", cr.Model)
			}
			prompt, completion = cr.Usage.PromptTokens, cr.Usage.CompletionTokens
		}
		// Two calls of 6 output tokens each: the proposal and the answer.
		if completion != 12 || prompt <= uint64(workers.EstimateChatPrompt([]string{"Why own models together?"}))*2 {
			t.Fatalf("stream=%v: usage %d/%d does not cover both calls", stream, prompt, completion)
		}
		es := h.receiptsOf(keyRich)
		r := es[len(es)-1].Signed.Receipt
		if len(r.Models) != 2 || r.Models[0].ModelID != 1 || r.Models[0].WeightBps != 7000 || r.Models[1].ModelID != 2 || r.Models[1].WeightBps != 3000 {
			t.Fatalf("mixture shares %+v", r.Models)
		}
		if r.InputTokens != prompt || r.OutputTokens != completion {
			t.Fatalf("receipt tokens %d/%d, response %d/%d", r.InputTokens, r.OutputTokens, prompt, completion)
		}
		// The cost splits by weight, each model at its own price.
		a := new(big.Int).SetUint64(prompt*1000 + completion*2000)
		a.Mul(a, big.NewInt(7000))
		b := new(big.Int).SetUint64(prompt*500 + completion*700)
		b.Mul(b, big.NewInt(3000))
		want := ceilDivBig(a, 10_000_000) + ceilDivBig(b, 10_000_000)
		if r.Cost != want {
			t.Fatalf("mixture cost %d, want %d", r.Cost, want)
		}
		// The aggregator (first named: model-b) gave the answer.
		if r.Worker != "gpu-a" {
			t.Fatalf("aggregator ran on %s; only gpu-a serves model-b", r.Worker)
		}
	}
}

func ceilDivBig(a *big.Int, d int64) uint64 {
	q, m := new(big.Int).QuoRem(a, big.NewInt(d), new(big.Int))
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Uint64()
}

func TestModelsHealthMetricsAndReceipts(t *testing.T) {
	h := newHarness(t, defaultWorkers())
	resp := h.do("GET", "/v1/models", "", "")
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			ModelID uint64 `json:"model_id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || list.Object != "list" || len(list.Data) != 2 || list.Data[1].ModelID != 2 {
		t.Fatalf("models: %+v %v", list, err)
	}
	if r := h.do("GET", "/v1/models/model-a", "", ""); r.StatusCode != 200 {
		t.Fatalf("model: %d", r.StatusCode)
	}
	if r := h.do("GET", "/v1/models/nope", "", ""); r.StatusCode != 404 {
		t.Fatalf("unknown model: %d", r.StatusCode)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := h.do("GET", p, "", ""); r.StatusCode != 200 {
			t.Fatalf("%s: %d", p, r.StatusCode)
		}
	}
	readAll(t, h.do("POST", "/v1/chat/completions", keyRich, chatBody).Body)
	readAll(t, h.do("POST", "/v1/chat/completions", keyOnlyA, chatBody).Body)
	readAll(t, h.do("POST", "/v1/chat/completions", keyUnknown, chatBody).Body)

	m := string(readAll(t, h.do("GET", "/metrics", "", "").Body))
	for _, want := range []string{
		`keeper_requests_total{code="200",endpoint="chat"} 2`,
		`keeper_requests_total{code="401",endpoint="chat"} 1`,
		`keeper_request_duration_seconds_bucket`,
		`keeper_tokens_total{direction="output",model="model-a"} 24`,
		`keeper_unsettled_value_base_units`,
		`keeper_worker_up{kind="vllm",worker="gpu-a"} 1`,
		`keeper_worker_outstanding_requests{worker="gpu-b"} 0`,
		`keeper_runs_recorded_total{endpoint="chat",estimated="false"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, keyRich) {
		t.Fatal("an API key appears in the metrics")
	}

	// A user sees exactly their own signed receipts.
	resp = h.do("GET", "/v1/receipts?limit=10", keyRich, "")
	var page ReceiptPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Keeper != h.gw.KeeperKey().String() || page.Escrow != EscrowAddress(keyRich).String() {
		t.Fatalf("receipts page %+v", page)
	}
	v := page.Data[0]
	if v.State != "recorded" || v.Receipt.OutputTokens != 12 {
		t.Fatalf("receipt view %+v", v)
	}
	if r := h.do("GET", "/v1/receipts", "", ""); r.StatusCode != 401 {
		t.Fatalf("receipts without a key: %d", r.StatusCode)
	}
	if r := h.do("GET", "/v1/receipts?after=zz", keyRich, ""); r.StatusCode != 400 {
		t.Fatalf("bad cursor: %d", r.StatusCode)
	}
}

func TestCostMirrorsSettlement(t *testing.T) {
	max64 := ^uint64(0)
	cases := []struct {
		in, out, pin, pout uint64
		w                  uint16
		want               uint64
		overflow           bool
	}{
		{0, 0, 5, 5, 10000, 0, false},
		{1000, 0, 1, 0, 10000, 1, false},
		{1, 0, 1, 0, 10000, 1, false},      // rounds up
		{1, 1, 1, 1, 1, 1, false},          // tiny share still pays 1
		{999, 1, 1, 0, 10000, 1, false},    // 999/1000 -> 1
		{1000, 1000, 7, 9, 5000, 8, false}, // (7000+9000)*0.5/1000
		{max64, max64, max64, max64, 10000, 0, true},
		{max64, 0, 1000, 0, 10000, max64, false},
		{max64, 0, 1001, 0, 10000, 0, true},
	}
	for _, c := range cases {
		got, err := Cost([]receipts.ModelShare{{ModelID: 1, WeightBps: c.w, InputPer1k: c.pin, OutputPer1k: c.pout}}, c.in, c.out)
		if c.overflow {
			if err == nil {
				t.Errorf("%+v: want overflow, got %d", c, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: got %d %v", c, got, err)
		}
		// Against big-integer arithmetic.
		raw := new(big.Int).Add(new(big.Int).Mul(big.NewInt(0).SetUint64(c.in), big.NewInt(0).SetUint64(c.pin)), new(big.Int).Mul(big.NewInt(0).SetUint64(c.out), big.NewInt(0).SetUint64(c.pout)))
		raw.Mul(raw, big.NewInt(int64(c.w)))
		if ref := ceilDivBig(raw, 10_000_000); ref != got {
			t.Errorf("%+v: %d differs from reference %d", c, got, ref)
		}
	}
}

func TestParseModel(t *testing.T) {
	ids := map[string]uint64{"a": 1, "b": 2, "c": 3}
	cases := []struct {
		model   string
		weights []uint16
		bad     bool
	}{
		{"a", []uint16{10000}, false},
		{"mix:a+b", []uint16{5000, 5000}, false},
		{"mix:a+b+c", []uint16{3334, 3333, 3333}, false},
		{"mix:a@7000+b@3000", []uint16{7000, 3000}, false},
		{"mix:a@7000+b", nil, true},
		{"mix:a@7000+b@2000", nil, true},
		{"mix:a@0+b@10000", nil, true},
		{"mix:a+a", nil, true},
		{"mix:a", nil, true},
		{"mix:a+zzz", nil, true},
		{"zzz", nil, true},
	}
	for _, c := range cases {
		ms, err := parseModel(c.model, ids)
		if c.bad != (err != nil) {
			t.Errorf("%s: err %v", c.model, err)
			continue
		}
		for i, w := range c.weights {
			if ms[i].weight != w {
				t.Errorf("%s: weights %+v", c.model, ms)
			}
		}
	}
}
