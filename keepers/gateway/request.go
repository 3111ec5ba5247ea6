package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

// genRequest is a parsed generation request. Unknown fields are kept and
// passed to the worker unchanged.
type genRequest struct {
	ep           workers.Endpoint
	fields       map[string]json.RawMessage
	model        string
	stream       bool
	includeUsage bool
	// maxTokens is the effective completion budget per choice (sent
	// upstream), n the number of choices.
	maxTokens int
	n         int
	// choices is n times the number of prompts (completions may batch).
	choices int
	// promptTexts are the prompt's text parts (chat message contents, the
	// completion prompt, the embedding inputs); promptTokens the estimate.
	promptTexts  []string
	promptTokens int
	// messages (chat only), kept for mixtures.
	messages []json.RawMessage
	// body is the request as received (a front door relays it unchanged).
	body []byte
}

func (g *Gateway) parseRequest(ep workers.Endpoint, body []byte) (*genRequest, *apiError) {
	req := &genRequest{ep: ep, n: 1}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req.fields); err != nil || req.fields == nil {
		return nil, errInvalid("", "We could not parse the JSON body of your request: expected a JSON object.")
	}
	if dec.More() {
		return nil, errInvalid("", "Trailing data after the JSON body.")
	}
	if err := unmarshalField(req.fields, "model", &req.model); err != nil || req.model == "" {
		return nil, errInvalid("model", "You must provide a model parameter (a string).")
	}
	if ep != workers.Embeddings {
		if err := unmarshalField(req.fields, "stream", &req.stream); err != nil {
			return nil, errInvalid("stream", "'stream' must be a boolean.")
		}
		if raw, ok := req.fields["stream_options"]; ok && string(raw) != "null" {
			var so struct {
				IncludeUsage *bool `json:"include_usage"`
			}
			if err := json.Unmarshal(raw, &so); err != nil {
				return nil, errInvalid("stream_options", "'stream_options' must be an object.")
			}
			req.includeUsage = so.IncludeUsage != nil && *so.IncludeUsage
		}
		var n *int
		if err := unmarshalField(req.fields, "n", &n); err != nil {
			return nil, errInvalid("n", "'n' must be an integer.")
		}
		if n != nil {
			if *n < 1 || *n > g.cfg.MaxN {
				return nil, errInvalid("n", fmt.Sprintf("'n' must be between 1 and %d.", g.cfg.MaxN))
			}
			req.n = *n
		}
		var mt, mct *int
		if err := unmarshalField(req.fields, "max_tokens", &mt); err != nil {
			return nil, errInvalid("max_tokens", "'max_tokens' must be an integer.")
		}
		if err := unmarshalField(req.fields, "max_completion_tokens", &mct); err != nil {
			return nil, errInvalid("max_completion_tokens", "'max_completion_tokens' must be an integer.")
		}
		req.maxTokens = g.cfg.DefaultMaxTokens
		for _, v := range []struct {
			p    *int
			name string
		}{{mt, "max_tokens"}, {mct, "max_completion_tokens"}} {
			if v.p == nil {
				continue
			}
			if *v.p < 1 || *v.p > g.cfg.MaxTokensLimit {
				return nil, errInvalid(v.name, fmt.Sprintf("'%s' must be between 1 and %d on this keeper.", v.name, g.cfg.MaxTokensLimit))
			}
			req.maxTokens = *v.p
		}
		if mt != nil && mct != nil {
			req.maxTokens = min(*mt, *mct)
		}
	}
	switch ep {
	case workers.ChatCompletions:
		if err := unmarshalField(req.fields, "messages", &req.messages); err != nil || len(req.messages) == 0 {
			return nil, errInvalid("messages", "'messages' must be a non-empty array.")
		}
		for i, m := range req.messages {
			var msg struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			}
			if err := json.Unmarshal(m, &msg); err != nil || msg.Role == "" {
				return nil, errInvalid(fmt.Sprintf("messages[%d]", i), "Each message must be an object with a 'role'.")
			}
			text, ok := contentText(msg.Content)
			if !ok {
				return nil, errInvalid(fmt.Sprintf("messages[%d].content", i), "Message content must be a string or an array of content parts.")
			}
			req.promptTexts = append(req.promptTexts, text)
		}
		req.promptTokens = workers.EstimateChatPrompt(req.promptTexts)
		req.choices = req.n
	case workers.Completions:
		texts, tokens, prompts, ok := inputTexts(req.fields["prompt"])
		if !ok || prompts == 0 {
			return nil, errInvalid("prompt", "'prompt' must be a string, an array of strings, or token arrays.")
		}
		if prompts > 64 {
			return nil, errInvalid("prompt", "At most 64 prompts per request.")
		}
		req.choices = req.n * prompts
		req.promptTexts = texts
		req.promptTokens = tokens
		for _, t := range texts {
			req.promptTokens += workers.EstimateTokens(t)
		}
	case workers.Embeddings:
		texts, tokens, prompts, ok := inputTexts(req.fields["input"])
		if !ok || prompts == 0 {
			return nil, errInvalid("input", "'input' must be a non-empty string, array of strings, or token arrays.")
		}
		if len(texts) > 2048 {
			return nil, errInvalid("input", "At most 2048 inputs per request.")
		}
		req.promptTexts = texts
		req.promptTokens = tokens
		for _, t := range texts {
			req.promptTokens += workers.EstimateTokens(t)
		}
	}
	return req, nil
}

