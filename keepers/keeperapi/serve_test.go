package keeperapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

func TestParseReceiptsQuery(t *testing.T) {
	escrow := solana.NewWallet().PublicKey()
	id := receipts.NewRunID()
	for _, c := range []struct {
		query, err string
		limit      int
	}{
		{"escrow=" + escrow.String(), "", 100},
		{"escrow=" + escrow.String() + "&after=" + id.String() + "&limit=1000", "", 1000},
		{"", "escrow: want a base58 address", 0},
		{"escrow=nope", "escrow: want a base58 address", 0},
		{"escrow=" + escrow.String() + "&after=xyz", "after:", 0},
		{"escrow=" + escrow.String() + "&limit=0", "limit: 1..1000", 0},
		{"escrow=" + escrow.String() + "&limit=1001", "limit: 1..1000", 0},
		{"escrow=" + escrow.String() + "&limit=ten", "limit: 1..1000", 0},
	} {
		e, after, limit, err := ParseReceiptsQuery(httptest.NewRequest("GET", "/receipts?"+c.query, nil))
		if c.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.query, err, c.err)
			}
			continue
		}
		if err != nil || !e.Equals(escrow) || limit != c.limit {
			t.Errorf("%q: %v %v %d", c.query, err, e, limit)
		}
		if strings.Contains(c.query, "after=") && after != id {
			t.Errorf("%q: after %v", c.query, after)
		}
	}
}
