package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

func oneWorker(sim workersim.Config) harnessOpts {
	sim.Models = []string{"model-a", "model-b"}
	return harnessOpts{
		workers: map[string]workersim.Config{"gpu-a": sim},
		models:  map[string][]string{"gpu-a": {"model-a", "model-b"}},
	}
}

// streamUntil posts a streaming chat request, reads it until k chunks
// with generated text have arrived, then drops the connection. It returns
// when the gateway has released the worker.
func (h *harness) streamUntil(body string, k int) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", h.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+keyRich)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		h.t.Fatalf("HTTP %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	for got := 0; got < k; {
		line, err := br.ReadString('\n')
		if err != nil {
			h.t.Fatalf("stream ended after %d chunks: %v", got, err)
		}
		d, ok := strings.CutPrefix(strings.TrimSpace(line), "data: ")
		if !ok || d == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(d), &c); err != nil {
			h.t.Fatalf("chunk %q: %v", d, err)
		}
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			got++
		}
	}
	cancel()
	resp.Body.Close()
	waitFor(h.t, "the run to end", func() bool { return h.pool.Snapshot()[0].Outstanding == 0 })
}

// The disconnect policy: a client that reads k of n streamed tokens and
// goes away is charged the prompt and exactly those k tokens, on a receipt
// marked partial, and the worker is stopped at once rather than left to
// generate the rest.
func TestDisconnectMidStreamChargesWhatWasGenerated(t *testing.T) {
	for _, k := range []int{1, 5, 15} {
		t.Run(strconv.Itoa(k), func(t *testing.T) {
			h := newHarness(t, oneWorker(workersim.Config{PerToken: 80 * time.Millisecond}))
			h.streamUntil(`{"model":"model-a","messages":[{"role":"user","content":"count"}],"max_tokens":16,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}`, k)
			es := h.receiptsOf(keyRich)
			if len(es) != 1 {
				t.Fatalf("%d receipts, want one partial receipt", len(es))
			}
			r := es[0].Signed.Receipt
			prompt := uint64(workers.EstimateChatPrompt([]string{"count"}))
			want, _ := Cost(r.Models, prompt, uint64(k))
			if !r.Partial || r.Version != receipts.VersionPartial || !r.Estimated || r.InputTokens != prompt || r.OutputTokens != uint64(k) || r.Cost != want {
				t.Fatalf("receipt after %d of 16 tokens: %+v (want partial, %d in, %d out, cost %d)", k, r, prompt, k, want)
			}
			if err := es[0].Signed.Verify(); err != nil {
				t.Fatal(err)
			}
			if got := h.journal.UnsettledSpend(EscrowAddress(keyRich)); got != want {
				t.Fatalf("unsettled spend %d, want %d", got, want)
			}
			st := h.sims["gpu-a"].Stats()
			if st.Aborted != 1 || st.Completed != 0 || st.StreamedTokens > uint64(k)+1 {
				t.Fatalf("the worker was not stopped: %+v", st)
			}
			if n := testutil.ToFloat64(h.gw.metrics.PartialRuns); n != 1 {
				t.Fatalf("keeper_runs_partial_total %v", n)
			}
			if held := h.heldReservations(); held != 0 {
				t.Fatalf("%d reservations held", held)
			}
		})
	}
}

