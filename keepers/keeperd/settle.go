package keeperd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/keepers/cranks"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/keeperapi"
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
	lag     prometheus.Gauge // keeper_settlement_lag_seconds, registered by New
	member  *domainMember    // domain.go; nil outside a domain
}

// statePath is the settler's state file for cfg.
func statePath(cfg Config) string {
	if cfg.Settle.StatePath != "" {
		return cluster.ExpandHome(cfg.Settle.StatePath)
	}
	return cluster.ExpandHome(cfg.Journal.Path) + ".settler.json"
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
		lctx, lcancel := context.WithTimeout(context.Background(), 20*time.Second)
		domainLane, err := d.settle.member.settleLane(lctx, client, commitment, d.cfg.Domain.FeeAccount)
		lcancel()
		if err != nil {
			return err
		}
		s, err := settler.New(settler.Config{Domain: domainLane,
			RPC: client, Commitment: commitment, Journal: d.journal, Keeper: solana.PrivateKey(d.key), Node: node,
			OperatorAccount: operatorAccount, StatePath: statePath(d.cfg), Interval: sc.Interval.Duration,
			MaxEntries: sc.MaxEntries, MaxModels: sc.MaxModels, LookupTable: table, MaxLookupTables: sc.MaxLookupTables, PriorityMicroLamports: sc.PriorityMicroLamports,
			Registry: d.reg, Lag: d.settle.lag, BeforeSettled: d.settle.refresh,
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

func (d *Daemon) settlementStatus() *keeperapi.SettlementStatus {
	if d.settle.settler == nil {
		if d.settle.cranks {
			return &keeperapi.SettlementStatus{Cranks: true}
		}
		return nil
	}
	st := d.settle.settler.Status()
	return &keeperapi.SettlementStatus{Status: st, ChainKnown: st.ChainReadAt != nil, Cranks: d.settle.cranks}
}

// OfflineSettlementStatus reports settlement of a keeper that is not
// running: from its journal file and, when the config names a node and a
// cluster, the node's on-chain last batch.
func OfflineSettlementStatus(ctx context.Context, cfg Config) (*keeperapi.SettlementStatus, error) {
	if cfg.Settle.Node == "" {
		return nil, nil
	}
	j, err := journal.Open(journal.Config{Path: cluster.ExpandHome(cfg.Journal.Path), ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer j.Close()
	st := &keeperapi.SettlementStatus{Status: settler.Status{Node: cfg.Settle.Node, JournalRunSeq: j.HighestRunSeq()}, Cranks: cfg.Cranks.Enabled}
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

// settlementRoutes adds /receipts/proofs?escrow=<address> to the admin handler.
func (d *Daemon) settlementRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /receipts/proofs", func(w http.ResponseWriter, r *http.Request) {
		escrow, after, limit, err := receiptsQuery(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		proofs, err := keeperapi.ReceiptProofs(d.journal, escrow, after, limit)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, proofs)
	})
}
