package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/demo/story"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// The demo's story, shortened (fewer requests): protocol, two models from
// spec files, crowdfunds finalised by the keeper's crank, deposits, the
// official OpenAI Python client through the keeper (streamed, not, a
// mixture), settlement checked to the base unit against clients/settlement,
// a governance price change charged from its effective time, and a swap
// whose fee reaches the model's revenue and the protocol.
func TestDemoStory(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	var out strings.Builder
	sum, err := story.Run(ctx, story.Config{Bins: bins, OutDir: t.TempDir(), Out: &out, Short: true, Chain: golocal.Start(t)})
	if err != nil || !sum.OK {
		t.Fatalf("story: %v (ok %v)\n%s", err, sum != nil && sum.OK, out.String())
	}
	tr := sum.Trail
	if len(tr.Batches) == 0 || tr.Debited == 0 || tr.Debited != tr.ToModels+tr.ToOperator+tr.ToProtocol || len(tr.Holders) != 3 {
		t.Fatalf("settlement trail: %+v", tr)
	}
	for _, h := range tr.Holders {
		if h.After == 0 || h.After != h.Predicted {
			t.Errorf("holder %s: claimable %d, predicted %d", h.Name, h.After, h.Predicted)
		}
	}
	for _, r := range sum.Requests {
		if !r.OK || r.RunID == "" || r.Usage == nil {
			t.Errorf("request %s: %+v", r.Name, r)
		}
	}
	if sum.Price.ReceiptsAtNew != len(sum.Price.Requests) || sum.Price.NewInputPer1k != 2*sum.Price.OldInputPer1k {
		t.Errorf("price change: %+v", sum.Price)
	}
	if sum.Swap == nil || sum.Swap.FeeVaultDelta != sum.Swap.ProtocolFee || sum.Swap.RevenueDelta+sum.Swap.TreasuryDelta != sum.Swap.ModelFee {
		t.Errorf("swap: %+v", sum.Swap)
	}
	t.Logf("story told in %s: %d runs settled in %d batches, escrow debited %d", sum.Elapsed, len(sum.Requests), len(tr.Batches), tr.Debited)
}
