package workers

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Usage is what one run consumed.
type Usage struct {
	PromptTokens     uint64
	CompletionTokens uint64
	// Estimated is set when the worker reported no usage and the counts
	// come from EstimateTokens.
	Estimated bool
}

// ErrMalformed: a worker's body or stream chunk is not the JSON it should be.
var ErrMalformed = errors.New("malformed worker response")

// wireUsage is the OpenAI usage object (vLLM, llama.cpp, Ollama, OpenAI).
// Pointers tell "absent" from zero.
type wireUsage struct {
	PromptTokens     *int64 `json:"prompt_tokens"`
	CompletionTokens *int64 `json:"completion_tokens"`
	TotalTokens      *int64 `json:"total_tokens"`
}

// wireTimings is llama.cpp server's timings object.
type wireTimings struct {
	PromptN    *int64 `json:"prompt_n"`
	PredictedN *int64 `json:"predicted_n"`
	CacheN     *int64 `json:"cache_n"`
}

type wireToolCall struct {
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type wireMessage struct {
	Content          json.RawMessage `json:"content"`
	ReasoningContent string          `json:"reasoning_content"`
	Reasoning        string          `json:"reasoning"`
	ToolCalls        []wireToolCall  `json:"tool_calls"`
}

type wireChoice struct {
	Index        int          `json:"index"`
	Text         string       `json:"text"`
	Message      *wireMessage `json:"message"`
	Delta        *wireMessage `json:"delta"`
	FinishReason *string      `json:"finish_reason"`
}

type wireBody struct {
	Object  string          `json:"object"`
	Model   string          `json:"model"`
	Choices []wireChoice    `json:"choices"`
	Data    []any           `json:"data"`
	Usage   *wireUsage      `json:"usage"`
	Timings *wireTimings    `json:"timings"`
	Error   json.RawMessage `json:"error"`
}

// contentText returns a message content that is a string, or the text
// parts of an array content.
func contentText(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] == 'n' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		out := ""
		for _, p := range parts {
			out += p.Text
		}
		return out
	}
	return ""
}

func (m *wireMessage) text() string {
	if m == nil {
		return ""
	}
	t := contentText(m.Content) + m.ReasoningContent + m.Reasoning
	for _, tc := range m.ToolCalls {
		t += tc.Function.Name + tc.Function.Arguments
	}
	return t
}

func validCount(p *int64) (uint64, bool) {
	if p == nil || *p < 0 {
		return 0, false
	}
	return uint64(*p), true
}

// reported extracts usage from the usage object, else llama.cpp timings.
func reported(u *wireUsage, t *wireTimings) (Usage, bool) {
	if u != nil {
		p, okP := validCount(u.PromptTokens)
		c, okC := validCount(u.CompletionTokens)
		if okP && (okC || u.CompletionTokens == nil) {
			// Embeddings report prompt and total only.
			return Usage{PromptTokens: p, CompletionTokens: c}, true
		}
	}
	if t != nil {
		p, okP := validCount(t.PromptN)
		c, okC := validCount(t.PredictedN)
		if okP && okC {
			// llama.cpp's prompt_n counts only the tokens it evaluated;
			// cache_n are prompt tokens reused from the cache.
			cache, _ := validCount(t.CacheN)
			return Usage{PromptTokens: p + cache, CompletionTokens: c}, true
		}
	}
	return Usage{}, false
}

// Endpoint is an OpenAI API operation.
type Endpoint int

const (
	ChatCompletions Endpoint = iota
	Completions
	Embeddings
)

// Path is the endpoint's URL path under a worker's base URL.
func (e Endpoint) Path() string {
	switch e {
	case Completions:
		return "/v1/completions"
	case Embeddings:
		return "/v1/embeddings"
	}
	return "/v1/chat/completions"
}

// Result is what the keeper learned from a complete worker response.
type Result struct {
	Usage Usage
	// Text is the generated text (all choices), used for the estimate and
	// by mixtures to pass proposals to the aggregator.
	Text string
	// FinishReasons per choice index.
	FinishReasons map[int]string
}

