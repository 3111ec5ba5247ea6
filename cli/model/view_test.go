package model

import (
	"strings"
	"testing"

	"github.com/modelcommons/modelcommons/clients/amount"
)

// Every amount `mt model show` prints carries its unit (issue 17 item 8):
// MT, or the native token.
func TestViewTextLabelsEveryAmount(t *testing.T) {
	var v View
	v.Stage = "active"
	v.Crowdfund.Price = amount.Of(2_000, 6)
	v.Crowdfund.Raised = amount.Of(100_000_000, 6)
	v.Crowdfund.SoftCap = amount.Of(50_000_000, 6)
	v.Crowdfund.HardCap = amount.Of(100_000_000, 6)
	v.Crowdfund.PerWalletCap = amount.Of(100_000_000, 6)
	v.Pricing.InputPer1k = amount.Of(20_000, 6)
	v.Pricing.OutputPer1k = amount.Of(60_000, 6)
	v.Revenue.TotalRevenue = amount.Of(1_643, 6)
	v.Revenue.TreasuryRevenue = amount.Of(1_643, 6)
	v.Vaults = []Vault{{Name: "treasury (native)", Balance: amount.Of(78_001_643, 6)}, {Name: "sale (MT)", Balance: amount.Of(50_000_000_000, 6)}}
	out := v.Text()
	if !strings.Contains(out, "Per-wallet cap:") || !strings.Contains(out, "100 native\n") {
		t.Errorf("the per-wallet cap lacks its unit:\n%s", out)
	}
	for _, want := range []string{
		"0.002 native per MT",
		"100 native of soft cap 50 native, hard cap 100 native",
		"0.02 native per 1k input tokens, 0.06 native per 1k output tokens",
		"0.001643 native received in total, 0.001643 native to the treasury, 0 native to depositors (0 native claimed)",
		"0 MT earning, 0 MT warming up",
		"78.001643 native",
		"50000 MT",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("model show lacks %q:\n%s", want, out)
		}
	}
}
