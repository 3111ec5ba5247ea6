package driver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Request is one chat request the API user sends.
type Request struct {
	Name      string `json:"name"`
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	MaxTokens int    `json:"max_tokens"`
	Prompt    string `json:"prompt"`
}

// Usage is the token usage the client saw.
type Usage struct {
	PromptTokens     uint64 `json:"prompt_tokens"`
	CompletionTokens uint64 `json:"completion_tokens"`
}

// Result is what the OpenAI client reported for one request.
type Result struct {
	Name      string `json:"name"`
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	OK        bool   `json:"ok"`
	Status    int    `json:"status"`
	RunID     string `json:"run_id"`
	Usage     *Usage `json:"usage"`
	Chunks    int    `json:"chunks"`
	TextChars int    `json:"text_chars"`
	Answer    string `json:"answer"`
	ErrorCode string `json:"error_code"`
	Error     string `json:"error"`
}

// OpenAIClient runs demo/openai_user.py — the official openai package —
// against keeperURL with apiKey and returns one result per request.
func OpenAIClient(ctx context.Context, bins Bins, keeperURL, apiKey string, reqs []Request) ([]Result, string, error) {
	plan, err := json.Marshal(reqs)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.Python, filepath.Join(bins.Root, "demo", "openai_user.py"))
	cmd.Env = append(os.Environ(), "KEEPER_URL="+keeperURL, "API_KEY="+apiKey, "OPENAI_LOG=",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost", "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stdin = bytes.NewReader(plan)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("openai client: %w", ctx.Err())
		}
		return nil, "", fmt.Errorf("openai client: %v\n%s%s", err, out, stderr.String())
	}
	var results []Result
	version := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var tail struct {
			OpenAI string `json:"openai"`
		}
		if json.Unmarshal([]byte(line), &tail) == nil && tail.OpenAI != "" {
			version = tail.OpenAI
			continue
		}
		var r Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, "", fmt.Errorf("openai client printed %q: %w", line, err)
		}
		results = append(results, r)
	}
	if len(results) != len(reqs) || version == "" {
		return results, version, fmt.Errorf("openai client answered %d of %d requests:\n%s%s", len(results), len(reqs), out, stderr.String())
	}
	return results, version, nil
}
