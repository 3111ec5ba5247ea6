package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Machine-readable results (--json), read by tools/benchreport.

// latencyJSON is one load step against one target.
type latencyJSON struct {
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	N      int     `json:"n"`
	Errors int     `json:"errors"`
}

type gatewayStep struct {
	Rate    int          `json:"rate"`
	Direct  latencyJSON  `json:"direct"`
	Keeper  latencyJSON  `json:"keeper"`
	LiteLLM *latencyJSON `json:"litellm,omitempty"`
	// LiteLLMSkipped: not sent to LiteLLM, saturated at a lower rate.
	LiteLLMSkipped    bool    `json:"litellm_skipped,omitempty"`
	ReceiptsPerCommit float64 `json:"receipts_per_commit"`
	MeanCommitMs      float64 `json:"mean_commit_ms"`
	// JournalWait*: how long the gateway's Record calls waited for the
	// group commit holding their receipt.
	JournalWaitP50Ms float64 `json:"journal_wait_p50_ms"`
	JournalWaitP99Ms float64 `json:"journal_wait_p99_ms"`
}

type gatewayResult struct {
	GC string `json:"gc"`
	// Keeper: "process" (its own, as in production) or "in-process".
	Keeper       string        `json:"keeper"`
	Streaming    bool          `json:"streaming"`
	OutputTokens int           `json:"output_tokens"`
	StepSeconds  float64       `json:"step_seconds"`
	Journal      string        `json:"journal"`
	FsyncP50Ms   float64       `json:"fsync_p50_ms"`
	FsyncP99Ms   float64       `json:"fsync_p99_ms"`
	GOMAXPROCS   int           `json:"gomaxprocs"`
	Steps        []gatewayStep `json:"steps"`
}

type journalStep struct {
	Writers           int     `json:"writers"`
	ReceiptsPerSec    float64 `json:"receipts_per_sec"`
	SyncsPerSec       float64 `json:"syncs_per_sec"`
	ReceiptsPerCommit float64 `json:"receipts_per_commit"`
	P50Ms             float64 `json:"record_p50_ms"`
	P99Ms             float64 `json:"record_p99_ms"`
	LowerBound        bool    `json:"lower_bound"`
}

type journalResult struct {
	Steps             []journalStep `json:"steps"`
	FsyncBaselinePerS float64       `json:"fsync_baseline_per_sec"`
	SignPerSec        float64       `json:"sign_per_sec"`
}

func (r loadResult) json() latencyJSON {
	return latencyJSON{P50Ms: msf(r.p50), P99Ms: msf(r.p99), N: r.n, Errors: r.errors}
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ratio is ours/theirs as text ("–" when theirs is not positive).
func ratio(ours, theirs time.Duration) string {
	if theirs <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(ours)/float64(theirs))
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
