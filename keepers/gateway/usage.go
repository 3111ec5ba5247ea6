package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

// Response headers (and, on streams, trailers) carrying a run's charge.
// X-Run-Id is sent with the response headers; the usage figures are known
// only once the run is recorded, so a stream declares them in Trailer up
// front and sends them after the last chunk.
const (
	headerRunID            = "X-Run-Id"
	headerPromptTokens     = "X-Usage-Prompt-Tokens"
	headerCompletionTokens = "X-Usage-Completion-Tokens"
	headerTotalTokens      = "X-Usage-Total-Tokens"
	headerCost             = "X-Usage-Cost"
	headerEstimated        = "X-Usage-Estimated"
)

var usageTrailer = strings.Join([]string{headerPromptTokens, headerCompletionTokens, headerTotalTokens, headerCost, headerEstimated}, ", ")

// setUsageHeaders puts a recorded run's charge in h: response headers
// before WriteHeader, trailers (declared in usageTrailer) after the body.
func setUsageHeaders(h http.Header, r receipts.Receipt) {
	h.Set(headerPromptTokens, strconv.FormatUint(r.InputTokens, 10))
	h.Set(headerCompletionTokens, strconv.FormatUint(r.OutputTokens, 10))
	h.Set(headerTotalTokens, strconv.FormatUint(r.InputTokens+r.OutputTokens, 10))
	h.Set(headerCost, strconv.FormatUint(r.Cost, 10))
	h.Set(headerEstimated, strconv.FormatBool(r.Estimated))
}

// chargedUsage is the one place a run's charged tokens are decided; the
// receipt holds them and the client is shown them (usage object, headers,
// trailers). u is the worker's report — or, where it reported none or an
// invalid one (negative counts), workers' fallback estimate, marked
// Estimated. Output tokens are clamped to what the request allowed:
// max_tokens per choice, every call of a mixture included. Prompt tokens
// are not clamped: chat templates, tools and images make the real count
// unknowable to the keeper.
func (g *Gateway) chargedUsage(ru *run, u workers.Usage, worker string) workers.Usage {
	if ru.req.ep == workers.Embeddings {
		u.CompletionTokens = 0
		return u
	}
	maxOut := uint64(ru.req.maxTokens) * uint64(max(ru.req.choices, 1))
	if len(ru.members) > 1 {
		maxOut *= uint64(len(ru.members))
	}
	if u.CompletionTokens > maxOut {
		g.log.Warn("worker reported more output tokens than the request allowed; charged at the limit",
			"worker", worker, "reported", u.CompletionTokens, "max", maxOut, "run_id", ru.id)
		g.metrics.UsageClamped.Inc()
		u.CompletionTokens = maxOut
	}
	return u
}

// usageObject is the OpenAI usage object of a recorded run.
func usageObject(r receipts.Receipt) map[string]uint64 {
	if r.Kind == receipts.KindEmbedding {
		return map[string]uint64{"prompt_tokens": r.InputTokens, "total_tokens": r.InputTokens}
	}
	return map[string]uint64{"prompt_tokens": r.InputTokens, "completion_tokens": r.OutputTokens, "total_tokens": r.InputTokens + r.OutputTokens}
}

// chargedBody is a worker's JSON body with its usage replaced by the
// recorded run's (and, for a mixture, its model by the requested name).
// The body parsed as an object before (workers.ParseResponse), so the
// fallback to the worker's bytes is unreachable in practice.
func chargedBody(b []byte, r receipts.Receipt, model string) []byte {
	if model == "" && showsCharge(b, r) {
		// The usual case, an honest worker: a decode into a small struct
		// costs a fifth of rewriting the body.
		return b
	}
	var body map[string]json.RawMessage
	if json.Unmarshal(b, &body) != nil {
		return b
	}
	body["usage"], _ = json.Marshal(usageObject(r))
	if model != "" {
		body["model"], _ = json.Marshal(model)
	}
	out, err := json.Marshal(body)
	if err != nil {
		return b
	}
	return out
}

