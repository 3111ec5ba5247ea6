package settler

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"

	"github.com/modelcommons/modelcommons/keepers/journal"
)

// advance looks at what was sent for the batch and re-sends it as it is,
// waits for it, or — when it is known not to have landed — either signs
// the same instruction anew or, if it can never land, fails the batch.
func (s *Settler) advance(ctx context.Context, v *view, b journal.Batch, plan *Plan) error {
	latest := plan.Latest()
	// The journal lists every transaction of the batch (a crash may have
	// come between the state file and MarkSent).
	for _, send := range plan.Sends {
		if !slices.Contains(b.TxSignatures, send.Signature.String()) {
			if err := s.journal.MarkSent(b.Seq, send.Signature.String(), send.LastValid); err != nil {
				return fmt.Errorf("mark batch %d sent: %w", b.Seq, err)
			}
		}
	}
	if latest != nil {
		sts, err := s.statuses(ctx, plan.Signatures())
		if err != nil {
			return err
		}
		for _, st := range sts {
			if st.Landed && st.Err == nil {
				return s.retireSettled(ctx, b)
			}
		}
		last := sts[len(sts)-1]
		if last.Landed {
			// The latest transaction failed on chain; the earlier ones were
			// dead before it was signed.
			if stop, err := s.onFailed(ctx, b, plan, *latest, last); stop {
				return err
			}
		} else {
			height, err := s.rpc.GetBlockHeight(ctx, s.cfg.Commitment)
			if err != nil {
				return fmt.Errorf("block height: %w", err)
			}
			if height <= latest.LastValid {
				// Still valid: re-send the same bytes and wait for it.
				tx, err := solana.TransactionFromBytes(latest.Tx)
				if err != nil {
					return fmt.Errorf("batch %d: stored transaction: %w", b.Seq, err)
				}
				if err := s.broadcast(ctx, latest.Tx, tx); err != nil {
					s.log.Debug("re-send of a batch transaction", "batch", b.Seq, "err", err)
				} else {
					s.metrics.sends.WithLabelValues("rebroadcast").Inc()
				}
				return s.confirm(ctx, b, plan, *latest)
			}
			// Expired: unless it landed meanwhile, it never will.
			sts, err := s.statuses(ctx, []solana.Signature{latest.Signature})
			if err != nil {
				return err
			}
			if sts[0].Landed {
				if sts[0].Err == nil {
					return s.retireSettled(ctx, b)
				}
				if stop, err := s.onFailed(ctx, b, plan, *latest, sts[0]); stop {
					return err
				}
			}
			s.log.Info("batch transaction expired unseen; signing the same batch with a new blockhash", "batch", b.Seq, "signature", latest.Signature)
		}
	}
	return s.sendNew(ctx, b, plan)
}

// sendNew signs the batch's instruction with a fresh blockhash, records
// the transaction (state file, then journal) and only then sends it.
// Every earlier transaction of the batch is dead when this runs.
func (s *Settler) sendNew(ctx context.Context, b journal.Batch, plan *Plan) error {
	bh, err := s.rpc.GetLatestBlockhash(ctx, s.cfg.Commitment)
	if err != nil {
		return fmt.Errorf("latest blockhash: %w", err)
	}
	tx, raw, err := s.buildTx(plan, bh.Value.Blockhash)
	if err != nil {
		return err
	}
	if _, err := s.simulate(ctx, tx); err != nil {
		var f *failure
		if errors.As(err, &f) {
			switch f.verdict {
			case vPermanent:
				return s.retireFailed(b, fmt.Sprintf("simulation: %v", f))
			case vSettled:
				return nil // landed meanwhile (another of its transactions); the next round concludes it
			case vGap:
				return fmt.Errorf("%w: batch %d: %v", ErrDiverged, b.Seq, f)
			}
		}
		return fmt.Errorf("batch %d: %w", b.Seq, err)
	}
	send := Send{Signature: tx.Signatures[0], LastValid: bh.Value.LastValidBlockHeight, Tx: raw, SignedAt: s.cfg.Now().UTC()}
	kind := "first"
	if len(plan.Sends) > 0 {
		kind = "resend"
	}
	if err := s.store.addSend(b.Seq, send); err != nil {
		return err
	}
	if err := s.journal.MarkSent(b.Seq, send.Signature.String(), send.LastValid); err != nil {
		return fmt.Errorf("mark batch %d sent: %w", b.Seq, err)
	}
	plan.Sends = append(plan.Sends, send)
	if err := s.checkpoint(PointSigned, b.Seq); err != nil {
		return err
	}
	if err := s.broadcast(ctx, raw, tx); err != nil {
		var f *failure
		if errors.As(err, &f) && f.verdict == vSettled {
			return nil
		}
		// Refused in preflight or lost on the way: either way it may yet
		// land (or be re-sent) until its blockhash expires.
		s.log.Warn("sending a batch transaction failed; waiting for it anyway", "batch", b.Seq, "signature", send.Signature, "err", err)
	} else {
		s.metrics.sends.WithLabelValues(kind).Inc()
	}
	if err := s.checkpoint(PointSent, b.Seq); err != nil {
		return err
	}
	return s.confirm(ctx, b, plan, send)
}

// broadcast puts raw on the wire. A preflight refusal is returned
// classified; any other error leaves it unknown whether the RPC node
// forwarded the transaction.
func (s *Settler) broadcast(ctx context.Context, raw []byte, tx *solana.Transaction) error {
	_, err := s.rpc.SendRawTransactionWithOpts(ctx, raw, rpc.TransactionOpts{PreflightCommitment: s.cfg.Commitment})
	if err == nil {
		return nil
	}
	var rpcErr *jsonrpc.RPCError
	if errors.As(err, &rpcErr) && rpcErr.Code == -32002 {
		data, _ := rpcErr.Data.(map[string]any)
		var logs []string
		if data != nil {
			if ls, ok := data["logs"].([]any); ok {
				for _, l := range ls {
					if s, ok := l.(string); ok {
						logs = append(logs, s)
					}
				}
			}
			return classify(data["err"], programIDs(tx), logs)
		}
		return classify(nil, nil, nil)
	}
	return fmt.Errorf("send transaction: %w", err)
}

func programIDs(tx *solana.Transaction) []solana.PublicKey {
	out := make([]solana.PublicKey, len(tx.Message.Instructions))
	for i, ix := range tx.Message.Instructions {
		if id, err := tx.Message.Program(ix.ProgramIDIndex); err == nil {
			out[i] = id
		}
	}
	return out
}
