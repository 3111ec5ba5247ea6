// Package keeperapi is the keeper's own HTTP API as its callers see it:
// the answers of the admin listener (/status, /receipts, /receipts/proofs)
// and of the gateway's receipt endpoints, how each is computed from a
// journal (so a stopped keeper's journal file answers the same way), and a
// client that fetches them from a gateway, a running keeper or a journal
// file. Receipts fetched are checked here (VerifyPage) before anything
// trusts them; their Merkle proofs against the chain are checked by
// keepers/receipts (CheckProofs).
package keeperapi

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/settler"
	"github.com/modelcommons/modelcommons/keepers/workers"
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
	j, err := journal.Open(journal.Config{Path: cluster.ExpandHome(path), ReadOnly: true})
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
		j, err := journal.Open(journal.Config{Path: cluster.ExpandHome(q.Journal), ReadOnly: true})
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

// Status is what `keeper status` shows.
type Status struct {
	KeeperKey    string `json:"keeper_key"`
	Uptime       string `json:"uptime,omitempty"`
	Ready        bool   `json:"ready"`
	Journal      string `json:"journal"`
	JournalBytes int64  `json:"journal_bytes"`
	// JournalRunSeq is the highest run number the journal has assigned.
	JournalRunSeq  uint64           `json:"journal_run_seq"`
	Unbatched      int              `json:"unbatched_runs"`
	UnsettledValue uint64           `json:"unsettled_value"`
	PendingBatches int              `json:"pending_batches"`
	LastBatch      *journal.Batch   `json:"last_batch,omitempty"`
	Workers        []workers.Status `json:"workers,omitempty"`
	// ChainClock is the keeper's estimate of the chain's clock (nil offline).
	ChainClock *chainclock.Status `json:"chain_clock,omitempty"`
	// Settlement: on-chain settlement and cranks (settle.go).
	Settlement *SettlementStatus `json:"settlement,omitempty"`
}

// JournalStatus reports the journal part of Status.
func JournalStatus(j *journal.Journal) (Status, error) {
	st := j.Stats()
	s := Status{Journal: j.Path(), JournalBytes: st.FileBytes, JournalRunSeq: j.HighestRunSeq(), Unbatched: st.Unbatched, UnsettledValue: st.UnsettledValue}
	pending, err := j.PendingBatches()
	if err != nil {
		return s, err
	}
	s.PendingBatches = len(pending)
	last, ok, err := j.LastBatch()
	if err != nil {
		return s, err
	}
	if ok {
		last.RunIDs = nil
		s.LastBatch = &last
	}
	return s, nil
}

// SettlementStatus is the settlement part of `keeper status`.
type SettlementStatus struct {
	settler.Status
	// ChainKnown is false when the chain could not be asked (ChainLastBatch is then 0).
	ChainKnown bool `json:"chain_known"`
	Cranks     bool `json:"cranks"`
}

// ReceiptsPage lists an escrow's receipts from a journal.
func ReceiptsPage(j *journal.Journal, keeper, escrow solana.PublicKey, after receipts.RunID, limit int) (gateway.ReceiptPage, error) {
	entries, err := j.Receipts(escrow, after, limit+1)
	if err != nil {
		return gateway.ReceiptPage{}, err
	}
	page := gateway.ReceiptPage{Object: "list", Keeper: keeper.String(), Escrow: escrow.String(), Data: []gateway.ReceiptView{}}
	if len(entries) > limit {
		entries, page.HasMore = entries[:limit], true
	}
	for _, e := range entries {
		page.Data = append(page.Data, gateway.NewReceiptView(e))
	}
	return page, nil
}

// ReceiptProof is a receipt's Merkle proof in its settlement batch.
type ReceiptProof struct {
	RunID    string `json:"run_id"`
	BatchSeq uint64 `json:"batch_seq"`
	// BatchState is the batch's state in the journal (assigned, sent, settled).
	BatchState string         `json:"batch_state"`
	Proof      receipts.Proof `json:"proof"`
	// Root is the batch's Merkle root (hex) as the keeper computed it;
	// SettledSignature the transaction that recorded it on chain.
	Root             string `json:"root"`
	SettledSignature string `json:"settled_signature,omitempty"`
}

