package gateway

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

// repoRoot finds the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// TestOpenAIPythonClient runs testdata/openai_client.py, the official
// OpenAI Python package as a real client, against a gateway in front of
// simulated workers. The package lives in .venv (scripts/setup.sh). In CI
// a missing venv fails the test.
func TestOpenAIPythonClient(t *testing.T) {
	root := repoRoot(t)
	py := filepath.Join(root, ".venv", "bin", "python")
	if _, err := os.Stat(py); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing: scripts/setup.sh creates it (the openai client test cannot run)", py)
		}
		t.Skipf("%s missing: run ./scripts/setup.sh", py)
	}
	h := newHarness(t, harnessOpts{
		workers: map[string]workersim.Config{
			"gpu-a":     {Models: []string{"model-a", "model-b"}},
			"gpu-dead":  {Models: []string{"model-down"}},
			"gpu-dying": {Models: []string{"model-dying"}, Faults: workersim.Faults{DieRate: 1}, MinTokens: 30, MaxTokens: 30},
		},
		models: map[string][]string{"gpu-a": {"model-a", "model-b"}, "gpu-dead": {"model-down"}, "gpu-dying": {"model-dying"}},
		mutate: func(c *Config) {
			c.Models = append(c.Models, ModelConfig{Name: "model-down", ID: 4}, ModelConfig{Name: "model-dying", ID: 5})
			c.Prices = StaticPrices{1: testPrices[1], 2: testPrices[2], 4: {InputPer1k: 1, OutputPer1k: 1}, 5: {InputPer1k: 1, OutputPer1k: 1}}
		},
	})
	// gpu-dead goes down (stops[1]: workers are started in name order).
	h.stops[1]()
	h.pool.CheckNow(context.Background())
	h.pool.CheckNow(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join(root, "keepers", "gateway", "testdata", "openai_client.py"))
	cmd.Env = append(os.Environ(),
		"GATEWAY_URL="+h.srv.URL, "KEY_RICH="+keyRich, "KEY_POOR="+keyPoor, "MODEL=model-a",
		"MODEL_MIX=mix:model-a@7000+model-b@3000", "MODEL_DOWN=model-down", "MODEL_DYING=model-dying",
		"OPENAI_LOG=", "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openai client failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var summary struct {
		OpenAI  string         `json:"openai"`
		Results map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatalf("no summary: %s", out)
	}
	if len(summary.Results) < 15 {
		t.Fatalf("only %d checks ran: %s", len(summary.Results), out)
	}
	t.Logf("openai %s: %d checks passed", summary.OpenAI, len(summary.Results))

	// The mixture's receipts split its tokens 7000/3000 between models 1 and 2,
	// and carry the usage the client saw.
	mix := 0
	for _, e := range h.receiptsOf(keyRich) {
		r := e.Signed.Receipt
		if len(r.Models) == 2 {
			mix++
			if r.Models[0].ModelID != 1 || r.Models[0].WeightBps != 7000 || r.Models[1].ModelID != 2 || r.Models[1].WeightBps != 3000 {
				t.Fatalf("mixture shares %+v", r.Models)
			}
			want, _ := Cost(r.Models, r.InputTokens, r.OutputTokens)
			if r.Cost != want {
				t.Fatalf("mixture cost %d, want %d", r.Cost, want)
			}
		}
		if r.Models[0].ModelID == 5 || r.Models[0].ModelID == 4 {
			t.Fatalf("a failed run was journaled: %+v", r)
		}
	}
	u := summary.Results["mixture_usage"].(map[string]any)
	found := false
	for _, e := range h.receiptsOf(keyRich) {
		r := e.Signed.Receipt
		if len(r.Models) == 2 && float64(r.InputTokens) == u["prompt_tokens"] && float64(r.OutputTokens) == u["completion_tokens"] {
			found = true
		}
	}
	if mix != 2 || !found {
		t.Fatalf("%d mixture receipts; one matching the client's usage %v: %v", mix, u, found)
	}
	if n := len(h.receiptsOf(keyPoor)); n != 0 {
		t.Fatalf("%d receipts for the refused key", n)
	}
}
