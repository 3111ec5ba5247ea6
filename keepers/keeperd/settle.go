package keeperd

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/events"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/keepers/cranks"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/settler"
)

// SettleConfig is the [settle] section: settlement of the journal on
// chain. It is on when node is set (and rpc_url: offline keepers never settle).
type SettleConfig struct {
	// Node is the node account (inference_meter Node PDA; `mt node show`).
	Node string `toml:"node"`
	// Interval between settlement rounds when nothing is pending (default 10s).
	Interval Duration `toml:"interval"`
	// MaxEntries per batch (0: as many as fit one transaction).
	MaxEntries int `toml:"max_entries"`
	// MaxModels per batch (default 4).
	MaxModels int `toml:"max_models"`
	// LookupTable: settle through address lookup tables the keeper creates
	// (default true; false sends legacy transactions, about 9 entries each).
	LookupTable *bool `toml:"lookup_table"`
	// MaxLookupTables is how many lookup tables stay live (default 4); the
	// oldest is then retired: deactivated, closed, its rent returned.
	MaxLookupTables int `toml:"max_lookup_tables"`
	// PriorityMicroLamports is the compute-unit price of settle transactions.
	PriorityMicroLamports uint64 `toml:"priority_micro_lamports"`
	// OperatorAccount receives the operator share (default: the operator's
	// associated native-token account).
	OperatorAccount string `toml:"operator_account"`
	// StatePath is the settler's state file (default: next to the journal).
	StatePath string `toml:"state_path"`
}

// CranksConfig is the [cranks] section: permissionless upkeep.
type CranksConfig struct {
	Enabled bool `toml:"enabled"`
	// Interval between scans (default 30s); Jitter the most a due crank
	// waits so that keepers do not all pay for it (default 20s).
	Interval Duration `toml:"interval"`
	Jitter   Duration `toml:"jitter"`
	// CheckpointVoters also checkpoints voter records of the served models
	// whose warm-up is over (one fee per record; default off).
	CheckpointVoters      bool   `toml:"checkpoint_voters"`
	PriorityMicroLamports uint64 `toml:"priority_micro_lamports"`
}

// settleParts are the daemon's settlement and cranks.
type settleParts struct {
	rpc     *rpc.Client // the gateway's: set when the keeper runs on a chain
	refresh func(context.Context, []solana.PublicKey) error
	settler *settler.Settler
	cranks  bool
}

// statePath is the settler's state file for cfg.
func statePath(cfg Config) string {
	if cfg.Settle.StatePath != "" {
		return expandHome(cfg.Settle.StatePath)
	}
	return expandHome(cfg.Journal.Path) + ".settler.json"
}

// startSettlement builds the settler and the cranks when configured and
// adds them to the daemon's runners.
func (d *Daemon) startSettlement() error {
	sc := d.cfg.Settle
	if sc.Node == "" && !d.cfg.Cranks.Enabled {
		if d.cfg.Offline == nil {
			d.log.Warn("settlement is off: set [settle] node to settle served runs on chain")
		}
		return nil
	}
	if d.settle.rpc == nil {
		return errors.New("config: [settle] and [cranks] need rpc_url (offline keepers never settle)")
	}
	commitment, err := cluster.ParseCommitment(d.cfg.Commitment)
	if err != nil {
		return err
	}
	// Their own client, with a timeout per call short enough that a hung
	// RPC node fails a round (retried with backoff) instead of stalling it.
	url, err := cluster.ResolveURL(d.cfg.RPCURL)
	if err != nil {
		return err
	}
	client := rpc.NewWithTimeout(url, 30*time.Second)
	if sc.Node != "" {
		node, err := solana.PublicKeyFromBase58(sc.Node)
		if err != nil {
			return fmt.Errorf("config: settle.node %q: %w", sc.Node, err)
		}
		var operatorAccount solana.PublicKey
		if sc.OperatorAccount != "" {
			if operatorAccount, err = solana.PublicKeyFromBase58(sc.OperatorAccount); err != nil {
				return fmt.Errorf("config: settle.operator_account %q: %w", sc.OperatorAccount, err)
			}
		}
		table := sc.LookupTable == nil || *sc.LookupTable
		s, err := settler.New(settler.Config{
			RPC: client, Commitment: commitment, Journal: d.journal, Keeper: solana.PrivateKey(d.key), Node: node,
			OperatorAccount: operatorAccount, StatePath: statePath(d.cfg), Interval: sc.Interval.Duration,
			MaxEntries: sc.MaxEntries, MaxModels: sc.MaxModels, LookupTable: table, MaxLookupTables: sc.MaxLookupTables, PriorityMicroLamports: sc.PriorityMicroLamports,
			Registry: d.reg, Lag: d.gw.Metrics().SettlementLag, BeforeSettled: d.settle.refresh,
			Clock: d.clock, Logger: d.log.With("component", "settler"),
		})
		if err != nil {
			return err
		}
		// A journal behind the chain (restored from an old copy, truncated,
		// new) would number runs the chain settled already: refuse to
		// start, unless the operator accepts the loss.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = s.CheckJournal(ctx, d.cfg.AcceptJournalLoss)
		cancel()
		if err != nil {
			return err
		}
		d.settle.settler = s
		d.runners = append(d.runners, s.Run)
	}
	if cc := d.cfg.Cranks; cc.Enabled {
		var models []solana.PublicKey
		for _, m := range d.cfg.Models {
			models = append(models, pda.Model(m.ID))
		}
		c, err := cranks.New(cranks.Config{
			RPC: client, Commitment: commitment, Payer: solana.PrivateKey(d.key), Interval: cc.Interval.Duration,
			Jitter: cc.Jitter.Duration, Raises: true, Proposals: true, CheckpointVoters: cc.CheckpointVoters, Models: models,
			PriorityMicroLamports: cc.PriorityMicroLamports, Clock: d.clock, Registry: d.reg, Logger: d.log.With("component", "cranks"),
		})
		if err != nil {
			return err
		}
		d.settle.cranks = true
		d.runners = append(d.runners, c.Run)
	}
	return nil
}