// ReceiptProofs returns the Merkle proofs of an escrow's receipts that are
// in a batch (receipts not yet batched have none), in run order. Each
// batch's leaves are read once.
func ReceiptProofs(j *journal.Journal, escrow solana.PublicKey, after receipts.RunID, limit int) ([]ReceiptProof, error) {
	entries, err := j.Receipts(escrow, after, limit)
	if err != nil {
		return nil, err
	}
	type batchLeaves struct {
		b      journal.Batch
		leaves []receipts.Hash
		index  map[receipts.RunID]int
	}
	batches := map[uint64]*batchLeaves{}
	out := []ReceiptProof{}
	for _, e := range entries {
		if e.State != journal.StateBatched && e.State != journal.StateSettled {
			continue
		}
		bl := batches[e.BatchSeq]
		if bl == nil {
			b, err := j.Batch(e.BatchSeq)
			if err != nil {
				return nil, err
			}
			bl = &batchLeaves{b: b, index: make(map[receipts.RunID]int, len(b.RunIDs))}
			for i, id := range b.RunIDs {
				re, err := j.Get(id)
				if err != nil {
					return nil, fmt.Errorf("batch %d: %w", b.Seq, err)
				}
				bl.leaves = append(bl.leaves, receipts.LeafHash(re.Signed.Encoded))
				bl.index[id] = i
			}
			batches[e.BatchSeq] = bl
		}
		i, ok := bl.index[e.Signed.Receipt.RunID]
		if !ok {
			return nil, fmt.Errorf("batch %d does not list run %s", bl.b.Seq, e.Signed.Receipt.RunID)
		}
		proof, err := receipts.Prove(bl.leaves, i)
		if err != nil {
			return nil, err
		}
		out = append(out, ReceiptProof{
			RunID: e.Signed.Receipt.RunID.String(), BatchSeq: bl.b.Seq, BatchState: string(bl.b.State), Proof: proof,
			Root: hex.EncodeToString(bl.b.Root[:]), SettledSignature: bl.b.SettledSignature,
		})
	}
	return out, nil
}

// FetchReceiptProofs returns the proofs for the receipts q selects, from a
// gateway (the user's API key), the running keeper's admin listener or its
// journal file.
func FetchReceiptProofs(ctx context.Context, q ReceiptQuery) ([]ReceiptProof, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	switch {
	case q.GatewayURL != "":
		if q.APIKey == "" {
			return nil, errors.New("an API key is needed to ask a gateway for receipt proofs")
		}
		u := fmt.Sprintf("%s/v1/receipts/proofs?limit=%d", q.GatewayURL, limit)
		if q.After != (receipts.RunID{}) {
			u += "&after=" + q.After.String()
		}
		var out []ReceiptProof
		err := getJSON(ctx, u, q.APIKey, &out)
		return out, err
	case q.AdminAddr != "":
		u := fmt.Sprintf("http://%s/receipts/proofs?escrow=%s&limit=%d", q.AdminAddr, q.Escrow, limit)
		if q.After != (receipts.RunID{}) {
			u += "&after=" + q.After.String()
		}
		var out []ReceiptProof
		err := getJSON(ctx, u, "", &out)
		return out, err
	case q.Journal != "":
		j, err := journal.Open(journal.Config{Path: cluster.ExpandHome(q.Journal), ReadOnly: true})
		if err != nil {
			return nil, err
		}
		defer j.Close()
		return ReceiptProofs(j, q.Escrow, q.After, limit)
	}
	return nil, errors.New("receipt proofs need a gateway URL and API key, the keeper's admin address or its journal file")
}

// CheckProofs checks verified receipts against the proofs a keeper gave
// (receipts.CheckProofs), reading each settled batch's root from the chain
// with client (nil: only the keeper's root is checked).
func CheckProofs(ctx context.Context, client *rpc.Client, verified []Verified, proofs []ReceiptProof) []receipts.ProofCheck {
	signed := make([]receipts.Signed, len(verified))
	for i, v := range verified {
		signed[i] = v.Signed
	}
	batch := make([]receipts.BatchProof, len(proofs))
	for i, p := range proofs {
		batch[i] = receipts.BatchProof{RunID: p.RunID, BatchSeq: p.BatchSeq, Proof: p.Proof, Root: p.Root,
			Settled: p.BatchState == string(journal.BatchSettled), SettledSignature: p.SettledSignature}
	}
	var read receipts.RootReader
	if client != nil {
		read = receipts.SettledRoots(client)
	}
	return receipts.CheckProofs(ctx, read, signed, batch)
}
