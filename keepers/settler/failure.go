package settler

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"

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
