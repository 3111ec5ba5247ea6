package workersim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/keepers/workers"
)

func start(t *testing.T, cfg Config) (*Sim, string) {
	t.Helper()
	s := New(cfg)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func post(t *testing.T, url, path, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readStream(t *testing.T, r io.Reader) (*workers.StreamScanner, int, error) {
	sse := workers.NewSSEReader(r, 0)
	sc := workers.NewStreamScanner(-1, 1<<16)
	usageChunks := 0
	for {
		ev, err := sse.Next()
		if errors.Is(err, io.EOF) {
			return sc, usageChunks, nil
		}
		if err != nil {
			return sc, usageChunks, err
		}
		u, err := sc.Observe(ev)
		if err != nil {
			return sc, usageChunks, err
		}
		if u {
			usageChunks++
		}
	}
}

func TestChatNonStreamingLooksLikeVLLM(t *testing.T) {
	_, url := start(t, Config{Models: []string{"m"}})
	resp := post(t, url, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"Say hi"}],"max_tokens":5,"ignore_eos":true}`)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	res, err := workers.ParseResponse(workers.ChatCompletions, body, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.Estimated || res.Usage.CompletionTokens != 5 || res.Usage.PromptTokens != uint64(workers.EstimateChatPrompt([]string{"Say hi"})) {
		t.Fatalf("usage %+v", res.Usage)
	}
	if res.FinishReasons[0] != "length" || !strings.HasPrefix(string(body), `{"choices"`) && !strings.Contains(string(body), `"object":"chat.completion"`) {
		t.Fatalf("body %s", body)
	}
	// Usage counts agree with the keeper's fallback tokenizer on the text.
	if got := workers.EstimateTokens(res.Text); got != 5 {
		t.Fatalf("text %q estimates to %d tokens, usage says 5", res.Text, got)
	}
}

func TestChatStreamingWithAndWithoutUsage(t *testing.T) {
	_, url := start(t, Config{Models: []string{"m"}, PerToken: time.Millisecond})
	for _, include := range []bool{true, false} {
		body := `{"model":"m","messages":[{"role":"user","content":"Tell me"}],"max_tokens":12,"ignore_eos":true,"stream":true`
		if include {
			body += `,"stream_options":{"include_usage":true}`
		}
		resp := post(t, url, "/v1/chat/completions", body+"}")
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("content type %q", ct)
		}
		sc, usageChunks, err := readStream(t, resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if !sc.SawDone() || !sc.Complete() {
			t.Fatal("stream not complete")
		}
		u := sc.Result().Usage
		if include && (usageChunks != 1 || u.Estimated || u.CompletionTokens != 12) {
			t.Fatalf("include_usage: %d usage chunks, %+v", usageChunks, u)
		}
		if !include && (usageChunks != 0 || !u.Estimated || u.CompletionTokens != 12) {
			t.Fatalf("no include_usage: %d usage chunks, %+v", usageChunks, u)
		}
	}
}

func TestCompletionsEmbeddingsModelsHealth(t *testing.T) {
	_, url := start(t, Config{Models: []string{"m", "e"}, EmbeddingDims: 8})
	resp := post(t, url, "/v1/completions", `{"model":"m","prompt":"Once upon","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}`)
	sc, _, err := readStream(t, resp.Body)
	if err != nil || sc.Result().Usage.CompletionTokens != 3 || sc.Result().Usage.PromptTokens != 2 {
		t.Fatalf("completions stream: %+v %v", sc.Result().Usage, err)
	}
	resp = post(t, url, "/v1/embeddings", `{"model":"e","input":["a b c","d"]}`)
	var emb struct {
		Data []struct {
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&emb); err != nil || len(emb.Data) != 2 || len(emb.Data[0].Embedding) != 8 || emb.Usage.PromptTokens != 4 {
		t.Fatalf("embeddings: %+v %v", emb, err)
	}
	r, err := http.Get(url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var models struct {
		Data []struct {
			ID      string `json:"id"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	_ = json.NewDecoder(r.Body).Decode(&models)
	r.Body.Close()
	if len(models.Data) != 2 {
		t.Fatalf("models: %+v", models)
	}
	r, _ = http.Get(url + "/health")
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("health %d", r.StatusCode)
	}
}

func TestRequestErrors(t *testing.T) {
	_, url := start(t, Config{Models: []string{"m"}, MaxModelLen: 100})
	cases := []struct {
		body string
		code int
	}{
		{`{"model":"x","messages":[{"role":"user","content":"hi"}]}`, 404},
		{`{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1000}`, 400},
		{`{"model":"m","messages":[]}`, 400},
		{`not json`, 400},
	}
	for _, c := range cases {
		resp := post(t, url, "/v1/chat/completions", c.body)
		var e struct {
			Error struct {
				Message string `json:"message"`
				Code    int    `json:"code"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != c.code || e.Error.Code != c.code || e.Error.Message == "" {
			t.Fatalf("%s: %d %+v", c.body, resp.StatusCode, e)
		}
	}
}

func TestFaultInjection(t *testing.T) {
	s, url := start(t, Config{Models: []string{"m"}})
	stream := `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":20,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}`

	s.SetFaults(Faults{ErrorRate: 1})
	if resp := post(t, url, "/v1/chat/completions", stream); resp.StatusCode != 500 {
		t.Fatalf("error fault: %d", resp.StatusCode)
	}

	s.SetFaults(Faults{DieRate: 1})
	resp := post(t, url, "/v1/chat/completions", stream)
	sc, _, err := readStream(t, resp.Body)
	if err == nil && sc.Complete() {
		t.Fatal("a stream that died mid-way looks complete")
	}

	s.SetFaults(Faults{MalformedRate: 1})
	resp = post(t, url, "/v1/chat/completions", stream)
	if _, _, err := readStream(t, resp.Body); !errors.Is(err, workers.ErrMalformed) {
		t.Fatalf("malformed fault: %v", err)
	}
	resp = post(t, url, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}]}`)
	b, _ := io.ReadAll(resp.Body)
	if _, err := workers.ParseResponse(workers.ChatCompletions, b, 0); !errors.Is(err, workers.ErrMalformed) {
		t.Fatalf("malformed body: %v", err)
	}

	s.SetFaults(Faults{NoUsage: true})
	resp = post(t, url, "/v1/chat/completions", stream)
	sc, n, err := readStream(t, resp.Body)
	if err != nil || n != 0 || !sc.Result().Usage.Estimated {
		t.Fatalf("no-usage fault: %v %d %+v", err, n, sc.Result().Usage)
	}

	s.SetFaults(Faults{HangRate: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", bytes.NewBufferString(stream))
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang fault: %v", err)
	}
	st := s.Stats()
	if st.Errors != 1 || st.Dies != 1 || st.Malformed != 2 || st.Hangs != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLatency(t *testing.T) {
	_, url := start(t, Config{Models: []string{"m"}, TTFT: 40 * time.Millisecond, PerToken: 5 * time.Millisecond})
	t0 := time.Now()
	resp := post(t, url, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10,"ignore_eos":true}`)
	io.Copy(io.Discard, resp.Body)
	if d := time.Since(t0); d < 85*time.Millisecond {
		t.Fatalf("10 tokens with 40ms TTFT and 5ms/token took only %v", d)
	}
}