func unmarshalField(fields map[string]json.RawMessage, name string, v any) error {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, v)
}

// contentText returns the text of a chat message content: a string, an
// array of parts (text parts counted, others ignored), or null.
func contentText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var parts []map[string]json.RawMessage
	if json.Unmarshal(raw, &parts) != nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		var t string
		if json.Unmarshal(p["text"], &t) == nil {
			b.WriteString(t)
		}
	}
	return b.String(), true
}

// inputTexts reads a prompt/input: a string, strings, a token array or
// token arrays (whose lengths are exact token counts), and how many
// prompts it holds.
func inputTexts(raw json.RawMessage) (texts []string, tokens, prompts int, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, 0, 0, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, 0, 1, true
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil {
		return ss, 0, len(ss), true
	}
	var toks []int64
	if json.Unmarshal(raw, &toks) == nil {
		return nil, len(toks), min(len(toks), 1), true
	}
	var many [][]int64
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			tokens += len(t)
		}
		return nil, tokens, len(many), true
	}
	return nil, 0, 0, false
}

// upstreamBody is the request for a worker: the client's fields with the
// worker's model name, the effective max_tokens, and include_usage asked
// for when streaming.
func (r *genRequest) upstreamBody(model string, extra map[string]json.RawMessage) []byte {
	out := make(map[string]json.RawMessage, len(r.fields)+3)
	for k, v := range r.fields {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	out["model"], _ = json.Marshal(model)
	if r.ep != workers.Embeddings {
		mt := json.RawMessage(strconv.Itoa(r.maxTokens))
		out["max_tokens"] = mt
		if _, ok := out["max_completion_tokens"]; ok {
			out["max_completion_tokens"] = mt
		}
		if isTrue(out["stream"]) {
			so := map[string]json.RawMessage{}
			if raw, ok := out["stream_options"]; ok {
				_ = json.Unmarshal(raw, &so)
			}
			so["include_usage"] = json.RawMessage("true")
			out["stream_options"], _ = json.Marshal(so)
		} else {
			delete(out, "stream_options")
		}
	}
	b, _ := json.Marshal(out)
	return b
}

func isTrue(raw json.RawMessage) bool { return string(raw) == "true" }

// worstCase is the highest cost the request can reach: the prompt estimate
// with the configured margin as input, every choice running to maxTokens
// as output.
func (g *Gateway) worstCase(shares []receipts.ModelShare, input, output int) (uint64, error) {
	in := uint64(input) + (uint64(input)*uint64(g.cfg.PromptMarginPct)+99)/100
	return Cost(shares, in, uint64(output))
}
