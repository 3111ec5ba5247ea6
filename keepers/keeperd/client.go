package keeperd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// ErrNotRunning: no keeper answered on the admin address.
var ErrNotRunning = errors.New("no keeper answers on the admin address")

var httpClient = &http.Client{Timeout: 15 * time.Second}

// FetchStatus asks a running keeper's admin listener for its status.
func FetchStatus(ctx context.Context, adminAddr string) (Status, error) {
	var s Status
	err := getJSON(ctx, "http://"+adminAddr+"/status", "", &s)
	return s, err
}

// OfflineStatus reads the journal file of a keeper that is not running.
func OfflineStatus(path string) (Status, error) {
	j, err := journal.Open(journal.Config{Path: expandHome(path), ReadOnly: true})
	if err != nil {
		return Status{}, err
	}
	defer j.Close()
	return JournalStatus(j)
}

func getJSON(ctx context.Context, u, bearer string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotRunning, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: HTTP %d: %s", u, resp.StatusCode, e.Error.Message)
		}
		return fmt.Errorf("%s: HTTP %d: %.200s", u, resp.StatusCode, body)
	}
	return json.Unmarshal(body, v)
}

// ReceiptQuery selects receipts: from a gateway with the user's API key,
// from an operator's admin listener by escrow, or from a journal file.
type ReceiptQuery struct {
	GatewayURL string // with APIKey
	APIKey     string
	AdminAddr  string // with Escrow
	Journal    string // with Escrow, when no keeper runs
	Escrow     solana.PublicKey
	After      receipts.RunID
	Limit      int
}

// FetchReceipts returns one page of receipts.
func FetchReceipts(ctx context.Context, q ReceiptQuery) (gateway.ReceiptPage, error) {
	var page gateway.ReceiptPage
	params := url.Values{}
	if q.After != (receipts.RunID{}) {
		params.Set("after", q.After.String())
	}
	if q.Limit > 0 {
		params.Set("limit", strconv.Itoa(q.Limit))
	}
	switch {
	case q.GatewayURL != "":
		if q.APIKey == "" {
			return page, errors.New("an API key is needed to ask a gateway for receipts")
		}
		err := getJSON(ctx, q.GatewayURL+"/v1/receipts?"+params.Encode(), q.APIKey, &page)
		if err == nil && !q.Escrow.IsZero() && page.Escrow != q.Escrow.String() {
			return page, fmt.Errorf("the API key's escrow is %s, not %s", page.Escrow, q.Escrow)
		}
		return page, err
	case q.AdminAddr != "":
		params.Set("escrow", q.Escrow.String())
		err := getJSON(ctx, "http://"+q.AdminAddr+"/receipts?"+params.Encode(), "", &page)
		return page, err
	case q.Journal != "":
		j, err := journal.Open(journal.Config{Path: expandHome(q.Journal), ReadOnly: true})
		if err != nil {
			return page, err
		}
		defer j.Close()
		limit := q.Limit
		if limit <= 0 {
			limit = 100
		}
		// The keeper key is in every receipt; report the first one's.
		page, err = ReceiptsPage(j, solana.PublicKey{}, q.Escrow, q.After, limit)
		if err == nil && len(page.Data) > 0 {
			page.Keeper = page.Data[0].Keeper
		}
		return page, err
	}
	return page, errors.New("no source: give a gateway URL and API key, an admin address, or a journal file")
}

// Verified is a receipt whose signature checked out.
type Verified struct {
	View   gateway.ReceiptView
	Signed receipts.Signed
}

// ErrForeignReceipt: a receipt signed by another key than the keeper's,
// or for another escrow than the page's.
var ErrForeignReceipt = errors.New("receipt does not belong to this keeper and escrow")

// VerifyPage checks every receipt of a page: the canonical encoding, the
// ed25519 signature, that the keeper key is the page's (or want, if set)
// and that the escrow is the page's. The JSON fields are not trusted; the
// decoded receipt is returned.
func VerifyPage(page gateway.ReceiptPage, want solana.PublicKey) ([]Verified, error) {
	keeper := page.Keeper
	if !want.IsZero() {
		if keeper != "" && keeper != want.String() {
			return nil, fmt.Errorf("%w: the keeper says its key is %s, you expect %s", ErrForeignReceipt, keeper, want)
		}
		keeper = want.String()
	}
	var out []Verified
	for _, v := range page.Data {
		enc, err1 := base64.StdEncoding.DecodeString(v.Encoded)
		sig, err2 := base64.StdEncoding.DecodeString(v.Signature)
		if err1 != nil || err2 != nil || len(sig) != 64 {
			return out, fmt.Errorf("receipt %s: bad base64", v.RunID)
		}
		s, err := receipts.UnmarshalSigned(append(sig, enc...))
		if err != nil {
			return out, fmt.Errorf("receipt %s: %w", v.RunID, err)
		}
		if solana.PublicKeyFromBytes(s.Receipt.Keeper[:]).String() != keeper ||
			solana.PublicKeyFromBytes(s.Receipt.Escrow[:]).String() != page.Escrow {
			return out, fmt.Errorf("receipt %s: %w", v.RunID, ErrForeignReceipt)
		}
		v.Receipt = s.Receipt
		out = append(out, Verified{View: v, Signed: s})
	}
	return out, nil
}
