package gateway

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/keepers/workers"
)

// A concurrent burst through the real gateway (HTTP, worker, durable
// journal) with the limiter's clock held still: each key gets exactly its
// requests-per-minute budget (one full bucket, the documented burst), a
// per-model budget caps that model within it, every admitted request is
// recorded once and no refused one is; after a quarter of a minute exactly
// a quarter of each budget more is admitted. The requests are chosen so
// that both budgets bind whatever order they arrive in.
func TestLimitBurstThroughTheGatewayAdmitsExactlyTheBudget(t *testing.T) {
	const keyRPM, modelRPM = 40, 12
	h, clk := limitHarness(t, Limits{Key: Rate{RPM: keyRPM}, Models: map[string]Rate{"model-b": {RPM: modelRPM}}})
	h.putEscrow(keyOnlyA, EscrowState{Lane: &Lane{Balance: 1_000_000_000}}) // a second key with every model

	burst := func(perModel map[string]int) map[string]int {
		var mu sync.Mutex
		ok := map[string]int{}
		var wg sync.WaitGroup
		for _, key := range []string{keyRich, keyOnlyA} {
			for model, n := range perModel {
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						resp := h.do("POST", "/v1/chat/completions", key, chat(model, 8, false))
						readAll(t, resp.Body)
						switch resp.StatusCode {
						case 200:
							mu.Lock()
							ok[key+" "+model]++
							ok[key]++
							mu.Unlock()
						case 429:
						default:
							t.Errorf("HTTP %d", resp.StatusCode)
						}
					}()
				}
			}
		}
		wg.Wait()
		return ok
	}
	check := func(round string, ok map[string]int, wantKey, wantB int) {
		t.Helper()
		for _, key := range []string{keyRich, keyOnlyA} {
			if ok[key] != wantKey || ok[key+" model-b"] != wantB {
				t.Fatalf("%s: key %s admitted %d (model-b %d), want exactly %d (model-b %d)", round, key[:12], ok[key], ok[key+" model-b"], wantKey, wantB)
			}
		}
	}
	// Per key 28 requests for model-a and 30 for model-b against 40 rpm,
	// model-b 12: whatever the order, exactly 28 + 12 fit (a refused
	// request takes from no budget).
	first := burst(map[string]int{"model-a": keyRPM - modelRPM, "model-b": 30})
	check("first burst", first, keyRPM, modelRPM)
	for _, key := range []string{keyRich, keyOnlyA} {
		if n := len(h.receiptsOf(key)); n != keyRPM {
			t.Fatalf("key %s: %d receipts for %d admitted requests", key[:12], n, keyRPM)
		}
	}
	clk.add(15 * time.Second)
	second := burst(map[string]int{"model-a": (keyRPM - modelRPM) / 4, "model-b": 30})
	check("after 15 s", second, keyRPM/4, modelRPM/4)
	for _, key := range []string{keyRich, keyOnlyA} {
		if n := len(h.receiptsOf(key)); n != keyRPM+keyRPM/4 {
			t.Fatalf("key %s: %d receipts for %d admitted requests", key[:12], n, keyRPM+keyRPM/4)
		}
	}
}

// Sequential requests against a tokens-per-minute budget, clock held
// still: a request is admitted while the bucket holds its worst case
// (prompt estimate + max_tokens) and keeps what it was charged, so exactly
// (budget − worst) / charged + 1 are admitted.
func TestLimitTokensThroughTheGatewayAdmitExactly(t *testing.T) {
	const budget = 1000
	h, _ := limitHarness(t, Limits{Key: Rate{TPM: budget}})
	body := chat("model-a", 40, true) // the worker writes all 40 tokens
	admitted, charged := 0, 0
	for i := 0; i < 100; i++ {
		resp := h.do("POST", "/v1/chat/completions", keyRich, body)
		data := readAll(t, resp.Body)
		if resp.StatusCode == 429 {
			break
		}
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d %s", resp.StatusCode, data)
		}
		var out struct {
			Usage struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		if charged != 0 && out.Usage.TotalTokens != charged {
			t.Fatalf("charged %d then %d for the same request", charged, out.Usage.TotalTokens)
		}
		charged = out.Usage.TotalTokens
		admitted++
	}
	req, aerr := h.gw.parseRequest(workers.ChatCompletions, []byte(body))
	if aerr != nil {
		t.Fatal(aerr.message)
	}
	worst := worstLimitTokens(req, 1, workers.ChatCompletions)
	if worst < charged {
		t.Fatalf("worst case %d below the charge %d", worst, charged)
	}
	if want := (budget-worst)/charged + 1; admitted != want {
		t.Fatalf("%d admitted, want exactly %d (budget %d, worst case %d, charged %d each)", admitted, want, budget, worst, charged)
	}
	if n := len(h.receiptsOf(keyRich)); n != admitted {
		t.Fatalf("%d receipts for %d admitted requests", n, admitted)
	}
}
