package rewards

import (
	"strings"
	"testing"

	"github.com/modelcommons/modelcommons/clients/amount"
)

// Every amount `mt rewards deposit-revenue` prints carries its unit (issue
// 17 item 8).
func TestRevenueTextLabelsEveryAmount(t *testing.T) {
	r := Revenue{Model: 0, Paid: amount.Of(10_000_000, 6), ToDepositors: amount.Of(7_000_000, 6), ToTreasury: amount.Of(3_000_000, 6),
		TotalRevenue: amount.Of(12_500_000, 6), TreasuryRevenue: amount.Of(5_500_000, 6)}
	out := r.Text()
	for _, want := range []string{"10 native tokens into model 0", "To MT depositors:  7 native tokens", "To the treasury:   3 native tokens",
		"12.5 native tokens in total, 5.5 native tokens of it to the treasury"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
}
