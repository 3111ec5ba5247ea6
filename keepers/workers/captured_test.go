package workers

// Tests over REAL server responses recorded by tools/fixturecap/record.sh
// (testdata/*/captured/, see testdata/README.md and each directory's
// VERSION file). Every file goes through the same adapter paths as the
// reconstructed fixtures (ParseResponse for bodies; SSEReader +
// StreamScanner via scan for streams). The expected numbers are hard-coded
// from the captures, and cross-checked against the files' own usage /
// timings objects decoded here independently of the adapter's wire types,
// so a wrong adapter and a wrong table both fail.

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// decodeAny decodes one JSON value with numbers kept as json.Number.
func decodeAny(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %.80q: %v", b, err)
	}
	return m
}

// num reads an integer field of obj; ok is false when it is absent or null.
func num(t *testing.T, obj map[string]any, key string) (int64, bool) {
	t.Helper()
	v, present := obj[key]
	if !present || v == nil {
		return 0, false
	}
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%s: %T, not a number", key, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return i, true
}

// fileCounts is what a body or event reports, read straight from its JSON.
type fileCounts struct {
	hasUsage, hasTimings         bool
	usagePrompt, usageCompletion int64 // usage.prompt_tokens, usage.completion_tokens
	usageTotal                   int64
	timingsPrompt, timingsCache  int64 // timings.prompt_n, timings.cache_n
	timingsPredicted             int64 // timings.predicted_n
}

func countsOf(t *testing.T, m map[string]any) fileCounts {
	t.Helper()
	var c fileCounts
	if u, ok := m["usage"].(map[string]any); ok {
		c.hasUsage = true
		c.usagePrompt, _ = num(t, u, "prompt_tokens")
		c.usageCompletion, _ = num(t, u, "completion_tokens")
		c.usageTotal, _ = num(t, u, "total_tokens")
	}
	if tm, ok := m["timings"].(map[string]any); ok {
		c.hasTimings = true
		c.timingsPrompt, _ = num(t, tm, "prompt_n")
		c.timingsCache, _ = num(t, tm, "cache_n")
		c.timingsPredicted, _ = num(t, tm, "predicted_n")
	}
	return c
}

// contentOf concatenates choices[].message.content, .delta.content and .text.
func contentOf(m map[string]any) string {
	out := ""
	choices, _ := m["choices"].([]any)
	for _, ch := range choices {
		c, _ := ch.(map[string]any)
		if s, ok := c["text"].(string); ok {
			out += s
		}
		for _, k := range []string{"message", "delta"} {
			if msg, ok := c[k].(map[string]any); ok {
				if s, ok := msg["content"].(string); ok {
					out += s
				}
			}
		}
	}
	return out
}

func TestCapturedBodies(t *testing.T) {
	cases := []struct {
		file               string
		ep                 Endpoint
		prompt, completion uint64
	}{
		// llama.cpp: usage and timings on every body (timings add up:
		// prompt_n + cache_n = prompt_tokens, predicted_n = completion_tokens).
		{file: "llamacpp/captured/chat.json", ep: ChatCompletions, prompt: 19, completion: 8},
		{file: "llamacpp/captured/completions.json", ep: Completions, prompt: 19, completion: 8},
		{file: "llamacpp/captured/embeddings.json", ep: Embeddings, prompt: 19, completion: 0},
		// Ollama: usage only. /v1/completions runs the prompt through the
		// model's template, hence 22 prompt tokens for the 19-token text.
		{file: "ollama/captured/chat.json", ep: ChatCompletions, prompt: 19, completion: 8},
		{file: "ollama/captured/completions.json", ep: Completions, prompt: 22, completion: 8},
		{file: "ollama/captured/embeddings.json", ep: Embeddings, prompt: 19, completion: 0},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			body := fixture(t, c.file)
			res, err := ParseResponse(c.ep, body, 1000)
			if err != nil {
				t.Fatal(err)
			}
			want := Usage{PromptTokens: c.prompt, CompletionTokens: c.completion}
			if res.Usage != want {
				t.Fatalf("adapter usage %+v, want %+v", res.Usage, want)
			}
			// Cross-check against the body's own usage object.
			m := decodeAny(t, body)
			fc := countsOf(t, m)
			if !fc.hasUsage {
				t.Fatal("capture has no usage object")
			}
			if uint64(fc.usagePrompt) != c.prompt || fc.usageTotal != fc.usagePrompt+fc.usageCompletion {
				t.Fatalf("file usage %+v disagrees with the table", fc)
			}
			if c.ep != Embeddings && uint64(fc.usageCompletion) != c.completion {
				t.Fatalf("file completion_tokens %d, table %d", fc.usageCompletion, c.completion)
			}
			if c.ep != Embeddings {
				if got := contentOf(m); res.Text != got {
					t.Fatalf("adapter text %q, body content %q", res.Text, got)
				}
				if len(res.FinishReasons) == 0 {
					t.Fatal("no finish reason")
				}
			}
			if !fc.hasTimings {
				return
			}
			// llama.cpp's timings count the same tokens (prompt_n evaluated
			// + cache_n reused, predicted_n) ...
			if fc.timingsPrompt+fc.timingsCache != fc.usagePrompt || fc.timingsPredicted != fc.usageCompletion {
				t.Fatalf("timings %+v disagree with usage", fc)
			}
			// ... and the adapter's timings fallback reads them: the same
			// body without its usage object gives the same usage.
			delete(m, "usage")
			noUsage, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			res, err = ParseResponse(c.ep, noUsage, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if res.Usage != want {
				t.Fatalf("timings fallback %+v, want %+v", res.Usage, want)
			}
		})
	}
}

