package actions

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func TestFailureExplain(t *testing.T) {
	programs := []solana.PublicKey{solana.ComputeBudget, solana.ComputeBudget, mt.ProgramID}
	raw := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		raw  any
		logs []string
		want string
	}{
		{"named program error from the top-level instruction", raw(fmt.Sprintf(`{"InstructionError":[2,{"Custom":%d}]}`, mt.ErrRaiseEnded.Code)), nil, mt.ErrRaiseEnded.Msg},
		{"framework error", raw(`{"InstructionError":[2,{"Custom":3012}]}`), nil, "expected this account to be already initialized"},
		{"token program failing inside a CPI, named from the logs", raw(`{"InstructionError":[2,{"Custom":1}]}`),
			[]string{"Program " + mt.ProgramID.String() + " invoke [1]", "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA failed: custom program error: 0x1", "Program " + mt.ProgramID.String() + " failed: custom program error: 0x1"},
			"does not hold enough"},
		{"system program: not enough SOL for rent", raw(`{"InstructionError":[2,{"Custom":1}]}`),
			[]string{"Program 11111111111111111111111111111111 failed: custom program error: 0x1"}, "enough SOL"},
		{"fee payer without SOL", "AccountNotFound", nil, "no SOL"},
		{"fee payer too poor", "InsufficientFundsForFee", nil, "transaction fee"},
		{"rent", raw(`{"InsufficientFundsForRent":{"account_index":0}}`), nil, "rent"},
		{"non-custom instruction error", raw(`{"InstructionError":[3,"InsufficientFunds"]}`), nil, "enough funds"},
		{"unknown program", raw(`{"InstructionError":[1,{"Custom":7}]}`), nil, "returned error 7"},
		{"unknown shape", raw(`{"Weird":[1,2]}`), nil, "Weird"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := failure{Raw: tc.raw, Logs: tc.logs, Programs: programs}.explain()
			if !strings.Contains(got, tc.want) {
				t.Errorf("explain = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
