// Package explain turns any error a command (or an Actions request) returns into what the user
// reads: what went wrong and what to do about it — never a stack trace, a
// Go type or a bare error number.
//
// Commands return *Problem for failures they diagnose themselves (most
// checks run before anything is sent). Errors from the chain are explained
// here: named program errors (clients/programerr) get the program's own
// message plus a fix from the table in fixes.go; runtime and token-program
// failures, unreachable clusters and expired transactions get their own
// wording. The same explanation is available as JSON for --output json.
package explain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/programerr"
	"github.com/modelcommons/modelcommons/clients/txsend"
)

// Problem is an error that says what went wrong (What) and what to do (Fix).
type Problem struct {
	What string
	Fix  string
	// Err is the cause, kept for errors.Is/As.
	Err error
}

func (p *Problem) Error() string {
	if p.Fix == "" {
		return p.What
	}
	return p.What + "; " + p.Fix
}

func (p *Problem) Unwrap() error { return p.Err }

// New returns a Problem.
func New(what, fix string) error { return &Problem{What: what, Fix: fix} }

// Newf returns a Problem whose What is formatted.
func Newf(fix, format string, args ...any) error {
	return &Problem{What: fmt.Sprintf(format, args...), Fix: fix}
}

// Wrap returns a Problem caused by err.
func Wrap(err error, what, fix string) error { return &Problem{What: what, Fix: fix, Err: err} }

// Context is what the explanation may mention.
type Context struct {
	// URL is the cluster the command talked to.
	URL string
	// Payer is the fee payer, if known.
	Payer solana.PublicKey
}

// Explanation is an explained error.
type Explanation struct {
	What string `json:"error"`
	Fix  string `json:"fix,omitempty"`
	// ProgramError names the program error, e.g. "mt_treasury.InvalidBps".
	ProgramError string `json:"program_error,omitempty"`
	Signature    string `json:"signature,omitempty"`
	// Logs are the transaction's program logs, for a failed transaction.
	Logs []string `json:"logs,omitempty"`
}

// Explain explains err.
func Explain(err error, ctx Context) Explanation {
	var p *Problem
	if errors.As(err, &p) && p.Err == nil {
		return Explanation{What: p.What, Fix: p.Fix}
	}
	var tx *txsend.TxError
	if errors.As(err, &tx) {
		e := explainTx(tx, ctx)
		if p != nil { // a command's own wording wins over the generic one
			e.What, e.Fix = p.What, firstNonEmpty(p.Fix, e.Fix)
		}
		return e
	}
	if p != nil {
		return Explanation{What: p.What, Fix: p.Fix}
	}
	if errors.Is(err, txsend.ErrExpired) {
		return Explanation{
			What: "the transaction did not land before its blockhash expired, on every attempt (" + err.Error() + ")",
			Fix:  "nothing was executed; retry, with a priority fee if the cluster is busy (--with-compute-unit-price 10000)",
		}
	}
	if unreachable(err) {
		where := ctx.URL
		if where == "" {
			where = "the cluster"
		}
		return Explanation{
			What: "cannot reach " + where + " (" + err.Error() + ")",
			Fix:  "start the local chain (bin/localnet --port 8899) or point --url at a running cluster",
		}
	}
	if usage(err) {
		return Explanation{What: err.Error(), Fix: "see the usage with --help (e.g. `mt --help`, `mt model launch --help`)"}
	}
	return Explanation{What: err.Error()}
}

