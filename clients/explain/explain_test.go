package explain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/programerr"
	"github.com/modelcommons/modelcommons/clients/txsend"
)

func TestProgramErrorsAreWorded(t *testing.T) {
	for _, table := range []programerr.Table{mt.Errors, meter.Errors} {
		for code, pe := range table {
			err := fmt.Errorf("send: %w", &txsend.TxError{Program: pe, Raw: map[string]any{"InstructionError": []any{0.0, map[string]any{"Custom": float64(code)}}}})
			e := Explain(err, Context{})
			if !strings.Contains(e.What, strings.TrimSuffix(pe.Msg, ".")) || e.ProgramError != pe.Program+"."+pe.Name {
				t.Errorf("%s: %+v", pe.Name, e)
			}
			if strings.Contains(e.What, fmt.Sprintf("error %d", code)) {
				t.Errorf("%s: bare error number in %q", pe.Name, e.What)
			}
		}
	}
	e := Explain(&txsend.TxError{Program: mt.ErrRaiseEnded}, Context{})
	if !strings.Contains(e.Fix, "mt crowdfund refund") {
		t.Errorf("RaiseEnded fix = %q", e.Fix)
	}
}

// Every fix names an error that exists, so none goes stale silently.
func TestFixesNameRealErrors(t *testing.T) {
	known := map[string]bool{}
	for _, table := range []programerr.Table{mt.Errors, meter.Errors, programerr.AnchorErrors} {
		for _, pe := range table {
			known[pe.Program+"."+pe.Name] = true
		}
	}
	for k, fix := range fixes {
		if !known[k] || fix == "" {
			t.Errorf("fix for %q: unknown error or empty fix", k)
		}
	}
}

func TestOtherFailures(t *testing.T) {
	payer := solana.NewWallet().PublicKey()
	tests := []struct {
		err  error
		what string
		fix  string
	}{
		{New("bad thing", "do this"), "bad thing", "do this"},
		{fmt.Errorf("get latest blockhash: %w", errors.New(`Post "http://127.0.0.1:8899": dial tcp 127.0.0.1:8899: connect: connection refused`)), "cannot reach http://x", "start the local chain"},
		{fmt.Errorf("wrap: %w", txsend.ErrExpired), "blockhash expired", "retry"},
		{&txsend.TxError{Raw: "AccountNotFound"}, "too little SOL", "solana airdrop 1 " + payer.String()},
		{&txsend.TxError{ProgramID: solana.TokenProgramID, Raw: map[string]any{"InstructionError": []any{1.0, map[string]any{"Custom": 1.0}}}}, "not enough tokens", "top up"},
		{&txsend.TxError{ProgramID: payer, Raw: map[string]any{"InstructionError": []any{1.0, map[string]any{"Custom": 77.0}}}}, "cannot name", "update mt"},
		{Wrap(&txsend.TxError{Program: mt.ErrNotCreator}, "the launch is incomplete", ""), "the launch is incomplete", "creator's keypair"},
	}
	for _, tt := range tests {
		e := Explain(tt.err, Context{URL: "http://x", Payer: payer})
		if !strings.Contains(e.What, tt.what) || !strings.Contains(e.Fix, tt.fix) {
			t.Errorf("Explain(%v) = %+v; want what ~ %q, fix ~ %q", tt.err, e, tt.what, tt.fix)
		}
	}
}

func TestPrint(t *testing.T) {
	var text, js bytes.Buffer
	err := New("the raise ended at 2026-12-01T00:00:00Z", "use `mt crowdfund refund 3`")
	Print(&text, err, Context{}, false)
	if text.String() != "error: the raise ended at 2026-12-01T00:00:00Z\n  what to do: use `mt crowdfund refund 3`\n" {
		t.Errorf("text = %q", text.String())
	}
	Print(&js, err, Context{}, true)
	var e Explanation
	if json.Unmarshal(js.Bytes(), &e) != nil || e.Fix != "use `mt crowdfund refund 3`" || strings.Count(js.String(), "\n") != 1 {
		t.Errorf("json = %q", js.String())
	}
}

func TestProblemsListEveryOne(t *testing.T) {
	var p Problems
	if err := p.Err(); err != nil {
		t.Fatalf("no problems: %v", err)
	}
	p.Add("--a is 100% wrong")
	p.Addf("--%s is %d", "b", 2)
	var pr *Problem
	if err := p.Err(); !errors.As(err, &pr) || pr.What != "invalid arguments:\n  - --a is 100% wrong\n  - --b is 2" {
		t.Errorf("got %v", err)
	}
}