// A client that goes away before the worker's first byte reached it is
// charged nothing, and the worker's request is cancelled.
func TestDisconnectBeforeFirstByteChargesNothing(t *testing.T) {
	h := newHarness(t, oneWorker(workersim.Config{TTFT: 2 * time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", h.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":16,"stream":true}`))
	req.Header.Set("Authorization", "Bearer "+keyRich)
	start := time.Now()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got a response (HTTP %d) before the worker's first token", resp.StatusCode)
	}
	waitFor(t, "the run to end", func() bool { return h.pool.Snapshot()[0].Outstanding == 0 })
	waitFor(t, "the worker to see the cancellation", func() bool { return h.sims["gpu-a"].Stats().Aborted == 1 })
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the worker ran on for %v after the client left", d)
	}
	if n := len(h.receiptsOf(keyRich)); n != 0 {
		t.Fatalf("%d receipts for a run that sent nothing", n)
	}
	if h.journal.UnsettledSpend(EscrowAddress(keyRich)) != 0 {
		t.Fatal("charged for nothing")
	}
}

// clientUsage is a usage object as the client sees it.
type clientUsage struct {
	PromptTokens     *int64 `json:"prompt_tokens"`
	CompletionTokens *int64 `json:"completion_tokens"`
	TotalTokens      *int64 `json:"total_tokens"`
}

func (u *clientUsage) equals(r receipts.Receipt) bool {
	return u != nil && u.PromptTokens != nil && u.CompletionTokens != nil && u.TotalTokens != nil &&
		*u.PromptTokens == int64(r.InputTokens) && *u.CompletionTokens == int64(r.OutputTokens) && *u.TotalTokens == int64(r.InputTokens+r.OutputTokens)
}

func lastReceipt(t *testing.T, es []journal.Entry, n int) receipts.Receipt {
	t.Helper()
	if len(es) != n {
		t.Fatalf("%d receipts, want %d", len(es), n)
	}
	return es[n-1].Signed.Receipt
}

// Whatever a worker reports, the usage the client sees — the body's usage,
// the final stream chunk, the headers and trailers — is the usage on the
// receipt: output clamped to max_tokens, invalid counts replaced by the
// keeper's estimate (marked estimated).
func TestClientSeesTheChargedUsage(t *testing.T) {
	const maxTokens = 8
	prompt := uint64(workers.EstimateChatPrompt([]string{"x"}))
	cases := []struct {
		name               string
		fake               string
		wantIn, wantOut    uint64
		estimated, clamped bool
	}{
		{"honest", "", prompt, maxTokens, false, false},
		{"absurd", `{"prompt_tokens":5,"completion_tokens":1000000,"total_tokens":1000005}`, 5, maxTokens, false, true},
		{"negative completion", `{"prompt_tokens":5,"completion_tokens":-40,"total_tokens":-35}`, prompt, maxTokens, true, false},
		{"negative prompt", `{"prompt_tokens":-5,"completion_tokens":3,"total_tokens":-2}`, prompt, maxTokens, true, false},
		{"wrong total", `{"prompt_tokens":5,"completion_tokens":8,"total_tokens":999}`, 5, 8, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, oneWorker(workersim.Config{Faults: workersim.Faults{FakeUsage: json.RawMessage(c.fake)}}))
			if c.fake == "" {
				h.sims["gpu-a"].SetFaults(workersim.Faults{})
			}
			check := func(how string, u *clientUsage, hdr http.Header, r receipts.Receipt) {
				t.Helper()
				if r.InputTokens != c.wantIn || r.OutputTokens != c.wantOut || r.Estimated != c.estimated || r.Partial {
					t.Fatalf("%s: receipt %d in / %d out estimated=%v, want %d / %d estimated=%v", how, r.InputTokens, r.OutputTokens, r.Estimated, c.wantIn, c.wantOut, c.estimated)
				}
				if u != nil && !u.equals(r) {
					t.Fatalf("%s: client saw usage %+v, receipt says %d/%d", how, *u, r.InputTokens, r.OutputTokens)
				}
				if hdr != nil {
					if hdr.Get(headerPromptTokens) != strconv.FormatUint(r.InputTokens, 10) || hdr.Get(headerCompletionTokens) != strconv.FormatUint(r.OutputTokens, 10) ||
						hdr.Get(headerTotalTokens) != strconv.FormatUint(r.InputTokens+r.OutputTokens, 10) || hdr.Get(headerCost) != strconv.FormatUint(r.Cost, 10) ||
						hdr.Get(headerEstimated) != strconv.FormatBool(r.Estimated) {
						t.Fatalf("%s: usage headers %v, receipt %+v", how, hdr, r)
					}
				}
			}
			// Not streamed: the body's usage and the headers.
			resp := h.do("POST", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":8,"ignore_eos":true}`)
			var body struct {
				Usage *clientUsage `json:"usage"`
			}
			if err := json.Unmarshal(readAll(t, resp.Body), &body); err != nil || resp.StatusCode != 200 {
				t.Fatalf("HTTP %d: %v", resp.StatusCode, err)
			}
			r := lastReceipt(t, h.receiptsOf(keyRich), 1)
			check("body", body.Usage, resp.Header, r)
			if resp.Header.Get(headerRunID) != r.RunID.String() {
				t.Fatalf("X-Run-Id %q, receipt %s", resp.Header.Get(headerRunID), r.RunID)
			}
			// Streamed with include_usage: the final chunk, and no other
			// chunk shows usage; the trailers.
			for i, include := range []bool{true, false} {
				b := `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":8,"ignore_eos":true,"stream":true`
				if include {
					b += `,"stream_options":{"include_usage":true}`
				}
				resp := h.do("POST", "/v1/chat/completions", keyRich, b+"}")
				if _, declared := resp.Trailer[headerTotalTokens]; resp.Header.Get(headerRunID) == "" || !declared {
					t.Fatalf("stream headers %v, trailers declared %v", resp.Header, resp.Trailer)
				}
				data := sseData(t, resp.Body)
				var final *clientUsage
				for _, d := range data {
					var ch struct {
						Choices []any        `json:"choices"`
						Usage   *clientUsage `json:"usage"`
					}
					if d == "[DONE]" || json.Unmarshal([]byte(d), &ch) != nil || ch.Usage == nil {
						continue
					}
					if len(ch.Choices) > 0 || final != nil {
						t.Fatalf("usage on a content chunk or twice: %s", d)
					}
					final = ch.Usage
				}
				r := lastReceipt(t, h.receiptsOf(keyRich), 2+i)
				if include != (final != nil) {
					t.Fatalf("include_usage=%v, usage chunk: %v", include, final != nil)
				}
				check("stream chunk", final, resp.Trailer, r)
				if resp.Header.Get(headerRunID) != r.RunID.String() {
					t.Fatalf("stream X-Run-Id %q, receipt %s", resp.Header.Get(headerRunID), r.RunID)
				}
			}
			if got := testutil.ToFloat64(h.gw.metrics.UsageClamped); (got == 3) != c.clamped || (got != 0 && got != 3) {
				t.Fatalf("keeper_usage_clamped_total %v", got)
			}
		})
	}
}