// usage reports the command-line mistakes urfave/cli reports.
func usage(err error) bool {
	s := err.Error()
	for _, m := range []string{"flag provided but not defined", "No help topic for", "Required flag", "flag needs an argument", "invalid value"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func explainTx(tx *txsend.TxError, ctx Context) Explanation {
	e := Explanation{Logs: tx.Logs}
	if !tx.Signature.IsZero() {
		e.Signature = tx.Signature.String()
	}
	where := "the transaction was rejected in simulation; nothing was sent"
	if !tx.Signature.IsZero() {
		where = "transaction " + tx.Signature.String() + " failed on chain (its fee was charged, nothing else changed)"
	}
	if pe := tx.Program; pe != nil {
		e.ProgramError = pe.Program + "." + pe.Name
		e.What = fmt.Sprintf("%s refused: %s [%s]; %s", programName(pe), strings.TrimSuffix(pe.Msg, "."), e.ProgramError, where)
		e.Fix = Fix(pe)
		return e
	}
	if code, ok := customCode(tx.Raw); ok {
		if tokenProgram(tx.ProgramID) {
			e.What, e.Fix = tokenError(code)
			e.What += "; " + where
			return e
		}
		e.What = fmt.Sprintf("program %s failed with custom error %d, which this version of mt cannot name; %s", tx.ProgramID, code, where)
		e.Fix = "see the program logs (--output json shows them); if it is one of our programs, update mt"
		return e
	}
	raw, _ := json.Marshal(tx.Raw)
	switch s := string(raw); {
	case strings.Contains(s, "AccountNotFound"), strings.Contains(s, "InsufficientFundsForFee"), strings.Contains(s, "InsufficientFundsForRent"):
		payer := "the fee payer"
		if !ctx.Payer.IsZero() {
			payer = ctx.Payer.String()
		}
		e.What = fmt.Sprintf("%s has too little SOL for the fee and the rent of new accounts (%s); %s", payer, s, where)
		e.Fix = fmt.Sprintf("fund it, e.g. `solana airdrop 1 %s --url %s` on localnet or devnet", payer, firstNonEmpty(ctx.URL, "<cluster>"))
	case strings.Contains(s, `"Custom":1}`) && strings.Contains(s, "InstructionError"):
		// System program: an account to create already exists.
		e.What = "an account the transaction creates already exists (" + s + "); " + where
		e.Fix = "it was probably created earlier: look it up with the matching `show` command"
	default:
		e.What = "the transaction failed: " + s + "; " + where
		e.Fix = "see the program logs (--output json shows them)"
	}
	return e
}

func programName(pe *programerr.Error) string {
	if pe.Program == "anchor" {
		return "the program (Anchor account checks)"
	}
	return pe.Program
}

func tokenProgram(p solana.PublicKey) bool {
	return p.Equals(solana.TokenProgramID) || p.Equals(solana.Token2022ProgramID)
}

// tokenError words the SPL Token program's errors callers can cause.
func tokenError(code uint32) (what, fix string) {
	switch code {
	case 1:
		return "not enough tokens in the paying token account", "check your balances (`spl-token accounts`) and pay less or top up"
	case 3:
		return "a token account holds a different token than the one required", "pass the token account of the right mint"
	case 4:
		return "a token account is not owned by the signer", "sign with the keypair that owns the token account (--keypair)"
	case 5:
		return "the token's supply is fixed (no mint authority)", ""
	case 17:
		return "a token account is frozen", "ask the token's freeze authority to thaw it"
	}
	return fmt.Sprintf("the token program failed with error %d", code), "see the program logs (--output json shows them)"
}

func customCode(raw any) (uint32, bool) {
	m, ok := raw.(map[string]any)
	if !ok {
		return 0, false
	}
	pair, ok := m["InstructionError"].([]any)
	if !ok || len(pair) != 2 {
		return 0, false
	}
	inner, ok := pair[1].(map[string]any)
	if !ok {
		return 0, false
	}
	switch n := inner["Custom"].(type) {
	case float64:
		return uint32(n), true
	case json.Number:
		v, err := n.Int64()
		return uint32(v), err == nil
	}
	return 0, false
}

func unreachable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such host") ||
		strings.Contains(s, "i/o timeout") || strings.Contains(s, "connection reset")
}

// Print writes the explanation of err to w, as text or as one JSON object.
func Print(w io.Writer, err error, ctx Context, asJSON bool) {
	e := Explain(err, ctx)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(e)
		return
	}
	fmt.Fprintf(w, "error: %s\n", e.What)
	if e.Fix != "" {
		fmt.Fprintf(w, "  what to do: %s\n", e.Fix)
	}
}

// Problems collects validation failures, so that a command reports every
// one at once rather than stopping at the first.
type Problems []string

// Add records a failure.
func (p *Problems) Add(what string) { *p = append(*p, what) }

// Addf records a failure with a formatted description.
func (p *Problems) Addf(format string, args ...any) { p.Add(fmt.Sprintf(format, args...)) }

// Err is nil when nothing failed, else the List of the failures.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return List(p)
}

// List joins several validation failures into one Problem, every one listed.
func List(problems []string) error {
	what := "invalid arguments:"
	if len(problems) == 1 {
		what = "invalid argument:"
	}
	for _, p := range problems {
		what += "\n  - " + p
	}
	return New(what, "fix them and run the command again; nothing was sent")
}
