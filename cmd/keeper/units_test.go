package main

import (
	"strings"
	"testing"

	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/keeperapi"
)

// Every amount `keeper status` prints carries its unit (issue 17 item 8):
// the keeper does not know the native token's decimals, so base units.
func TestStatusLabelsAmounts(t *testing.T) {
	var sb strings.Builder
	st := keeperapi.Status{Unbatched: 2, UnsettledValue: 620, LastBatch: &journal.Batch{Seq: 3, Runs: 4, Cost: 2080}}
	if err := printStatus(&sb, st, false); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{"unsettled value 620 base units", "cost 2080 base units"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}