// showsCharge reports whether a body's usage object already shows exactly
// the receipt's figures.
func showsCharge(b []byte, r receipts.Receipt) bool {
	var v struct {
		Usage *struct {
			Prompt     *uint64 `json:"prompt_tokens"`
			Completion *uint64 `json:"completion_tokens"`
			Total      *uint64 `json:"total_tokens"`
		} `json:"usage"`
	}
	if json.Unmarshal(b, &v) != nil || v.Usage == nil {
		return false
	}
	u := v.Usage
	is := func(p *uint64, want uint64) bool { return p != nil && *p == want }
	completion := is(u.Completion, r.OutputTokens)
	if r.Kind == receipts.KindEmbedding {
		completion = u.Completion == nil || *u.Completion == 0
	}
	return is(u.Prompt, r.InputTokens) && completion && is(u.Total, r.InputTokens+r.OutputTokens)
}

var usageKey = []byte(`"usage"`)

// withoutUsage returns a content chunk with any worker usage on it
// (Ollama's zeros, vLLM's running counts) set to null, as OpenAI sends
// content chunks: the only usage a client sees is the charged one, in the
// final chunk. Most chunks carry none and go out as received.
func withoutUsage(ev workers.Event) []byte {
	if !bytes.Contains(ev.Data, usageKey) {
		return ev.Raw
	}
	var chunk map[string]json.RawMessage
	if json.Unmarshal(ev.Data, &chunk) != nil {
		return ev.Raw
	}
	if u, ok := chunk["usage"]; !ok || string(u) == "null" {
		return ev.Raw
	}
	chunk["usage"] = json.RawMessage("null")
	b, err := json.Marshal(chunk)
	if err != nil {
		return ev.Raw
	}
	return sseEvent(b)
}

func sseEvent(data []byte) []byte {
	out := make([]byte, 0, len(data)+8)
	out = append(out, "data: "...)
	out = append(out, data...)
	return append(out, '\n', '\n')
}

// streamHead is what the final usage chunk copies from the stream's first
// chunk.
type streamHead struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created json.RawMessage `json:"created"`
	Model   string          `json:"model"`
	seen    bool
}

func (h *streamHead) observe(ev workers.Event) {
	if h.seen || len(ev.Data) == 0 {
		return
	}
	h.seen = json.Unmarshal(ev.Data, h) == nil
}

// usageChunk is the final stream chunk a client that asked for
// stream_options.include_usage gets: no choices, the charged usage.
func (h *streamHead) usageChunk(r receipts.Receipt, model string) []byte {
	if model == "" {
		model = h.Model
	}
	created := h.Created
	if len(created) == 0 {
		created = json.RawMessage("0")
	}
	b, _ := json.Marshal(map[string]any{"id": h.ID, "object": h.Object, "created": created, "model": model, "choices": []any{}, "usage": usageObject(r)})
	return sseEvent(b)
}

// streamProgress is how far a stream got to its client: what a run cut
// short by its client is charged for.
type streamProgress struct {
	// relayed: an event of the worker was written to the client.
	relayed bool
	// relayedOut is the fallback estimate of the completion text written
	// to the client.
	relayedOut uint64
	// final: the worker's own final usage arrived (its usage-only chunk),
	// so generation was over.
	final bool
}

// partialUsage is the usage of a stream whose client went away: the
// worker's own figures if its final usage arrived before, else the
// prompt estimate admission used plus the estimate of the completion text
// written to the client, marked Estimated. Per-chunk usage some workers
// send mid-stream is not used: servers differ in what it means (Ollama
// sends zeros, vLLM running totals).
func partialUsage(sc *workers.StreamScanner, p streamProgress, estPrompt int) workers.Usage {
	if p.final {
		if u := sc.Result().Usage; !u.Estimated {
			return u
		}
	}
	return workers.Usage{PromptTokens: uint64(max(estPrompt, 0)), CompletionTokens: p.relayedOut, Estimated: true}
}
