package settlement

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/events"
	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
)

// Settled is one settle transaction as the chain recorded it: the
// program's BatchSettled event and the layout the keeper sent.
type Settled struct {
	Sig    solana.Signature
	Slot   uint64
	Time   int64 // block time, unix seconds (0 when the node does not know it)
	Event  *meter.BatchSettled
	Layout *Layout
}

// ReadSettled reads transaction sig and, if it settled a batch of node,
// returns it (ok false for any other transaction).
func ReadSettled(ctx context.Context, client *rpc.Client, node solana.PublicKey, sig solana.Signature) (Settled, bool, error) {
	v := uint64(0)
	res, err := client.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed, MaxSupportedTransactionVersion: &v})
	if err != nil {
		return Settled{}, false, fmt.Errorf("get transaction %s: %w", sig, err)
	}
	tx, err := res.Transaction.GetTransaction()
	if err != nil {
		return Settled{}, false, fmt.Errorf("decode transaction %s: %w", sig, err)
	}
	var loaded solana.PublicKeySlice
	if res.Meta != nil {
		loaded = append(append(loaded, res.Meta.LoadedAddresses.Writable...), res.Meta.LoadedAddresses.ReadOnly...)
	}
	layout, ok, err := DecodeSettle(tx, loaded)
	if err != nil {
		return Settled{}, false, fmt.Errorf("transaction %s: %w", sig, err)
	}
	if !ok {
		return Settled{}, false, nil
	}
	payloads, err := events.Fetch(ctx, client, sig, meter.ProgramID)
	if err != nil {
		return Settled{}, false, err
	}
	for _, p := range payloads {
		if ev, err := meter.ParseEvent_BatchSettled(p); err == nil && ev.Node.Equals(node) {
			bt := int64(0)
			if res.BlockTime != nil {
				bt = int64(*res.BlockTime)
			}
			return Settled{Sig: sig, Slot: res.Slot, Time: bt, Event: ev, Layout: layout}, true, nil
		}
	}
	return Settled{}, false, fmt.Errorf("settle transaction %s has no BatchSettled event", sig)
}

// SettledBatches reads every batch node settled from its transaction
// history, by sequence number. A sequence number settled twice is an error.
func SettledBatches(ctx context.Context, client *rpc.Client, node solana.PublicKey) (map[uint64]Settled, error) {
	out := map[uint64]Settled{}
	var before solana.Signature
	limit := 1000
	for {
		opts := &rpc.GetSignaturesForAddressOpts{Limit: &limit, Commitment: rpc.CommitmentConfirmed}
		if !before.IsZero() {
			opts.Before = before
		}
		sigs, err := client.GetSignaturesForAddressWithOpts(ctx, node, opts)
		if err != nil {
			return nil, fmt.Errorf("node history: %w", err)
		}
		for _, info := range sigs {
			before = info.Signature
			if info.Err != nil {
				continue
			}
			st, ok, err := ReadSettled(ctx, client, node, info.Signature)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if prev, dup := out[st.Event.BatchSeq]; dup {
				return nil, fmt.Errorf("batch %d settled twice: %s and %s", st.Event.BatchSeq, prev.Sig, st.Sig)
			}
			out[st.Event.BatchSeq] = st
		}
		if len(sigs) < limit {
			return out, nil
		}
	}
}
