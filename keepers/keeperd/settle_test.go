package keeperd

import (
	"strings"
	"testing"
)

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