// Usage that is not a JSON integer makes the worker's answer malformed:
// not charged, whether streamed (the stream ends with an error) or not
// (another worker is tried; with none, 502).
func TestNonIntegerUsageIsNotCharged(t *testing.T) {
	h := newHarness(t, oneWorker(workersim.Config{Faults: workersim.Faults{FakeUsage: json.RawMessage(`{"prompt_tokens":5,"completion_tokens":7.5,"total_tokens":12.5}`)}}))
	resp := h.do("POST", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":8,"ignore_eos":true}`)
	if e := apiErr(t, resp); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("HTTP %d %+v", resp.StatusCode, e)
	}
	resp = h.do("POST", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":8,"ignore_eos":true,"stream":true}`)
	data := sseData(t, resp.Body)
	if last := data[len(data)-1]; !strings.Contains(last, `"error"`) {
		t.Fatalf("stream with malformed usage ended with %q", last)
	}
	if n := len(h.receiptsOf(keyRich)); n != 0 {
		t.Fatalf("%d receipts for malformed answers", n)
	}
}

// A stream read without include_usage is reconciled by its run id: the
// X-Run-Id header names the receipt GET /v1/receipts/{run_id} returns to
// the same key (and to no other), and the trailers carry its figures.
func TestRunIDLooksUpTheReceipt(t *testing.T) {
	h := newHarness(t, defaultWorkers())
	resp := h.do("POST", "/v1/chat/completions", keyRich, `{"model":"model-a","messages":[{"role":"user","content":"x"}],"max_tokens":6,"ignore_eos":true,"stream":true}`)
	readAll(t, resp.Body)
	id := resp.Header.Get(headerRunID)
	got := h.do("GET", "/v1/receipts/"+id, keyRich, "")
	var v ReceiptView
	if err := json.Unmarshal(readAll(t, got.Body), &v); err != nil || got.StatusCode != 200 {
		t.Fatalf("HTTP %d: %v", got.StatusCode, err)
	}
	if v.RunID != id || v.Receipt.OutputTokens != 6 || resp.Trailer.Get(headerCompletionTokens) != "6" ||
		resp.Trailer.Get(headerCost) != strconv.FormatUint(v.Receipt.Cost, 10) || resp.Trailer.Get(headerPromptTokens) != strconv.FormatUint(v.Receipt.InputTokens, 10) {
		t.Fatalf("receipt %+v, trailers %v", v, resp.Trailer)
	}
	if other := h.do("GET", "/v1/receipts/"+id, keyOnlyA, ""); other.StatusCode != 404 || *apiErr(t, other).Code != "receipt_not_found" {
		t.Fatalf("another key's lookup: HTTP %d", other.StatusCode)
	}
	next := receipts.NewRunID()
	if absent := h.do("GET", "/v1/receipts/"+next.String(), keyRich, ""); absent.StatusCode != 404 {
		t.Fatalf("absent run: HTTP %d", absent.StatusCode)
	}
	if bad := h.do("GET", "/v1/receipts/xyz", keyRich, ""); bad.StatusCode != 400 {
		t.Fatalf("bad run id: HTTP %d", bad.StatusCode)
	}
	if proofs := h.do("GET", "/v1/receipts/proofs", keyRich, ""); proofs.StatusCode == 400 {
		t.Fatal("/v1/receipts/proofs is taken for a run id")
	}
}

// A mixture whose client leaves while the aggregator streams is charged
// its proposals in full (they were complete) plus the aggregator's part
// so far, on one partial receipt.
func TestMixtureDisconnectChargesProposalsAndPartialAnswer(t *testing.T) {
	const k = 4
	h := newHarness(t, oneWorker(workersim.Config{PerToken: 80 * time.Millisecond}))
	h.streamUntil(`{"model":"mix:model-a+model-b","messages":[{"role":"user","content":"count"}],"max_tokens":16,"ignore_eos":true,"stream":true}`, k)
	r := lastReceipt(t, h.receiptsOf(keyRich), 1)
	proposalPrompt := uint64(workers.EstimateChatPrompt([]string{"count"}))
	if !r.Partial || len(r.Models) != 2 || r.OutputTokens != 16+k || r.InputTokens <= proposalPrompt {
		t.Fatalf("mixture receipt %+v: want partial, 16 proposal + %d answer tokens out", r, k)
	}
	if want, _ := Cost(r.Models, r.InputTokens, r.OutputTokens); r.Cost != want {
		t.Fatalf("cost %d, want %d", r.Cost, want)
	}
}
