// Package workersim is an OpenAI-compatible inference server that behaves
// like vLLM's (`vllm serve`) on the wire, without a model: deterministic
// generated text, token usage counted with the keeper's fallback tokenizer,
// configurable latency (time to first token, time per token) and injected
// faults (HTTP errors, hangs, connections dropped mid-stream, answers that
// go silent mid-way, malformed output, missing usage). The keeper's tests,
// demo and benchmarks run against it.
//
// Endpoints: POST /v1/chat/completions, /v1/completions, /v1/embeddings
// (streaming with SSE and stream_options.include_usage where vLLM has it),
// GET /v1/models, GET /health, GET /version.
package workersim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcommons/modelcommons/keepers/workers"
)

// Faults are injected at the given rates (0..1), drawn per request.
type Faults struct {
	// ErrorRate: answer HTTP 500 immediately.
	ErrorRate float64
	// HangRate: accept the request and never answer.
	HangRate float64
	// DieRate: drop the connection halfway through the response.
	DieRate float64
	// MalformedRate: send invalid JSON (a broken chunk, or a cut body).
	MalformedRate float64
	// StallRate: answer (headers, and for streams the first chunks), then
	// go silent without closing the connection.
	StallRate float64
	// NoUsage: never report usage (as servers without it do).
	NoUsage bool
	// FakeUsage, if set, is sent verbatim as the usage object instead of
	// the true counts: absurd, negative or non-integer figures, as a
	// buggy or dishonest worker might report.
	FakeUsage json.RawMessage
}

// Config configures a simulator.
type Config struct {
	// Models served (default ["sim-model"]).
	Models []string
	// MaxModelLen is the context length (default 4096).
	MaxModelLen int
	// TTFT is the delay before the first token; PerToken between tokens.
	TTFT, PerToken time.Duration
	// MinTokens..MaxTokens is the natural completion length when the
	// request's max_tokens does not stop it first (default 16..64).
	MinTokens, MaxTokens int
	// EmbeddingDims (default 16).
	EmbeddingDims int
	Faults        Faults
	// Seed makes fault draws reproducible (generated text always is).
	Seed   uint64
	Logger *slog.Logger
}

// Stats counts what the simulator did. Aborted counts streams whose
// client went away before the end; StreamedTokens the tokens sent in
// stream chunks (all choices).
type Stats struct {
	Requests, Completed, Errors, Hangs, Dies, Malformed, Stalls uint64
	Aborted, StreamedTokens                                     uint64
}

// Sim is the simulator; it is an http.Handler.
type Sim struct {
	cfg     Config
	created int64
	mux     *http.ServeMux

	mu     sync.Mutex
	faults Faults
	rng    *mrand.Rand

	requests, completed, errs, hangs, dies, malformed, stalls atomic.Uint64
	aborted, streamedTokens                                   atomic.Uint64
}

