package keeperapi

import (
	"context"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
	"github.com/modelcommons/modelcommons/keepers/settler"
)

// OfflineSettlementStatus reports settlement of a keeper that is not
// running: from its journal file and, when the config names a node and a
// cluster, the node's on-chain last batch.
func OfflineSettlementStatus(ctx context.Context, cfg keeperconfig.Config) (*SettlementStatus, error) {
	if cfg.Settle.Node == "" {
		return nil, nil
	}
	j, err := journal.Open(journal.Config{Path: cluster.ExpandHome(cfg.Journal.Path), ReadOnly: true})
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
