package settlement

import (
	"bytes"
	"fmt"
	"reflect"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
)

// SettleNamedAccounts is the number of named accounts of the settle
// instruction; each model's three accounts, then the escrows, follow them.
const SettleNamedAccounts = 16

// DecodeSettle reads the layout (arguments, models and escrows) of the
// settle instruction in tx, whose account keys are tx's static keys
// followed by loaded, the addresses its lookup tables loaded (writable,
// then read-only). ok is false when tx holds no settle instruction.
// Entries are left encoded in Args.
func DecodeSettle(tx *solana.Transaction, loaded solana.PublicKeySlice) (l *Layout, ok bool, err error) {
	keys := append(append(solana.PublicKeySlice{}, tx.Message.AccountKeys...), loaded...)
	key := func(i uint16) (solana.PublicKey, error) {
		if int(i) >= len(keys) {
			return solana.PublicKey{}, fmt.Errorf("account index %d of %d", i, len(keys))
		}
		return keys[i], nil
	}
	for _, ix := range tx.Message.Instructions {
		prog, err := key(ix.ProgramIDIndex)
		if err != nil || !prog.Equals(meter.ProgramID) || len(ix.Data) < 8 || !bytes.Equal(ix.Data[:8], meter.Instruction_Settle[:]) {
			continue
		}
		var args meter.SettleArgs
		if err := args.Unmarshal(ix.Data[8:]); err != nil {
			return nil, false, fmt.Errorf("settle arguments: %w", err)
		}
		if len(ix.Accounts) < SettleNamedAccounts+3*int(args.ModelCount) {
			return nil, false, fmt.Errorf("settle: %d accounts for %d models", len(ix.Accounts), args.ModelCount)
		}
		rest := ix.Accounts[SettleNamedAccounts:]
		l = &Layout{Args: args}
		domain, err := key(ix.Accounts[settleDomainAccounts+1])
		if err != nil {
			return nil, false, fmt.Errorf("settle domain: %w", err)
		}
		if !domain.Equals(meter.ProgramID) {
			account, err := key(ix.Accounts[settleDomainAccounts+2])
			if err != nil {
				return nil, false, fmt.Errorf("settle domain account: %w", err)
			}
			if account.Equals(meter.ProgramID) {
				// Left out: the node operator's account takes the fee too.
				if account, err = key(ix.Accounts[settleOperatorAccount]); err != nil {
					return nil, false, fmt.Errorf("settle operator account: %w", err)
				}
			}
			l.Domain = &DomainLane{Domain: domain, OperatorAccount: account}
		}
		for i := 0; i < int(args.ModelCount); i++ {
			k, err := key(rest[3*i])
			if err != nil {
				return nil, false, fmt.Errorf("settle model %d: %w", i, err)
			}
			l.Models = append(l.Models, k)
		}
		for i, idx := range rest[3*int(args.ModelCount):] {
			k, err := key(idx)
			if err != nil {
				return nil, false, fmt.Errorf("settle escrow %d: %w", i, err)
			}
			l.Escrows = append(l.Escrows, k)
		}
		ok = true
	}
	return l, ok, nil
}

// CheckOutcome compares a predicted outcome (Settle) with the program's
// BatchSettled event field by field: the totals, every escrow's debit,
// every model's credit and every shortfall entry. nil means they agree to
// the base unit.
func CheckOutcome(p *Outcome, ev *meter.BatchSettled) error {
	type totals struct{ Entries, Runs, In, Out, Cost, Charged, Protocol, Operator, Domain, Models, Shortfall uint64 }
	want := totals{uint64(p.Entries), p.Runs, p.InputTokens, p.OutputTokens, p.Cost, p.Charged, p.ToProtocol, p.ToOperator, p.ToDomain, p.ToModels, p.Shortfall}
	got := totals{uint64(ev.Entries), ev.Runs, ev.InputTokens, ev.OutputTokens, ev.Cost, ev.Charged, ev.ToProtocol, ev.ToOperator, ev.ToDomain, ev.ToModels, ev.Shortfall}
	if got != want {
		return fmt.Errorf("batch %d totals: program %+v, predicted %+v", ev.BatchSeq, got, want)
	}
	var escrows []EscrowDebit
	for _, d := range ev.Escrows {
		escrows = append(escrows, EscrowDebit{Escrow: d.Escrow, Charged: d.Charged, Shortfall: d.Shortfall})
	}
	var models []ModelCredit
	for _, m := range ev.Models {
		models = append(models, ModelCredit{Model: m.Model, Charged: m.Charged, Revenue: m.Revenue})
	}
	var shortfalls []EntryShortfall
	for _, s := range ev.Shortfalls {
		shortfalls = append(shortfalls, EntryShortfall{Entry: s.Entry, Escrow: s.Escrow, Cost: s.Cost, Charged: s.Charged})
	}
	if !reflect.DeepEqual(escrows, p.Escrows) || !reflect.DeepEqual(models, p.Models) || !reflect.DeepEqual(shortfalls, p.Shortfalls) {
		return fmt.Errorf("batch %d parts differ:\nprogram   %+v %+v %+v\npredicted %+v %+v %+v", ev.BatchSeq, escrows, models, shortfalls, p.Escrows, p.Models, p.Shortfalls)
	}
	return nil
}
