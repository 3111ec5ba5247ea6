package moneytrail

import (
	"math/big"
	"testing"
)

// owed mirrors mt_treasury's RevenueState::pending: earning × Δacc /
// ACC_SCALE, rounded down, nothing for a checkpoint at or past acc.
func TestOwedMirrorsTheAccumulator(t *testing.T) {
	scale := new(big.Int).Set(accScale)
	inc := func(toDep, earning uint64) *big.Int {
		v := new(big.Int).Mul(new(big.Int).SetUint64(toDep), scale)
		return v.Quo(v, new(big.Int).SetUint64(earning))
	}
	for name, c := range map[string]struct {
		earning   uint64
		acc, ckpt *big.Int
		want      uint64
	}{
		"whole share":            {10_000, inc(7_000, 10_000), big.NewInt(0), 7_000},
		"pro rata, rounded down": {3, inc(10, 7), big.NewInt(0), 4}, // 3 × 10/7 = 4.28…
		"since the checkpoint":   {5, inc(20, 10), inc(10, 10), 5},
		"checkpoint at acc":      {5, inc(20, 10), inc(20, 10), 0},
		"nothing earning":        {0, inc(20, 10), big.NewInt(0), 0},
	} {
		if got := owed(c.earning, c.acc, c.ckpt); got != c.want {
			t.Errorf("%s: owed %d, want %d", name, got, c.want)
		}
	}
}

func TestAuditChecksReportFailures(t *testing.T) {
	var tr Trail
	tr.check("a", true, "fine")
	tr.check("b", false, "off by %d", 1)
	if tr.OK() || len(tr.Failed()) != 1 || tr.Failed()[0].Detail != "off by 1" {
		t.Fatalf("trail checks: %+v", tr.Checks)
	}
}
