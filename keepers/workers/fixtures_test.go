package workers

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseResponseFixtures(t *testing.T) {
	cases := []struct {
		file       string
		ep         Endpoint
		prompt     uint64
		completion uint64
		estimated  bool
		wantErr    error
		text       string
	}{
		{file: "vllm/chat.json", ep: ChatCompletions, prompt: 31, completion: 8, text: "Model Commons lets communities own small models."},
		{file: "vllm/completions.json", ep: Completions, prompt: 4, completion: 5, text: " is a ledger, and"},
		{file: "vllm/embeddings.json", ep: Embeddings, prompt: 12, completion: 0},
		{file: "llamacpp/chat.json", ep: ChatCompletions, prompt: 27, completion: 9},
		// No usage object: llama.cpp timings (prompt_n + cache_n, predicted_n).
		{file: "llamacpp/completions_timings_only.json", ep: Completions, prompt: 7, completion: 4},
		{file: "ollama/chat.json", ep: ChatCompletions, prompt: 30, completion: 10},
		{file: "ollama/embeddings.json", ep: Embeddings, prompt: 8, completion: 0},
		// Nothing reported: the estimate (prompt from the caller, completion
		// from the text) and the estimated flag.
		{file: "hostile/no_usage.json", ep: ChatCompletions, prompt: 50, completion: 7, estimated: true},
		{file: "hostile/negative_usage.json", ep: ChatCompletions, prompt: 50, completion: 1, estimated: true},
		{file: "hostile/malformed.json", ep: ChatCompletions, wantErr: ErrMalformed},
		{file: "vllm/error_400.json", ep: ChatCompletions, wantErr: ErrMalformed},
		{file: "vllm/chat.json", ep: Embeddings, wantErr: ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res, err := ParseResponse(c.ep, fixture(t, c.file), 50)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("want %v, got %v", c.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u := res.Usage
			if u.PromptTokens != c.prompt || u.CompletionTokens != c.completion || u.Estimated != c.estimated {
				t.Fatalf("usage %+v, want prompt %d completion %d estimated %v", u, c.prompt, c.completion, c.estimated)
			}
			if c.text != "" && res.Text != c.text {
				t.Fatalf("text %q", res.Text)
			}
		})
	}
}

// scan runs a stream through the reader and scanner as the gateway does.
func scan(body io.Reader, maxEvent int) (*StreamScanner, int, int, error) {
	r := NewSSEReader(body, maxEvent)
	sc := NewStreamScanner(50, 1<<10)
	events, usageOnly := 0, 0
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return sc, events, usageOnly, nil
		}
		if err != nil {
			return sc, events, usageOnly, err
		}
		events++
		u, err := sc.Observe(ev)
		if err != nil {
			return sc, events, usageOnly, err
		}
		if u {
			usageOnly++
		}
	}
}

func TestStreamFixtures(t *testing.T) {
	cases := []struct {
		file                string
		prompt, completion  uint64
		estimated, complete bool
		usageOnlyChunks     int
		wantErr             error
		textPrefix          string
	}{
		{file: "vllm/chat_stream.sse", prompt: 31, completion: 8, complete: true, usageOnlyChunks: 1, textPrefix: "Model Commons lets"},
		{file: "vllm/completions_stream.sse", prompt: 4, completion: 5, complete: true, usageOnlyChunks: 1, textPrefix: " is a ledger"},
		{file: "llamacpp/chat_stream.sse", prompt: 27, completion: 6, complete: true, usageOnlyChunks: 1, textPrefix: "Hello! How"},
		{file: "llamacpp/chat_stream_legacy.sse", prompt: 27, completion: 6, complete: true, usageOnlyChunks: 0},
		{file: "ollama/chat_stream.sse", prompt: 30, completion: 10, complete: true, usageOnlyChunks: 1, textPrefix: "The sky is blue"},
		// Zero usage on every chunk, the real count last: the last one wins.
		{file: "ollama/completions_stream.sse", prompt: 6, completion: 4, complete: true, usageOnlyChunks: 1},
		{file: "ollama/chat_stream_no_usage.sse", prompt: 50, completion: 12, estimated: true, complete: true},
		{file: "hostile/no_usage_stream.sse", prompt: 50, completion: 10, estimated: true, complete: true},
		{file: "hostile/no_done_no_finish.sse", prompt: 50, completion: 4, estimated: true, complete: false},
		{file: "hostile/truncated_mid_event.sse", wantErr: ErrTruncated},
		{file: "hostile/malformed_chunk.sse", wantErr: ErrMalformed},
		{file: "hostile/error_mid_stream.sse", wantErr: ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			sc, _, usageOnly, err := scan(bytes.NewReader(fixture(t, c.file)), 0)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("want %v, got %v", c.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			u := sc.Result().Usage
			if u.PromptTokens != c.prompt || u.CompletionTokens != c.completion || u.Estimated != c.estimated {
				t.Fatalf("usage %+v, want %d/%d estimated=%v", u, c.prompt, c.completion, c.estimated)
			}
			if sc.Complete() != c.complete {
				t.Fatalf("complete=%v, want %v", sc.Complete(), c.complete)
			}
			if usageOnly != c.usageOnlyChunks {
				t.Fatalf("%d usage-only chunks, want %d", usageOnly, c.usageOnlyChunks)
			}
			if !strings.HasPrefix(sc.Result().Text, c.textPrefix) {
				t.Fatalf("text %q", sc.Result().Text)
			}
		})
	}
}

