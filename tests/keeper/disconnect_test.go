package keeper_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/keepers/workers"
	"github.com/modelcommons/modelcommons/tests/keeper"
)

// The disconnect policy through the real keeper binary: a client that
// reads k of 16 streamed tokens and hangs up is charged the prompt and
// those k tokens on a receipt marked partial, which `keeper receipts --run`
// shows to the user and to the operator; settlement debits the escrow
// exactly that receipt's cost, to the base unit.
func TestClientLeavesMidStreamPaysThePartialReceipt(t *testing.T) {
	const k = 5
	// A slow worker, so the client's hang-up comes long before the end.
	lw := newLaneWorld(t, "--per-token", "100ms", "--min-tokens", "16", "--max-tokens", "16")
	ctx, w, dir, keeperBin := lw.ctx, lw.w, lw.dir, lw.bin
	key := keeper.NewAPIKey()
	escrow, err := w.OpenEscrow(ctx, key, 10*native, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := lw.config(t, "k", w.Node.Keeper, w.NodeAddr, filepath.Join(dir, "journal.db"), "300ms")
	logPath := filepath.Join(dir, "keeper.log")
	kr := startKeeper(t, keeperBin, cfg, logPath)
	defer kr.p.stop()

	runID := readThenHangUp(t, kr.api, key, k)
	prompt := uint64(workers.EstimateChatPrompt([]string{"count to twenty"}))
	wantCost := prompt + 2*k // 1 and 2 base units per input and output token

	// The user finds the run by its X-Run-Id at the gateway; the operator
	// by escrow and run id at the running keeper.
	type page struct {
		Data []struct {
			RunID   string `json:"run_id"`
			State   string `json:"state"`
			Receipt struct {
				InputTokens  uint64 `json:"input_tokens"`
				OutputTokens uint64 `json:"output_tokens"`
				Cost         uint64 `json:"cost"`
				Partial      bool   `json:"partial"`
				Estimated    bool   `json:"estimated"`
			} `json:"receipt"`
		} `json:"data"`
	}
	lookups := map[string][]string{
		"user":     {"receipts", "--gateway", "http://" + kr.api, "--run", runID, "--output", "json"},
		"operator": {"receipts", "--config", cfg, "--admin", kr.admin, "--escrow", escrow.String(), "--run", runID, "--output", "json"},
	}
	for who, args := range lookups {
		var p page
		deadline := time.Now().Add(10 * time.Second)
		for {
			cmd := osexec.CommandContext(ctx, keeperBin, args...)
			cmd.Env = append(os.Environ(), "MC_API_KEY="+key)
			out, err := cmd.Output()
			if err == nil && json.Unmarshal(out, &p) == nil && len(p.Data) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: keeper receipts --run %s: %v %s", who, runID, err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
		r := p.Data[0].Receipt
		if p.Data[0].RunID != runID || !r.Partial || !r.Estimated || r.InputTokens != prompt || r.OutputTokens != k || r.Cost != wantCost {
			t.Fatalf("%s sees receipt %+v; want partial, %d in, %d out, cost %d", who, p.Data[0], prompt, k, wantCost)
		}
	}
	// A run id the keeper never served: one clear error, non-zero exit.
	out, err := osexec.CommandContext(ctx, keeperBin, "receipts", "--config", cfg, "--admin", kr.admin, "--escrow", escrow.String(),
		"--run", "00000000000000000000000000000001").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no receipt for run") || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Fatalf("lookup of an unknown run: %v\n%s", err, out)
	}

	settled(t, kr, logPath)
	checkLane(t, lw, escrow, wantCost, 1)
	if v := metricValue(t, kr.admin, "keeper_runs_partial_total"); v != "1" {
		t.Fatalf("keeper_runs_partial_total %q", v)
	}
	// Stopped, the keeper's journal file answers the same lookup.
	kr.p.stop()
	out, err = osexec.CommandContext(ctx, keeperBin, "receipts", "--config", cfg, "--escrow", escrow.String(), "--run", runID, "--output", "json").Output()
	var p page
	if err != nil || json.Unmarshal(out, &p) != nil || len(p.Data) != 1 || p.Data[0].State != "settled" || !p.Data[0].Receipt.Partial || p.Data[0].Receipt.Cost != wantCost {
		t.Fatalf("lookup in the journal file: %v %s", err, out)
	}
}

// readThenHangUp streams a chat request, reads until k chunks carrying
// generated text have arrived, drops the connection and returns the run id
// the response's headers named.
func readThenHangUp(t *testing.T, api, key string, k int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := `{"model":"sim-model","messages":[{"role":"user","content":"count to twenty"}],"max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+api+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	id := resp.Header.Get("X-Run-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("HTTP %d, run id %q", resp.StatusCode, id)
	}
	br := bufio.NewReader(resp.Body)
	for got := 0; got < k; {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after %d chunks: %v", got, err)
		}
		data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: ")
		if !ok {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(data), &chunk) == nil && len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			got++
		}
	}
	return id
}
