package rules

import (
	"errors"
	"testing"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func TestFillFor(t *testing.T) {
	// 0.5 native (6 decimals) per MT; hard cap 100 native; wallet cap 60.
	c := mt.Crowdfund{Price: 500_000, SoftCap: 50_000_000, HardCap: 100_000_000, PerWalletCap: 60_000_000}
	sale := uint64(1_000 * MTUnit)
	tests := []struct {
		name              string
		raised, sold      uint64
		walletPaid, offer uint64
		want              Fill
		err               error
	}{
		{"plain", 0, 0, 0, 10_000_000, Fill{MT: 20 * MTUnit, Cost: 10_000_000}, nil},
		{"rounds MT down, cost up", 0, 0, 0, 1, Fill{MT: 2, Cost: 1}, nil},
		{"partial fill at the hard cap", 95_000_000, 190 * MTUnit, 0, 10_000_000, Fill{MT: 10 * MTUnit, Cost: 5_000_000}, nil},
		{"sold out", 100_000_000, 200 * MTUnit, 0, 1, Fill{}, ErrHardCapReached},
		{"wallet cap", 0, 0, 55_000_000, 10_000_000, Fill{}, ErrWalletCapExceeded},
		{"zero", 0, 0, 0, 0, Fill{}, ErrZeroAmount},
	}
	for _, tt := range tests {
		c := c
		c.Raised, c.Sold = tt.raised, tt.sold
		got, err := FillFor(c, sale, tt.walletPaid, tt.offer)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("%s: FillFor = %+v, %v; want %+v, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	// A price that does not divide evenly: 3 base units per MT.
	odd := mt.Crowdfund{Price: 3, HardCap: 1 << 40, PerWalletCap: 1 << 40}
	if got, err := FillFor(odd, 1<<60, 0, 10); err != nil || got.MT != 3_333_333 || got.Cost != 10 {
		t.Errorf("odd price: %+v, %v", got, err)
	}
	if got, err := FillFor(odd, 1<<60, 0, 1); err != nil || got.MT != 333_333 || got.Cost != 1 {
		t.Errorf("odd price, 1 unit: %+v, %v", got, err)
	}
}

func TestVested(t *testing.T) {
	v := mt.Vesting{Start: 1000, CliffSecs: 100, DurationSecs: 400}
	for now, want := range map[int64]uint64{999: 0, 1000: 0, 1099: 0, 1100: 250, 1200: 500, 1399: 997, 1400: 1000, 9999: 1000} {
		if got, err := Vested(v, 1000, now); err != nil || got != want {
			t.Errorf("Vested(now=%d) = %d, %v; want %d", now, got, err, want)
		}
	}
	v.Claimed = 250
	if got, _ := Claimable(v, 1000, 1200); got != 250 {
		t.Errorf("Claimable = %d, want 250", got)
	}
	if got, _ := Vested(mt.Vesting{Start: 5}, 7, 5); got != 7 {
		t.Errorf("no vesting: %d, want everything at once", got)
	}
}

func TestOverflow(t *testing.T) {
	c := mt.Crowdfund{Price: 1}
	if _, err := MTFor(c, ^uint64(0)); !errors.Is(err, ErrOverflow) {
		t.Errorf("MTFor overflow: %v", err)
	}
	if _, err := MTFor(mt.Crowdfund{}, 1); !errors.Is(err, ErrOverflow) {
		t.Errorf("zero price: %v", err)
	}
}

// The cases of the keeper's raise crank.
func TestRaiseDue(t *testing.T) {
	model := func(end int64, raised, sold uint64) *mt.Model {
		return &mt.Model{
			Stage:     mt.Stage_Funding,
			Supply:    mt.SupplySplit{Crowdfund: 50_000 * MTUnit},
			Crowdfund: mt.Crowdfund{Price: 2 * MTUnit, HardCap: 100_000 * MTUnit, End: end, Raised: raised, Sold: sold},
		}
	}
	cases := []struct {
		name string
		m    *mt.Model
		now  int64
		want bool
	}{
		{"open, room left", model(100, 10_000*MTUnit, 5_000*MTUnit), 99, false},
		{"window closed (end exclusive)", model(100, 10_000*MTUnit, 5_000*MTUnit), 100, true},
		{"sale allocation sold", model(100, 100_000*MTUnit, 50_000*MTUnit), 50, true},
		{"room buys nothing", model(100, 100_000*MTUnit-1, 49_999*MTUnit), 50, true},
		{"room buys one base unit", model(100, 100_000*MTUnit-2, 49_999*MTUnit), 50, false},
	}
	for _, c := range cases {
		if got, err := RaiseDue(c.m.Crowdfund, c.now, c.m.Supply.Crowdfund); err != nil || got != c.want {
			t.Errorf("%s: due %v (%v), want %v", c.name, got, err, c.want)
		}
	}
}
