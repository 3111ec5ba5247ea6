package settler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/programerr"
	"github.com/modelcommons/modelcommons/clients/txsend"
)

// verdict is what a failed settle attempt means for its batch.
type verdict int

const (
	// vTransient: the same content may land later (clock, fee payer, load).
	vTransient verdict = iota
	// vPermanent: this content can never land; rebuild it once no
	// transaction of the batch can land any more.
	vPermanent
	// vSettled: the sequence number is already settled on chain.
	vSettled
	// vGap: the chain is behind the journal (BatchSeqGap).
	vGap
	// vExpired: the blockhash is no longer valid.
	vExpired
	// vNode: the node cannot settle now (keeper key, status, stake, fee payer).
	vNode
)

func (v verdict) String() string {
	return [...]string{"transient", "permanent", "settled", "gap", "expired", "node"}[v]
}

// failure is a classified settle failure.
type failure struct {
	verdict verdict
	// Named is the program error, when one was named.
	Named *programerr.Error
	Raw   any
}

func (f *failure) Error() string {
	if f.Named != nil {
		return fmt.Sprintf("%s (%s)", f.Named.Error(), f.verdict)
	}
	raw, _ := json.Marshal(f.Raw)
	return fmt.Sprintf("%s (%s)", raw, f.verdict)
}

func (f *failure) Unwrap() error {
	if f.Named == nil {
		return nil
	}
	return f.Named
}

// classify names a runtime error of a settle transaction (raw as the RPC
// returns it) and says what it means for the batch.
func classify(raw any, topLevel []solana.PublicKey, logs []string) *failure {
	f := &failure{Raw: raw}
	if program, code, ok := txsend.FailingProgram(raw, topLevel, logs); ok {
		switch {
		case program.Equals(im.ProgramID):
			f.Named = programerr.Lookup(im.Errors, code)
		case program.Equals(mt.ProgramID):
			f.Named = programerr.Lookup(mt.Errors, code)
		}
		switch {
		case errors.Is(f, im.ErrBatchAlreadySettled):
			f.verdict = vSettled
		case errors.Is(f, im.ErrBatchSeqGap):
			f.verdict = vGap
		case errors.Is(f, im.ErrNotNodeKeeper), errors.Is(f, im.ErrNodeInactive), errors.Is(f, im.ErrNodeUnbonding), errors.Is(f, im.ErrInsufficientStake):
			f.verdict = vNode
		case errors.Is(f, im.ErrServedInFuture):
			f.verdict = vTransient
		default:
			// Our programs' and Anchor's account checks (a closed escrow is
			// not an Escrow any more), token program failures: this content
			// fails the same way every time.
			f.verdict = vPermanent
		}
		return f
	}
	switch r := raw.(type) {
	case string:
		switch r {
		case "BlockhashNotFound":
			f.verdict = vExpired
		case "InsufficientFundsForFee", "AccountNotFound", "InsufficientFundsForRent":
			f.verdict = vNode
		case "TooManyAccountLocks", "AccountLoadedTwice", "InvalidAccountIndex", "AddressLookupTableNotFound",
			"InvalidAddressLookupTableIndex", "InvalidAddressLookupTableOwner", "InvalidAddressLookupTableData":
			f.verdict = vPermanent
		default:
			f.verdict = vTransient // AlreadyProcessed, cost limits, …: look again
		}
	case map[string]any:
		if _, ok := r["InstructionError"]; ok {
			f.verdict = vPermanent // a non-custom instruction error (budget exceeded, invalid account data, …)
		} else {
			f.verdict = vTransient
		}
	default:
		f.verdict = vTransient
	}
	return f
}

// buildTx signs the batch's transaction with blockhash.
func (s *Settler) buildTx(p *Plan, blockhash solana.Hash) (*solana.Transaction, []byte, error) {
	ixs := s.budget(p.ComputeUnits)
	ixs = append(ixs, p.Instruction())
	opts := []solana.TransactionOption{solana.TransactionPayer(s.keeper)}
	if len(p.Tables) > 0 {
		tables, err := s.tables.forPlan(p.Tables)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, solana.TransactionAddressTables(tables))
	}
	tx, err := solana.NewTransaction(ixs, blockhash, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("build batch %d: %w", p.Seq, err)
	}
	key := s.cfg.Keeper
	if _, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey {
		if k.Equals(s.keeper) {
			return &key
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("sign batch %d: %w", p.Seq, err)
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		return nil, nil, fmt.Errorf("serialize batch %d: %w", p.Seq, err)
	}
	if len(raw) > MaxTxBytes {
		return nil, nil, fmt.Errorf("batch %d: %d bytes: %w", p.Seq, len(raw), errNotFit)
	}
	return tx, raw, nil
}

// simulate runs tx without sending; a failure is returned classified.
func (s *Settler) simulate(ctx context.Context, tx *solana.Transaction) (uint64, error) {
	res, err := s.rpc.SimulateTransactionWithOpts(ctx, tx, &rpc.SimulateTransactionOpts{SigVerify: false, Commitment: s.cfg.Commitment})
	if err != nil {
		return 0, fmt.Errorf("simulate: %w", err)
	}
	if res.Value.Err != nil {
		return 0, classify(res.Value.Err, programIDs(tx), res.Value.Logs)
	}
	if res.Value.UnitsConsumed == nil {
		return 0, nil
	}
	return *res.Value.UnitsConsumed, nil
}

// unitLimit adds a margin to simulated units.
func unitLimit(consumed uint64) uint32 {
	return uint32(min(consumed+consumed/5+10_000, txsend.MaxComputeUnits))
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
