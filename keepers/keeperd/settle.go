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
	"github.com/modelcommons/modelcommons/keepers/keeperapi"
	"github.com/modelcommons/modelcommons/keepers/settler"
)

// settleParts are the daemon's settlement and cranks.
type settleParts struct {
	rpc     *rpc.Client // the gateway's: set when the keeper runs on a chain
	refresh func(context.Context, []solana.PublicKey) error
	settler *settler.Settler
	cranks  bool
	lag     prometheus.Gauge // keeper_settlement_lag_seconds, registered by New
	member  *domainMember    // domain.go; nil outside a domain
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
			OperatorAccount: operatorAccount, StatePath: d.cfg.SettlerStatePath(), Interval: sc.Interval.Duration,
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
			Jitter: cc.Jitter.Duration, Raises: true, Proposals: true, Bounties: true, CheckpointVoters: cc.CheckpointVoters, Models: models,
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

// settlementRoutes adds /receipts/proofs?escrow=<address> to the admin handler.
func (d *Daemon) settlementRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /receipts/proofs", func(w http.ResponseWriter, r *http.Request) {
		escrow, after, limit, err := keeperapi.ParseReceiptsQuery(r)
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