// SettlementStatus is the settlement part of `keeper status`.
type SettlementStatus struct {
	settler.Status
	// ChainKnown is false when the chain could not be asked (ChainLastBatch is then 0).
	ChainKnown bool `json:"chain_known"`
	Cranks     bool `json:"cranks"`
}

func (d *Daemon) settlementStatus() *SettlementStatus {
	if d.settle.settler == nil {
		if d.settle.cranks {
			return &SettlementStatus{Cranks: true}
		}
		return nil
	}
	st := d.settle.settler.Status()
	return &SettlementStatus{Status: st, ChainKnown: st.ChainReadAt != nil, Cranks: d.settle.cranks}
}

// OfflineSettlementStatus reports settlement of a keeper that is not
// running: from its journal file and, when the config names a node and a
// cluster, the node's on-chain last batch.
func OfflineSettlementStatus(ctx context.Context, cfg Config) (*SettlementStatus, error) {
	if cfg.Settle.Node == "" {
		return nil, nil
	}
	j, err := journal.Open(journal.Config{Path: expandHome(cfg.Journal.Path), ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer j.Close()
	st := &SettlementStatus{Status: settler.Status{Node: cfg.Settle.Node, JournalRunSeq: j.HighestRunSeq()}, Cranks: cfg.Cranks.Enabled}
	if st.LocalLastSettled, err = settler.LocalLastSettled(j); err != nil {
		return nil, err
	}
	if lag, err := settler.JournalLag(j, time.Now()); err == nil {
		st.LagSeconds = lag.Seconds()
	}
	if cfg.RPCURL != "" {
		node, err := solana.PublicKeyFromBase58(cfg.Settle.Node)
		if err != nil {
			return st, fmt.Errorf("settle.node: %w", err)
		}
		url, err := cluster.ResolveURL(cfg.RPCURL)
		if err != nil {
			return st, err
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if n, err := settler.ChainNode(cctx, rpc.New(url), node); err == nil {
			st.ChainLastBatch, st.ChainLastRunSeq, st.ChainKnown = n.LastBatchSeq, n.LastRunSeq, true
		} else {
			st.LastError = err.Error()
		}
	}
	return st, nil
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

// settlementRoutes adds /receipts/proofs?escrow=<address> to the admin handler.
func (d *Daemon) settlementRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /receipts/proofs", func(w http.ResponseWriter, r *http.Request) {
		escrow, after, limit, err := receiptsQuery(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		proofs, err := ReceiptProofs(d.journal, escrow, after, limit)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, proofs)
	})
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
		j, err := journal.Open(journal.Config{Path: expandHome(q.Journal), ReadOnly: true})
		if err != nil {
			return nil, err
		}
		defer j.Close()
		return ReceiptProofs(j, q.Escrow, q.After, limit)
	}
	return nil, errors.New("receipt proofs need a gateway URL and API key, the keeper's admin address or its journal file")
}

