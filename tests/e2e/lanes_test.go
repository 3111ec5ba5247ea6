package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/demo/driver"
)

// Money a user has not allowed to this keeper's node is not its to spend:
// an escrow whose deposit is unallocated, and one whose lane goes to
// another node, are refused with 402 insufficient_quota — streamed or
// not — and after the keeper has settled other users' runs neither has
// been charged a base unit.
func TestEscrowWithoutLaneToTheNodeIsRefused(t *testing.T) {
	w := newWorld(t)
	sim := w.workersim("gpu-0", []string{"chat"})
	w.activeModels([]string{"chat"}, []driver.KeeperWorker{{Name: "gpu-0", URL: sim.URL, Models: []string{"chat"}}})

	// Another operator's node (carol's), which the user does allow.
	var other struct {
		Address string `json:"address"`
	}
	w.ok(&other, &w.carol, "node", "register", "--keeper", w.alice.Pub(), "--endpoint", "https://other.example/v1", "--stake", "100")

	noLaneKey, noLane := w.openEscrowWith("--deposit", "1")
	otherKey, otherLane := w.openEscrowWith("--deposit", "1", "--node", other.Address)
	goodKey, _ := w.openEscrow("1")

	for _, c := range []struct{ name, key string }{{"unallocated deposit", noLaneKey}, {"lane to another node", otherKey}} {
		for _, stream := range []bool{false, true} {
			if r := w.chat(c.key, "chat", stream, 16); r.Status != http.StatusPaymentRequired || r.Code != "insufficient_quota" {
				t.Errorf("%s (stream %v): HTTP %d %s, want 402 insufficient_quota", c.name, stream, r.Status, r.Body)
			}
		}
	}
	// A user with a lane to this node is served, and settled.
	if r := w.chat(goodKey, "chat", false, 16); r.Status != http.StatusOK {
		t.Fatalf("escrow with a lane to the node: HTTP %d %s", r.Status, r.Body)
	}
	w.waitSettled(goodKey, time.Minute)

	if e := w.escrow(noLane); e.Spent.BaseUnits != 0 || e.Unallocated.BaseUnits != 1_000_000 || len(e.Lanes) != 0 {
		t.Errorf("escrow with no lane after settlement: %+v", e)
	}
	e := w.escrow(otherLane)
	if e.Spent.BaseUnits != 0 || len(e.Lanes) != 1 || e.Lanes[0].Node != other.Address || e.Lanes[0].Balance.BaseUnits != 1_000_000 {
		t.Errorf("escrow with a lane to another node after settlement: %+v", e)
	}
}
