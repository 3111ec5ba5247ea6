package settlement

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
)

// A settle instruction built by Instruction decodes back to its layout,
// whether its accounts are static or loaded from a lookup table.
func TestDecodeSettleReadsBackWhatInstructionBuilt(t *testing.T) {
	escrows := []solana.PublicKey{solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()}
	models := []solana.PublicKey{solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()}
	l, err := Build(7, [32]byte{1}, Runs{First: 1, Last: 3}, []Entry{
		Single(escrows[0], models[0], 1, 100, 10, 1_000),
		Single(escrows[1], models[1], 2, 200, 20, 1_001),
	})
	if err != nil {
		t.Fatal(err)
	}
	keeper := solana.NewWallet()
	n := Node{Keeper: keeper.PublicKey(), Operator: solana.NewWallet().PublicKey(), OperatorAccount: solana.NewWallet().PublicKey(),
		NativeMint: solana.NewWallet().PublicKey(), TokenProgram: solana.TokenProgramID}
	ix, err := Instruction(n, l)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := solana.NewTransaction([]solana.Instruction{ix}, solana.Hash{}, solana.TransactionPayer(keeper.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := DecodeSettle(tx, nil)
	if err != nil || !ok {
		t.Fatalf("decode: ok %v, %v", ok, err)
	}
	if !reflect.DeepEqual(got.Args, l.Args) || !reflect.DeepEqual(got.Models, l.Models) || !reflect.DeepEqual(got.Escrows, l.Escrows) {
		t.Fatalf("decoded %+v\nbuilt   %+v", got, l)
	}

	// Without a settle instruction there is nothing to decode.
	other, _ := solana.NewTransaction([]solana.Instruction{solana.NewInstruction(meter.ProgramID, nil, []byte{1, 2, 3, 4, 5, 6, 7, 8})}, solana.Hash{}, solana.TransactionPayer(keeper.PublicKey()))
	if _, ok, err := DecodeSettle(other, nil); ok || err != nil {
		t.Fatalf("not a settle: ok %v, %v", ok, err)
	}
	// An account index past the keys is an error, not a panic.
	tx.Message.Instructions[0].Accounts[SettleNamedAccounts] = 999
	if _, _, err := DecodeSettle(tx, nil); err == nil {
		t.Fatal("an out-of-range account index was accepted")
	}
}

// CheckOutcome accepts the program's event for the predicted outcome and
// names any difference, shortfalls included (not only their number).
func TestCheckOutcomeComparesEveryPart(t *testing.T) {
	escrow, model := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	p := &Outcome{Entries: 1, Runs: 2, Cost: 30, Charged: 20, Shortfall: 10, ToModels: 20,
		Escrows:    []EscrowDebit{{Escrow: escrow, Charged: 20, Shortfall: 10}},
		Models:     []ModelCredit{{Model: model, Charged: 20, Revenue: 20}},
		Shortfalls: []EntryShortfall{{Entry: 0, Escrow: escrow, Cost: 30, Charged: 20}},
	}
	ev := &meter.BatchSettled{Entries: 1, Runs: 2, Cost: 30, Charged: 20, Shortfall: 10, ToModels: 20,
		Escrows:    []meter.EscrowDebit{{Escrow: escrow, Charged: 20, Shortfall: 10}},
		Models:     []meter.ModelCredit{{Model: model, Charged: 20, Revenue: 20}},
		Shortfalls: []meter.EntryShortfall{{Entry: 0, Escrow: escrow, Cost: 30, Charged: 20}},
	}
	if err := CheckOutcome(p, ev); err != nil {
		t.Fatalf("same outcome: %v", err)
	}
	ev.Shortfalls[0].Charged = 19
	if err := CheckOutcome(p, ev); err == nil || !strings.Contains(err.Error(), "parts differ") {
		t.Fatalf("a different shortfall entry passed: %v", err)
	}
	ev.Shortfalls[0].Charged, ev.Runs = 20, 3
	if err := CheckOutcome(p, ev); err == nil || !strings.Contains(err.Error(), "totals") {
		t.Fatalf("different totals passed: %v", err)
	}
}
