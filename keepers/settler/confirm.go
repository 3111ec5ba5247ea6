package settler

import (
	"context"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/keepers/journal"
)

// confirm waits for send and acts on the outcome.
func (s *Settler) confirm(ctx context.Context, b journal.Batch, plan *Plan, send Send) error {
	res, st, err := s.await(ctx, plan, send)
	switch res {
	case awaitLanded:
		return s.retireSettled(ctx, b)
	case awaitFailed:
		if stop, err := s.onFailed(ctx, b, plan, send, st); stop {
			return err
		}
		return nil // the next round signs it again
	case awaitExpired:
		s.metrics.failures.WithLabelValues("expired").Inc()
		return nil // the next round re-checks and signs it again
	}
	if err != nil {
		return err
	}
	return nil
}

// awaitResult is how waiting for a send ended.
type awaitResult int

const (
	awaitLanded awaitResult = iota
	awaitFailed
	awaitExpired
	awaitPending // still valid, not seen yet: look again next round
)

// await polls send's signature until it lands or fails, its blockhash
// expires without it (checked once more after expiry), or AwaitTimeout
// passes. It rebroadcasts the same bytes every RebroadcastInterval, as a
// wallet does, since a leader may drop a transaction.
func (s *Settler) await(ctx context.Context, p *Plan, send Send) (awaitResult, sigStatus, error) {
	deadline := time.Now().Add(s.cfg.AwaitTimeout)
	lastBroadcast := time.Now()
	tx, err := solana.TransactionFromBytes(send.Tx)
	if err != nil {
		return awaitPending, sigStatus{}, fmt.Errorf("batch %d: stored transaction: %w", p.Seq, err)
	}
	for {
		st, err := s.statuses(ctx, []solana.Signature{send.Signature})
		if err == nil && st[0].Landed {
			if st[0].Err != nil {
				return awaitFailed, st[0], nil
			}
			return awaitLanded, st[0], nil
		}
		if err == nil {
			height, herr := s.rpc.GetBlockHeight(ctx, s.cfg.Commitment)
			if herr == nil && height > send.LastValid {
				st, err := s.statuses(ctx, []solana.Signature{send.Signature})
				if err != nil {
					return awaitPending, sigStatus{}, err
				}
				if st[0].Landed {
					if st[0].Err != nil {
						return awaitFailed, st[0], nil
					}
					return awaitLanded, st[0], nil
				}
				return awaitExpired, sigStatus{}, nil
			}
		}
		if time.Now().After(deadline) {
			return awaitPending, sigStatus{}, err
		}
		if time.Since(lastBroadcast) >= s.cfg.RebroadcastInterval {
			lastBroadcast = time.Now()
			if berr := s.broadcast(ctx, send.Tx, tx); berr != nil {
				s.log.Debug("rebroadcast", "batch", p.Seq, "signature", send.Signature, "err", berr)
			} else {
				s.metrics.sends.WithLabelValues("rebroadcast").Inc()
			}
		}
		select {
		case <-ctx.Done():
			return awaitPending, sigStatus{}, ctx.Err()
		case <-time.After(s.cfg.PollInterval):
		}
	}
}

// onFailed handles a transaction of the batch that landed and failed.
// stop is true when the round ends here.
func (s *Settler) onFailed(ctx context.Context, b journal.Batch, plan *Plan, send Send, st sigStatus) (stop bool, err error) {
	f := s.classifyLanded(ctx, send, st)
	switch f.verdict {
	case vPermanent:
		return true, s.retireFailed(b, fmt.Sprintf("transaction %s failed: %v", send.Signature, f))
	case vSettled:
		return true, nil // the next round concludes it
	case vGap:
		return true, fmt.Errorf("%w: batch %d: %v", ErrDiverged, b.Seq, f)
	}
	s.log.Warn("batch transaction failed; it will be signed again", "batch", b.Seq, "signature", send.Signature, "err", f)
	return false, nil
}

// classifyLanded names the failure of a landed transaction from its logs.
func (s *Settler) classifyLanded(ctx context.Context, send Send, st sigStatus) *failure {
	var top []solana.PublicKey
	if tx, err := solana.TransactionFromBytes(send.Tx); err == nil {
		top = programIDs(tx)
	}
	var logs []string
	v := uint64(0)
	if res, err := s.rpc.GetTransaction(ctx, send.Signature, &rpc.GetTransactionOpts{
		Encoding: solana.EncodingBase64, Commitment: s.cfg.Commitment, MaxSupportedTransactionVersion: &v,
	}); err == nil && res != nil && res.Meta != nil {
		logs = res.Meta.LogMessages
	}
	return classify(st.Err, top, logs)
}

// recoverWithoutPlan handles a sent batch whose plan is missing from the
// state file (deleted or restored from an old copy): it cannot be re-sent
// as it was, so it is failed once every transaction the journal recorded
// for it has expired unseen.
func (s *Settler) recoverWithoutPlan(ctx context.Context, b journal.Batch) error {
	sigs := sentSignatures(b, nil)
	sts, err := s.statuses(ctx, sigs)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.Landed && st.Err == nil {
			return s.retireSettled(ctx, b)
		}
	}
	height, err := s.rpc.GetBlockHeight(ctx, s.cfg.Commitment)
	if err != nil {
		return fmt.Errorf("block height: %w", err)
	}
	if height <= b.LastValidBlockHeight {
		return fmt.Errorf("batch %d was sent but its plan is missing from %s; waiting for its last transaction to expire (block height %d of %d)",
			b.Seq, s.cfg.StatePath, height, b.LastValidBlockHeight)
	}
	if sts, err = s.statuses(ctx, sigs); err != nil {
		return err
	}
	for _, st := range sts {
		if st.Landed && st.Err == nil {
			return s.retireSettled(ctx, b)
		}
	}
	return s.retireFailed(b, "plan missing from the state file; every transaction expired unseen")
}

// sigStatus is what the chain says about one signature.
type sigStatus struct {
	Sig    solana.Signature
	Landed bool
	Slot   uint64
	// Err is the runtime error of a transaction that landed and failed.
	Err any
}

// statuses looks the signatures up, searching the node's history.
func (s *Settler) statuses(ctx context.Context, sigs []solana.Signature) ([]sigStatus, error) {
	out := make([]sigStatus, 0, len(sigs))
	for start := 0; start < len(sigs); start += 256 {
		chunk := sigs[start:min(start+256, len(sigs))]
		res, err := s.rpc.GetSignatureStatuses(ctx, true, chunk...)
		if err != nil {
			return nil, fmt.Errorf("signature statuses: %w", err)
		}
		if len(res.Value) != len(chunk) {
			return nil, fmt.Errorf("signature statuses: %d answers for %d signatures", len(res.Value), len(chunk))
		}
		for i, st := range res.Value {
			ss := sigStatus{Sig: chunk[i]}
			if st != nil && reached(st.ConfirmationStatus, s.cfg.Commitment) {
				ss.Landed, ss.Slot, ss.Err = true, st.Slot, st.Err
			}
			out = append(out, ss)
		}
	}
	return out, nil
}

func reached(got rpc.ConfirmationStatusType, want rpc.CommitmentType) bool {
	rank := map[string]int{"processed": 0, "confirmed": 1, "finalized": 2}
	return rank[string(got)] >= rank[string(want)]
}
