package actions

import (
	"testing"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/tokens"
)

func TestUnitLimit(t *testing.T) {
	for _, tc := range []struct {
		consumed uint64
		want     uint32
	}{
		{0, 5_000},
		{10_000, 17_000},
		{2_555, 8_066},
		{1_400_000, 1_400_000},
		{5_000_000, 1_400_000},
	} {
		if got := unitLimit(tc.consumed); got != tc.want {
			t.Errorf("unitLimit(%d) = %d, want %d", tc.consumed, got, tc.want)
		}
	}
}

func TestFeePercentile(t *testing.T) {
	fees := func(v ...uint64) []rpc.PriorizationFeeResult {
		out := make([]rpc.PriorizationFeeResult, len(v))
		for i, f := range v {
			out[i] = rpc.PriorizationFeeResult{Slot: uint64(i), PrioritizationFee: f}
		}
		return out
	}
	for _, tc := range []struct {
		fees []rpc.PriorizationFeeResult
		p    int
		want uint64
	}{
		{nil, 75, 0},
		{fees(0, 0, 0), 75, 0},
		{fees(400, 100, 300, 200), 75, 300},
		{fees(400, 100, 300, 200), 100, 400},
		{fees(400, 100, 300, 200), 1, 100},
		{fees(7), 50, 7},
	} {
		if got := feePercentile(tc.fees, tc.p); got != tc.want {
			t.Errorf("feePercentile(%v, %d) = %d, want %d", tc.fees, tc.p, got, tc.want)
		}
	}
}

// The wallet's transaction: compute budget first, the wallet as the only
// signer and fee payer, one empty signature slot.
func TestAssemble(t *testing.T) {
	wallet := solana.NewWallet().PublicKey()
	mint := solana.NewWallet().PublicKey()
	ix := tokens.CreateATAIdempotent(wallet, wallet, mint, solana.TokenProgramID)
	tx, err := assemble(wallet, solana.Hash{1}, 12_345, 77, []solana.Instruction{ix})
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Signatures) != 1 || !tx.Signatures[0].IsZero() || !tx.Message.AccountKeys[0].Equals(wallet) {
		t.Fatalf("signatures %v, payer %s", tx.Signatures, tx.Message.AccountKeys[0])
	}
	raw, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := solana.TransactionFromBytes(raw)
	if err != nil || len(back.Signatures) != 1 {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	want := []any{&computebudget.SetComputeUnitLimit{Units: 12_345}, &computebudget.SetComputeUnitPrice{MicroLamports: 77}}
	for i, w := range want {
		cix := back.Message.Instructions[i]
		accounts, _ := cix.ResolveInstructionAccounts(&back.Message)
		d, err := computebudget.DecodeInstruction(accounts, cix.Data)
		if err != nil {
			t.Fatal(err)
		}
		switch got := d.Impl.(type) {
		case *computebudget.SetComputeUnitLimit:
			if got.Units != w.(*computebudget.SetComputeUnitLimit).Units {
				t.Errorf("limit %d", got.Units)
			}
		case *computebudget.SetComputeUnitPrice:
			if got.MicroLamports != w.(*computebudget.SetComputeUnitPrice).MicroLamports {
				t.Errorf("price %d", got.MicroLamports)
			}
		default:
			t.Errorf("instruction %d is %T", i, got)
		}
	}

	// An instruction needing another signer is never handed to a wallet.
	other := solana.NewWallet().PublicKey()
	if _, err := assemble(wallet, solana.Hash{1}, 1, 0, []solana.Instruction{tokens.CreateATAIdempotent(other, wallet, mint, solana.TokenProgramID)}); err == nil {
		t.Error("a transaction with a second signer was assembled")
	}
}
