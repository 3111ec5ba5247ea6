package keeperd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/clients/cluster"
)

func TestSettleAndCranksConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keeper.toml")
	extra := `
[settle]
node = "99RGuGouvAUBULLukevZ1Y6AJn9SDwhZBsXgn5QfpUwX"
interval = "2s"
max_entries = 12
max_models = 3
lookup_table = false

[cranks]
enabled = true
jitter = "5s"
checkpoint_voters = true
`
	if err := os.WriteFile(path, []byte(Template), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Settle.Node != "" || c.Settle.LookupTable == nil || !*c.Settle.LookupTable || c.Settle.MaxModels != 4 || c.Cranks.Enabled || c.Cranks.Jitter.Duration != 20*time.Second {
		t.Fatalf("template: settle %+v, cranks %+v", c.Settle, c.Cranks)
	}
	// The template without its own [settle] and [cranks], plus ours.
	base := Template[:strings.Index(Template, "# On-chain settlement")]
	if err := os.WriteFile(path, []byte(base+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = LoadConfig(path); err != nil {
		t.Fatal(err)
	}
	if c.Settle.Node == "" || c.Settle.Interval.Duration != 2*time.Second || c.Settle.MaxEntries != 12 || c.Settle.MaxModels != 3 ||
		*c.Settle.LookupTable || !c.Cranks.Enabled || c.Cranks.Jitter.Duration != 5*time.Second || !c.Cranks.CheckpointVoters {
		t.Fatalf("decoded settle %+v, cranks %+v", c.Settle, c.Cranks)
	}
	if got := statePath(c); got != cluster.ExpandHome(c.Journal.Path)+".settler.json" {
		t.Fatalf("state path %s", got)
	}
}

// An offline keeper has no chain to settle on: asking it to is an error,
// not a silent no-op.
func TestSettlementNeedsAChain(t *testing.T) {
	dir := t.TempDir()
	cfg := offlineConfig(t, dir, "http://127.0.0.1:1")
	cfg.Settle.Node = "99RGuGouvAUBULLukevZ1Y6AJn9SDwhZBsXgn5QfpUwX"
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "rpc_url") {
		t.Fatalf("offline keeper with [settle] node: %v", err)
	}
	cfg.Settle.Node = ""
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.journal.Close()
	if d.settlementStatus() != nil {
		t.Fatal("settlement status without settlement")
	}
}
