package txsend

import (
	"errors"
	"testing"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func custom(index, code int) any {
	return map[string]any{"InstructionError": []any{float64(index), map[string]any{"Custom": float64(code)}}}
}

func TestFailingProgram(t *testing.T) {
	meter := solana.MustPublicKeyFromBase58("99RGuGouvAUBULLukevZ1Y6AJn9SDwhZBsXgn5QfpUwX")
	top := []solana.PublicKey{solana.ComputeBudget, meter}
	tests := []struct {
		name string
		raw  any
		logs []string
		want solana.PublicKey
		ok   bool
	}{
		{"no custom code", map[string]any{"InstructionError": []any{float64(1), "InvalidArgument"}}, nil, solana.PublicKey{}, false},
		{"top level without logs", custom(1, 6000), nil, meter, true},
		{"callee named in logs", custom(1, 6000), []string{
			"Program " + meter.String() + " invoke [1]",
			"Program " + mt.ProgramID.String() + " invoke [2]",
			"Program " + mt.ProgramID.String() + " failed: custom program error: 0x1770",
			"Program " + meter.String() + " failed: custom program error: 0x1770",
		}, mt.ProgramID, true},
		// The system program's ID is the zero key: it must still be found.
		{"system program callee", custom(1, 1), []string{
			"Program 11111111111111111111111111111111 failed: custom program error: 0x1",
			"Program " + meter.String() + " failed: custom program error: 0x1",
		}, solana.SystemProgramID, true},
		{"a failed line with another code is not the culprit", custom(1, 6000), []string{
			"Program " + mt.ProgramID.String() + " failed: custom program error: 0x1771",
		}, meter, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, ok := FailingProgram(tt.raw, top, tt.logs)
			if ok != tt.ok || !got.Equals(tt.want) {
				t.Fatalf("FailingProgram = %s, %v; want %s, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestDecodeNamesTheCalleesError(t *testing.T) {
	tables := Tables{mt.ProgramID: mt.Errors}
	logs := []string{"Program " + mt.ProgramID.String() + " failed: custom program error: 0x1770"}
	err := tables.decode(solana.Signature{}, custom(0, 6000), []solana.PublicKey{solana.ComputeBudget}, logs)
	if !errors.Is(err, mt.ErrInvalidBps) {
		t.Fatalf("decode = %v, want %v", err, mt.ErrInvalidBps)
	}
}