// ParseResponse reads a complete non-streaming response body. estPrompt is
// the caller's prompt-token estimate, used when the worker reports no usage.
func ParseResponse(ep Endpoint, body []byte, estPrompt int) (Result, error) {
	var w wireBody
	if err := json.Unmarshal(body, &w); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(w.Error) > 0 && string(w.Error) != "null" {
		return Result{}, fmt.Errorf("%w: body carries an error object", ErrMalformed)
	}
	res := Result{FinishReasons: map[int]string{}}
	switch ep {
	case Embeddings:
		if len(w.Data) == 0 {
			return Result{}, fmt.Errorf("%w: embeddings without data", ErrMalformed)
		}
	default:
		if len(w.Choices) == 0 {
			return Result{}, fmt.Errorf("%w: no choices", ErrMalformed)
		}
		for _, c := range w.Choices {
			res.Text += c.Text + c.Message.text()
			if c.FinishReason != nil {
				res.FinishReasons[c.Index] = *c.FinishReason
			}
		}
	}
	if u, ok := reported(w.Usage, w.Timings); ok {
		if ep == Embeddings {
			u.CompletionTokens = 0
		}
		res.Usage = u
		return res, nil
	}
	res.Usage = Usage{PromptTokens: uint64(max(estPrompt, 0)), CompletionTokens: uint64(EstimateTokens(res.Text)), Estimated: true}
	if ep == Embeddings {
		res.Usage.CompletionTokens = 0
	}
	return res, nil
}

// StreamScanner follows a streaming response event by event.
type StreamScanner struct {
	estPrompt   int
	usage       *Usage
	estimated   uint64
	text        []byte
	keepText    int
	done        bool
	choices     map[int]bool
	finished    map[int]string
	chunks      int
	usageOnly   bool
	lastErrBody bool
}

// NewStreamScanner starts scanning a stream; estPrompt is the prompt-token
// estimate used if the worker reports no usage, keepText how many bytes of
// generated text to keep for Result.Text (0 keeps none).
func NewStreamScanner(estPrompt, keepText int) *StreamScanner {
	return &StreamScanner{estPrompt: estPrompt, keepText: keepText, choices: map[int]bool{}, finished: map[int]string{}}
}

// Observe inspects one event. It reports whether the event is a usage-only
// chunk (no choices, a usage object): the gateway drops those when its
// client did not ask for usage. An event whose JSON is malformed, or that
// carries an error object, fails the stream.
func (s *StreamScanner) Observe(ev Event) (usageOnly bool, err error) {
	if ev.Done {
		s.done = true
		return false, nil
	}
	if len(ev.Data) == 0 {
		return false, nil // comment or keep-alive
	}
	var w wireBody
	if err := json.Unmarshal(ev.Data, &w); err != nil {
		return false, fmt.Errorf("%w: stream chunk: %v", ErrMalformed, err)
	}
	if len(w.Error) > 0 && string(w.Error) != "null" {
		return false, fmt.Errorf("%w: worker sent an error mid-stream: %.200s", ErrMalformed, w.Error)
	}
	s.chunks++
	for _, c := range w.Choices {
		s.choices[c.Index] = true
		t := c.Text + c.Delta.text() + c.Message.text()
		if t != "" {
			s.estimated += uint64(EstimateTokens(t))
			if room := s.keepText - len(s.text); room > 0 {
				s.text = append(s.text, t[:min(room, len(t))]...)
			}
		}
		if c.FinishReason != nil && *c.FinishReason != "" {
			s.finished[c.Index] = *c.FinishReason
		}
	}
	if u, ok := reported(w.Usage, w.Timings); ok {
		// Ollama puts zero usage on every completion chunk and the real
		// one at the end; the last report wins.
		s.usage = &u
	}
	return len(w.Choices) == 0 && w.Usage != nil, nil
}

// Complete reports whether the stream ended properly: [DONE] was seen
// after at least one chunk, or every choice that appeared has a finish
// reason.
func (s *StreamScanner) Complete() bool {
	if s.done {
		// [DONE] alone, with no chunk before it, is not an answer.
		return s.chunks > 0
	}
	if len(s.choices) == 0 {
		return false
	}
	for i := range s.choices {
		if _, ok := s.finished[i]; !ok {
			return false
		}
	}
	return true
}

// EstimatedCompletion is the fallback tokenizer's count of the text
// generated so far, whatever usage the worker reported: what a run cut
// short is charged for when its worker's final usage never came.
func (s *StreamScanner) EstimatedCompletion() uint64 { return s.estimated }

// SawDone reports whether the worker sent [DONE].
func (s *StreamScanner) SawDone() bool { return s.done }

// Result is the stream's outcome so far.
func (s *StreamScanner) Result() Result {
	r := Result{Text: string(s.text), FinishReasons: s.finished}
	if s.usage != nil {
		r.Usage = *s.usage
		return r
	}
	r.Usage = Usage{PromptTokens: uint64(max(s.estPrompt, 0)), CompletionTokens: s.estimated, Estimated: true}
	return r
}
