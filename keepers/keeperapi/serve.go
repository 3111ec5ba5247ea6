package keeperapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// ParseReceiptsQuery parses the ?escrow=<address>&after=<run id>&limit=<1..1000>
// query of the admin listener's receipt endpoints.
func ParseReceiptsQuery(r *http.Request) (escrow solana.PublicKey, after receipts.RunID, limit int, err error) {
	q := r.URL.Query()
	if escrow, err = solana.PublicKeyFromBase58(q.Get("escrow")); err != nil {
		return escrow, after, 0, errors.New("escrow: want a base58 address")
	}
	if a := q.Get("after"); a != "" {
		if after, err = receipts.ParseRunID(a); err != nil {
			return escrow, after, 0, fmt.Errorf("after: %w", err)
		}
	}
	limit = 100
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 1000 {
			return escrow, after, 0, errors.New("limit: 1..1000")
		}
	}
	return escrow, after, limit, nil
}