// ProofCheck is a receipt verified against the root its batch recorded on chain.
type ProofCheck struct {
	RunID    string `json:"run_id"`
	BatchSeq uint64 `json:"batch_seq,omitempty"`
	// Status: "verified" (the receipt is a leaf of the root the settle
	// transaction recorded on chain), "pending" (not settled yet),
	// "unchecked" (no cluster to ask) or "failed" (see Error).
	Status      string          `json:"status"`
	Proof       *receipts.Proof `json:"proof,omitempty"`
	Root        string          `json:"root,omitempty"`
	OnChainRoot string          `json:"on_chain_root,omitempty"`
	Signature   string          `json:"settled_signature,omitempty"`
	Error       string          `json:"error,omitempty"`
}

// CheckProofs verifies each receipt (already signature-checked) against
// its Merkle proof and the root its batch's settle transaction recorded on
// chain, read with client (nil: only the keeper's root is checked). The
// proof is checked with keepers/receipts alone: SHA-256 leaves and nodes
// as RFC 6962, no other dependency.
func CheckProofs(ctx context.Context, client *rpc.Client, verified []Verified, proofs []ReceiptProof) []ProofCheck {
	byRun := map[string]ReceiptProof{}
	for _, p := range proofs {
		byRun[p.RunID] = p
	}
	type onChain struct {
		root [32]byte
		err  error
	}
	roots := map[string]onChain{}
	out := make([]ProofCheck, 0, len(verified))
	for _, v := range verified {
		r := v.Signed.Receipt
		c := ProofCheck{RunID: r.RunID.String(), Status: "pending"}
		p, ok := byRun[c.RunID]
		if !ok {
			out = append(out, c)
			continue
		}
		proof := p.Proof
		c.BatchSeq, c.Proof, c.Root, c.Signature = p.BatchSeq, &proof, p.Root, p.SettledSignature
		leaf := receipts.LeafHash(v.Signed.Encoded)
		var keeperRoot receipts.Hash
		if b, err := hex.DecodeString(p.Root); err != nil || len(b) != 32 {
			c.Status, c.Error = "failed", "bad root"
			out = append(out, c)
			continue
		} else {
			copy(keeperRoot[:], b)
		}
		if err := receipts.VerifyProof(keeperRoot, leaf, proof); err != nil {
			c.Status, c.Error = "failed", "proof does not lead to the keeper's batch root: "+err.Error()
			out = append(out, c)
			continue
		}
		if p.SettledSignature == "" || p.BatchState != string(journal.BatchSettled) {
			out = append(out, c)
			continue
		}
		if client == nil {
			c.Status = "unchecked"
			out = append(out, c)
			continue
		}
		oc, ok := roots[p.SettledSignature]
		if !ok {
			oc.root, oc.err = settledRoot(ctx, client, p.SettledSignature, p.BatchSeq, r.Keeper)
			roots[p.SettledSignature] = oc
		}
		if oc.err != nil {
			c.Status, c.Error = "failed", oc.err.Error()
			out = append(out, c)
			continue
		}
		c.OnChainRoot = hex.EncodeToString(oc.root[:])
		if err := receipts.VerifyProof(oc.root, leaf, proof); err != nil {
			c.Status, c.Error = "failed", "proof does not lead to the on-chain root: "+err.Error()
		} else {
			c.Status = "verified"
		}
		out = append(out, c)
	}
	return out
}

// settledRoot reads the receipts root that transaction sig recorded for
// batch seq, signed by keeper.
func settledRoot(ctx context.Context, client *rpc.Client, sig string, seq uint64, keeper [32]byte) ([32]byte, error) {
	s, err := solana.SignatureFromBase58(sig)
	if err != nil {
		return [32]byte{}, fmt.Errorf("settled signature %q: %w", sig, err)
	}
	payloads, err := events.Fetch(ctx, client, s, im.ProgramID)
	if err != nil {
		return [32]byte{}, err
	}
	for _, p := range payloads {
		ev, err := im.ParseEvent_BatchSettled(p)
		if err != nil {
			continue
		}
		if ev.BatchSeq == seq && ev.Keeper == solana.PublicKeyFromBytes(keeper[:]) {
			return ev.ReceiptsRoot, nil
		}
	}
	return [32]byte{}, fmt.Errorf("transaction %s settled no batch %d of keeper %s", sig, seq, solana.PublicKeyFromBytes(keeper[:]))
}
