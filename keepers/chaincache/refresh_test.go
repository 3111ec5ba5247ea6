package chaincache

import (
	"testing"
	"time"
)

// The operator rule the keeper checks at start: the price refresh strictly
// below the protocol's shortest hold-up.
func TestPriceRefreshBelow(t *testing.T) {
	for _, tc := range []struct {
		refresh, minPeriod time.Duration
		ok                 bool
	}{{2 * time.Second, 24 * time.Hour, true}, {2 * time.Second, 2 * time.Second, false}, {10 * time.Second, 2 * time.Second, false}, {500 * time.Millisecond, time.Second, true}} {
		if got := PriceRefreshBelow(tc.refresh, tc.minPeriod); got != tc.ok {
			t.Errorf("refresh %s, min period %s: below %v, want %v", tc.refresh, tc.minPeriod, got, tc.ok)
		}
	}
}