// sseEvents splits a captured stream on blank lines and returns the JSON
// payloads of its data events (not [DONE]) and whether [DONE] ended it,
// without the adapter's SSEReader.
func sseEvents(t *testing.T, body []byte) (events []map[string]any, done bool) {
	t.Helper()
	s := strings.ReplaceAll(string(body), "\r\n", "\n")
	if !strings.HasSuffix(s, "\n\n") {
		t.Fatalf("stream does not end with a blank line: %q", s[max(0, len(s)-40):])
	}
	for _, ev := range strings.Split(strings.TrimSuffix(s, "\n\n"), "\n\n") {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("unexpected event shape %q", ev)
		}
		if done {
			t.Fatalf("event after [DONE]: %q", ev)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		events = append(events, decodeAny(t, []byte(data)))
	}
	return events, done
}

func TestCapturedStreams(t *testing.T) {
	cases := []struct {
		file               string
		prompt, completion uint64
		// source of the adapter's numbers in the file: "usage" (the last
		// usage object), "timings" (llama.cpp's timings on the last chunk,
		// no usage object) or "" (nothing reported: estimated).
		source          string
		usageOnlyChunks int
	}{
		// llama.cpp chat: a usage-only chunk (choices: []) with timings
		// when include_usage is set ...
		{file: "llamacpp/captured/chat_stream_usage.sse", prompt: 19, completion: 8, source: "usage", usageOnlyChunks: 1},
		// ... and without it no usage object at all, but timings on the
		// finish chunk (prompt_n 1 + cache_n 18): the timings fallback
		// gives real numbers, not an estimate.
		{file: "llamacpp/captured/chat_stream.sse", prompt: 19, completion: 8, source: "timings"},
		// llama.cpp /v1/completions puts usage (and timings) on the finish
		// chunk whether or not include_usage is set; no usage-only chunk.
		{file: "llamacpp/captured/completions_stream_usage.sse", prompt: 19, completion: 8, source: "usage"},
		{file: "llamacpp/captured/completions_stream.sse", prompt: 19, completion: 8, source: "usage"},
		// Ollama: a usage-only chunk with include_usage (completions: zero
		// usage on every chunk before it, the last one wins) ...
		{file: "ollama/captured/chat_stream_usage.sse", prompt: 19, completion: 8, source: "usage", usageOnlyChunks: 1},
		{file: "ollama/captured/completions_stream_usage.sse", prompt: 22, completion: 8, source: "usage", usageOnlyChunks: 1},
		// ... and nothing without it: the estimate (scan's prompt estimate
		// 50, EstimateTokens per chunk text).
		{file: "ollama/captured/chat_stream.sse", prompt: 50, completion: 8},
		{file: "ollama/captured/completions_stream.sse", prompt: 50, completion: 8},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			body := fixture(t, c.file)
			sc, _, usageOnly, err := scan(bytes.NewReader(body), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !sc.Complete() || !sc.SawDone() {
				t.Fatalf("complete=%v done=%v", sc.Complete(), sc.SawDone())
			}
			if usageOnly != c.usageOnlyChunks {
				t.Fatalf("%d usage-only chunks, want %d", usageOnly, c.usageOnlyChunks)
			}
			res := sc.Result()
			want := Usage{PromptTokens: c.prompt, CompletionTokens: c.completion, Estimated: c.source == ""}
			if res.Usage != want {
				t.Fatalf("adapter usage %+v, want %+v", res.Usage, want)
			}

			// Independent reading of the same file.
			events, done := sseEvents(t, body)
			if !done || len(events) == 0 {
				t.Fatalf("%d events, [DONE]=%v", len(events), done)
			}
			text := ""
			var lastUsage, lastTimings *fileCounts
			fileUsageOnly := 0
			finished := false
			for _, ev := range events {
				text += contentOf(ev)
				fc := countsOf(t, ev)
				if fc.hasUsage {
					lastUsage = &fc
					if ch, _ := ev["choices"].([]any); len(ch) == 0 {
						fileUsageOnly++
					}
				}
				if fc.hasTimings {
					lastTimings = &fc
				}
				choices, _ := ev["choices"].([]any)
				for _, ch := range choices {
					if fr, _ := ch.(map[string]any)["finish_reason"].(string); fr != "" {
						finished = true
					}
				}
			}
			if !finished {
				t.Fatal("no finish_reason in the stream")
			}
			if fileUsageOnly != c.usageOnlyChunks {
				t.Fatalf("file has %d usage-only chunks, table %d", fileUsageOnly, c.usageOnlyChunks)
			}
			if res.Text != text {
				t.Fatalf("adapter text %q, stream content %q", res.Text, text)
			}
			switch c.source {
			case "usage":
				if lastUsage == nil {
					t.Fatal("no usage object in the stream")
				}
				if uint64(lastUsage.usagePrompt) != c.prompt || uint64(lastUsage.usageCompletion) != c.completion ||
					lastUsage.usageTotal != lastUsage.usagePrompt+lastUsage.usageCompletion {
					t.Fatalf("file usage %+v disagrees with the table", *lastUsage)
				}
				if lastTimings != nil && (lastTimings.timingsPrompt+lastTimings.timingsCache != lastUsage.usagePrompt ||
					lastTimings.timingsPredicted != lastUsage.usageCompletion) {
					t.Fatalf("timings %+v disagree with usage %+v", *lastTimings, *lastUsage)
				}
			case "timings":
				if lastUsage != nil || lastTimings == nil {
					t.Fatalf("want timings only: usage %v timings %v", lastUsage, lastTimings)
				}
				if uint64(lastTimings.timingsPrompt+lastTimings.timingsCache) != c.prompt ||
					uint64(lastTimings.timingsPredicted) != c.completion {
					t.Fatalf("file timings %+v disagree with the table", *lastTimings)
				}
			case "":
				if lastUsage != nil || lastTimings != nil {
					t.Fatal("stream reports usage but the table expects an estimate")
				}
				// The estimate: the caller's prompt estimate (scan passes
				// 50) and EstimateTokens over each chunk's text.
				var est uint64
				for _, ev := range events {
					if s := contentOf(ev); s != "" {
						est += uint64(EstimateTokens(s))
					}
				}
				if c.prompt != 50 || est != c.completion {
					t.Fatalf("estimate from the file %d, table %d/%d", est, c.prompt, c.completion)
				}
			default:
				t.Fatalf("bad source %q", c.source)
			}

			// Relaying Raw event by event reproduces the capture exactly.
			if !bytes.Equal(relay(t, body), body) {
				t.Fatal("relayed bytes differ")
			}
		})
	}
}

// Error bodies the servers really send fail the parse as ErrMalformed.
func TestCapturedErrors(t *testing.T) {
	for _, f := range []string{
		"llamacpp/captured/error_400.json",
		"ollama/captured/error_400.json",
	} {
		t.Run(f, func(t *testing.T) {
			body := fixture(t, f)
			if _, ok := decodeAny(t, body)["error"].(map[string]any); !ok {
				t.Fatalf("no error object in %q", body)
			}
			if _, err := ParseResponse(ChatCompletions, body, 50); !errors.Is(err, ErrMalformed) {
				t.Fatalf("want ErrMalformed, got %v", err)
			}
		})
	}
}

// llama.cpp's /health once the model is loaded (while it loads: 503,
// llamacpp/captured/health_loading.json, which TestLlamaCppLoadingIsNotReady
// feeds the pool).
func TestCapturedHealth(t *testing.T) {
	if m := decodeAny(t, fixture(t, "llamacpp/captured/health.json")); m["status"] != "ok" {
		t.Fatalf("health %v", m)
	}
}