// New returns a simulator.
func New(cfg Config) *Sim {
	if len(cfg.Models) == 0 {
		cfg.Models = []string{"sim-model"}
	}
	if cfg.MaxModelLen <= 0 {
		cfg.MaxModelLen = 4096
	}
	if cfg.MinTokens <= 0 {
		cfg.MinTokens = 16
	}
	if cfg.MaxTokens < cfg.MinTokens {
		cfg.MaxTokens = max(64, cfg.MinTokens)
	}
	if cfg.EmbeddingDims <= 0 {
		cfg.EmbeddingDims = 16
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{cfg: cfg, created: time.Now().Unix(), faults: cfg.Faults, rng: mrand.New(mrand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	m := http.NewServeMux()
	m.HandleFunc("POST /v1/chat/completions", s.chat)
	m.HandleFunc("POST /v1/completions", s.completions)
	m.HandleFunc("POST /v1/embeddings", s.embeddings)
	m.HandleFunc("GET /v1/models", s.models)
	m.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	m.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": "workersim"})
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFoundError", "Not Found", nil)
	})
	s.mux = m
	return s
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetFaults changes the injected faults at run time.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	return Stats{s.requests.Load(), s.completed.Load(), s.errs.Load(), s.hangs.Load(), s.dies.Load(), s.malformed.Load(), s.stalls.Load(),
		s.aborted.Load(), s.streamedTokens.Load()}
}

type fault int

const (
	faultNone fault = iota
	faultError
	faultHang
	faultDie
	faultMalformed
	faultStall
)

// draw picks this request's fault; the faults in effect come with it.
func (s *Sim) draw() (fault, Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	x := s.rng.Float64()
	switch {
	case x < f.ErrorRate:
		return faultError, f
	case x < f.ErrorRate+f.HangRate:
		return faultHang, f
	case x < f.ErrorRate+f.HangRate+f.DieRate:
		return faultDie, f
	case x < f.ErrorRate+f.HangRate+f.DieRate+f.MalformedRate:
		return faultMalformed, f
	case x < f.ErrorRate+f.HangRate+f.DieRate+f.MalformedRate+f.StallRate:
		return faultStall, f
	}
	return faultNone, f
}

// --- requests ---

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type genRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	Prompt              json.RawMessage `json:"prompt"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	N                   *int            `json:"n"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	IgnoreEOS           bool            `json:"ignore_eos"`
	Seed                *int64          `json:"seed"`
	Input               json.RawMessage `json:"input"`
	Dimensions          int             `json:"dimensions"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func messageText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String(), true
}

func (s *Sim) decode(w http.ResponseWriter, r *http.Request) (*genRequest, bool) {
	s.requests.Add(1)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", "could not read request body", nil)
		return nil, false
	}
	var req genRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", "JSON decode error: "+err.Error(), nil)
		return nil, false
	}
	if !slices.Contains(s.cfg.Models, req.Model) {
		writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", req.Model), "model")
		return nil, false
	}
	return &req, true
}

// plan is one generation: prompt size, per-choice token texts.
type plan struct {
	id           string
	modelName    string
	created      int64
	promptTokens int
	choices      [][]string
	finish       []string
	includeUsage bool
	noUsage      bool
	fakeUsage    json.RawMessage
	fault        fault
}

func (p *plan) completionTokens() int {
	n := 0
	for _, c := range p.choices {
		n += len(c)
	}
	return n
}

func (p *plan) usage() any {
	if p.fakeUsage != nil {
		return p.fakeUsage
	}
	c := p.completionTokens()
	// vLLM's UsageInfo field order.
	return map[string]any{"prompt_tokens": p.promptTokens, "total_tokens": p.promptTokens + c, "completion_tokens": c}
}

// vocab words are at most six letters, so that each generated token is
// exactly one token for the keeper's fallback tokenizer too.
var vocab = strings.Fields(`the of and to in is was for on that with as by at from his her an were are
which this be had it not also first one their its new after who they has have been two all other time
model token market open small owned keeper escrow settle batch chain proof root leaf signer vault stake
node worker stream usage price epoch vote fair share weight answer data query run`)

func (s *Sim) plan(w http.ResponseWriter, req *genRequest, prompt string, promptTokens int, idPrefix string) (*plan, bool) {
	n := 1
	if req.N != nil {
		n = *req.N
	}
	if n < 1 || n > 16 {
		writeError(w, http.StatusBadRequest, "BadRequestError", "n must be between 1 and 16", "n")
		return nil, false
	}
	maxTok := s.cfg.MaxModelLen - promptTokens
	if req.MaxCompletionTokens != nil {
		maxTok = *req.MaxCompletionTokens
	} else if req.MaxTokens != nil {
		maxTok = *req.MaxTokens
	}
	if maxTok < 1 {
		writeError(w, http.StatusBadRequest, "BadRequestError", "max_tokens must be at least 1", "max_tokens")
		return nil, false
	}
	if promptTokens+maxTok > s.cfg.MaxModelLen {
		writeError(w, http.StatusBadRequest, "BadRequestError", fmt.Sprintf(
			"This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			s.cfg.MaxModelLen, promptTokens+maxTok, promptTokens, maxTok), nil)
		return nil, false
	}
	f, faults := s.draw()
	p := &plan{id: idPrefix + randomHex(16), modelName: req.Model, created: time.Now().Unix(), promptTokens: promptTokens, fault: f, noUsage: faults.NoUsage, fakeUsage: faults.FakeUsage}
	p.includeUsage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	h := fnv.New64a()
	h.Write([]byte(req.Model))
	h.Write([]byte(prompt))
	seed := h.Sum64()
	if req.Seed != nil {
		seed ^= uint64(*req.Seed)
	}
	for i := 0; i < n; i++ {
		g := mrand.New(mrand.NewPCG(seed, uint64(i)))
		natural := s.cfg.MinTokens + g.IntN(s.cfg.MaxTokens-s.cfg.MinTokens+1)
		count, finish := natural, "stop"
		if req.IgnoreEOS || natural >= maxTok {
			count, finish = maxTok, "length"
		}
		toks := make([]string, count)
		for j := range toks {
			word := vocab[g.IntN(len(vocab))]
			if j == 0 {
				word = strings.ToUpper(word[:1]) + word[1:]
			} else {
				word = " " + word
			}
			toks[j] = word
		}
		p.choices = append(p.choices, toks)
		p.finish = append(p.finish, finish)
	}
	return p, true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// --- handlers ---

func (s *Sim) chat(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "BadRequestError", "messages must not be empty", "messages")
		return
	}
	var texts []string
	for _, m := range req.Messages {
		t, ok := messageText(m.Content)
		if !ok {
			writeError(w, http.StatusBadRequest, "BadRequestError", "invalid message content", "messages")
			return
		}
		texts = append(texts, t)
	}
	p, ok := s.plan(w, req, strings.Join(texts, "\n"), workers.EstimateChatPrompt(texts), "chatcmpl-")
	if !ok {
		return
	}
	s.run(w, r, req, p, true)
}

func (s *Sim) completions(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	var prompt string
	if err := json.Unmarshal(req.Prompt, &prompt); err != nil {
		var many []string
		if err := json.Unmarshal(req.Prompt, &many); err != nil || len(many) != 1 {
			writeError(w, http.StatusBadRequest, "BadRequestError", "prompt must be a string", "prompt")
			return
		}
		prompt = many[0]
	}
	p, ok := s.plan(w, req, prompt, workers.EstimateTokens(prompt), "cmpl-")
	if !ok {
		return
	}
	s.run(w, r, req, p, false)
}

func (s *Sim) run(w http.ResponseWriter, r *http.Request, req *genRequest, p *plan, chat bool) {
	switch p.fault {
	case faultError:
		s.errs.Add(1)
		writeError(w, http.StatusInternalServerError, "InternalServerError", "simulated engine failure", nil)
		return
	case faultHang:
		s.hangs.Add(1)
		<-r.Context().Done()
		return
	}
	if req.Stream {
		s.stream(w, r, p, chat)
		return
	}
	if !sleep(r, s.cfg.TTFT+time.Duration(p.completionTokens())*s.cfg.PerToken) {
		return
	}
	var choices []map[string]any
	for i, toks := range p.choices {
		text := strings.Join(toks, "")
		if chat {
			choices = append(choices, map[string]any{
				"index":         i,
				"message":       map[string]any{"role": "assistant", "content": text, "refusal": nil, "annotations": nil, "audio": nil, "function_call": nil, "tool_calls": []any{}, "reasoning_content": nil},
				"logprobs":      nil,
				"finish_reason": p.finish[i],
				"stop_reason":   nil,
			})
		} else {
			choices = append(choices, map[string]any{"index": i, "text": text, "logprobs": nil, "finish_reason": p.finish[i], "stop_reason": nil, "prompt_logprobs": nil})
		}
	}
	object := "text_completion"
	if chat {
		object = "chat.completion"
	}
	body := map[string]any{"id": p.id, "object": object, "created": p.created, "model": req.Model, "choices": choices}
	if !p.noUsage {
		body["usage"] = p.usage()
	}
	b, _ := json.Marshal(body)
	switch p.fault {
	case faultMalformed:
		s.malformed.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
		return
	case faultStall:
		s.stalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
		return
	case faultDie:
		s.dies.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	s.completed.Add(1)
}

func (s *Sim) stream(w http.ResponseWriter, r *http.Request, p *plan, chat bool) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	object := "text_completion"
	if chat {
		object = "chat.completion.chunk"
	}
	emit := func(v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			s.aborted.Add(1)
			return false
		}
		if rc.Flush() != nil {
			s.aborted.Add(1)
			return false
		}
		return true
	}
	chunk := func(choices []map[string]any) map[string]any {
		return map[string]any{"id": p.id, "object": object, "created": p.created, "model": p.modelName, "choices": choices}
	}
	if !sleep(r, s.cfg.TTFT) {
		s.aborted.Add(1)
		return
	}
	if chat {
		var first []map[string]any
		for i := range p.choices {
			first = append(first, map[string]any{"index": i, "delta": map[string]any{"role": "assistant", "content": ""}, "logprobs": nil, "finish_reason": nil})
		}
		if !emit(chunk(first)) {
			return
		}
	}
	longest := 0
	for _, c := range p.choices {
		longest = max(longest, len(c))
	}
	for t := 0; t < longest; t++ {
		if t > 0 && !sleep(r, s.cfg.PerToken) {
			s.aborted.Add(1)
			return
		}
		if t == longest/2 {
			switch p.fault {
			case faultDie:
				s.dies.Add(1)
				panic(http.ErrAbortHandler)
			case faultMalformed:
				s.malformed.Add(1)
				_, _ = fmt.Fprintf(w, "data: {\"id\":\"%s\",\"object\":\"%s\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\n\n", p.id, object)
				_ = rc.Flush()
				return
			case faultStall:
				s.stalls.Add(1)
				<-r.Context().Done()
				return
			}
		}
		var cs []map[string]any
		for i, toks := range p.choices {
			if t >= len(toks) {
				continue
			}
			var fin any
			if t == len(toks)-1 {
				fin = p.finish[i]
			}
			if chat {
				c := map[string]any{"index": i, "delta": map[string]any{"content": toks[t]}, "logprobs": nil, "finish_reason": fin}
				if fin != nil {
					c["stop_reason"] = nil
				}
				cs = append(cs, c)
			} else {
				cs = append(cs, map[string]any{"index": i, "text": toks[t], "logprobs": nil, "finish_reason": fin, "stop_reason": nil})
			}
		}
		if !emit(chunk(cs)) {
			return
		}
		s.streamedTokens.Add(uint64(len(cs)))
	}
	if p.includeUsage && !p.noUsage {
		u := chunk([]map[string]any{})
		u["usage"] = p.usage()
		if !emit(u) {
			return
		}
	}
	if _, err := io.WriteString(w, "data: [DONE]\n\n"); err == nil {
		_ = rc.Flush()
		s.completed.Add(1)
	}
}

func (s *Sim) embeddings(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	var inputs []string
	var one string
	if err := json.Unmarshal(req.Input, &one); err == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(req.Input, &inputs); err != nil || len(inputs) == 0 {
		writeError(w, http.StatusBadRequest, "BadRequestError", "input must be a string or a non-empty array of strings", "input")
		return
	}
	f, faults := s.draw()
	noUsage := faults.NoUsage
	switch f {
	case faultError:
		s.errs.Add(1)
		writeError(w, http.StatusInternalServerError, "InternalServerError", "simulated engine failure", nil)
		return
	case faultHang:
		s.hangs.Add(1)
		<-r.Context().Done()
		return
	}
	if !sleep(r, s.cfg.TTFT) {
		return
	}
	dims := s.cfg.EmbeddingDims
	if req.Dimensions > 0 && req.Dimensions <= 4096 {
		dims = req.Dimensions
	}
	prompt := 0
	var data []map[string]any
	for i, in := range inputs {
		prompt += workers.EstimateTokens(in)
		h := fnv.New64a()
		h.Write([]byte(in))
		g := mrand.New(mrand.NewPCG(h.Sum64(), 7))
		vec := make([]float64, dims)
		for d := range vec {
			vec[d] = float64(int(g.NormFloat64()*1e6)) / 1e6
		}
		data = append(data, map[string]any{"index": i, "object": "embedding", "embedding": vec})
	}
	body := map[string]any{"id": "embd-" + randomHex(16), "object": "list", "created": time.Now().Unix(), "model": req.Model, "data": data}
	if !noUsage {
		body["usage"] = map[string]any{"prompt_tokens": prompt, "total_tokens": prompt, "completion_tokens": 0, "prompt_tokens_details": nil}
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	if f == faultMalformed || f == faultDie {
		s.malformed.Add(1)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
		if f == faultDie {
			http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		}
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	s.completed.Add(1)
}

func (s *Sim) models(w http.ResponseWriter, r *http.Request) {
	var data []map[string]any
	for _, m := range s.cfg.Models {
		data = append(data, map[string]any{
			"id": m, "object": "model", "created": s.created, "owned_by": "vllm", "root": m, "parent": nil, "max_model_len": s.cfg.MaxModelLen,
			"permission": []map[string]any{{"id": "modelperm-" + randomHex(16), "object": "model_permission", "created": s.created,
				"allow_create_engine": false, "allow_sampling": true, "allow_logprobs": true, "allow_search_indices": false,
				"allow_view": true, "allow_fine_tuning": false, "organization": "*", "group": nil, "is_blocking": false}},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// --- helpers ---

func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeError writes vLLM's error body.
func writeError(w http.ResponseWriter, code int, typ, msg string, param any) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": param, "code": code}})
}