// Relaying Raw event by event reproduces the worker's stream byte for byte.
// relay passes a stream through the reader event by event, as the
// gateway relays it, and returns what it wrote.
func relay(t *testing.T, in []byte) []byte {
	t.Helper()
	r := NewSSEReader(bytes.NewReader(in), 0)
	var out bytes.Buffer
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		out.Write(ev.Raw)
	}
}

func TestSSEReaderRawIsExact(t *testing.T) {
	for _, f := range []string{"vllm/chat_stream.sse", "llamacpp/chat_stream.sse", "ollama/completions_stream.sse"} {
		in := fixture(t, f)
		if !bytes.Equal(relay(t, in), in) {
			t.Fatalf("%s: relayed bytes differ", f)
		}
	}
}

func TestSSEReaderEdgeCases(t *testing.T) {
	t.Run("crlf, comments, multi-line data, other fields", func(t *testing.T) {
		in := ": keep-alive\r\n\r\nevent: message\r\nid: 7\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n\r\ndata:[DONE]\r\n\r\n"
		r := NewSSEReader(strings.NewReader(in), 0)
		ev, err := r.Next()
		if err != nil || len(ev.Data) != 0 {
			t.Fatalf("comment event: %q %v", ev.Data, err)
		}
		ev, err = r.Next()
		if err != nil || string(ev.Data) != "{\"a\":\n1}" {
			t.Fatalf("data %q %v", ev.Data, err)
		}
		ev, err = r.Next()
		if err != nil || !ev.Done {
			t.Fatalf("done %+v %v", ev, err)
		}
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("eof: %v", err)
		}
	})
	t.Run("event over the bound", func(t *testing.T) {
		in := "data: {\"choices\":[{\"delta\":{\"content\":\"" + strings.Repeat("A", 2<<20) + "\"}}]}\n\n"
		r := NewSSEReader(strings.NewReader(in), 64<<10)
		if _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
			t.Fatalf("want ErrEventTooLarge, got %v", err)
		}
	})
	t.Run("last line without newline", func(t *testing.T) {
		r := NewSSEReader(strings.NewReader("data: {}\n\ndata: {\"x\""), 0)
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); !errors.Is(err, ErrTruncated) {
			t.Fatalf("want ErrTruncated, got %v", err)
		}
	})
	t.Run("event without its blank line", func(t *testing.T) {
		r := NewSSEReader(strings.NewReader("data: {}\n"), 0)
		if _, err := r.Next(); !errors.Is(err, ErrTruncated) {
			t.Fatalf("want ErrTruncated, got %v", err)
		}
	})
}

func TestEstimateTokens(t *testing.T) {
	cases := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello", 1},       // 5 letters: ceil(5/6)
		{" the", 1},        // leading space joins the word
		{"the cat sat", 3}, // three words
		{"internationalization", 4},
		{"12345", 2},      // digits in threes
		{"a, b.", 4},      // a , b .
		{"line\nnext", 3}, // newline counts
		{"é", 2},          // two UTF-8 bytes
		{"日本", 4},         // three bytes each, capped at 2
		{"   ", 0},
	}
	for _, c := range cases {
		if got := EstimateTokens(c.text); got != c.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", c.text, got, c.want)
		}
	}
	if got := EstimateChatPrompt([]string{"You are helpful.", "Hi"}); got != 3+3+EstimateTokens("You are helpful.")+3+1 {
		t.Errorf("chat prompt estimate %d", got)
	}
}
