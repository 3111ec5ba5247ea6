package actions

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/programerr"
	"github.com/modelcommons/modelcommons/clients/txsend"
)

// Error is an answer the wallet shows to its user: an HTTP status (4xx
// when the request cannot be served as asked, 5xx when the server or the
// cluster failed) and a message in the spec's ActionError shape.
type Error struct {
	Status  int
	Message string
	// Err is the cause, for logs and errors.Is.
	Err error
	// allow is the Allow header of a 405.
	allow string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

func (e *Error) Unwrap() error { return e.Err }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// badRequest: the input is wrong (not a number, too many decimals, not a wallet address).
func badRequest(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, format, args...)
}

// conflict: the input is fine but the chain's state forbids the action now
// (raise not open, already claimed, proposal closed, …).
func conflict(format string, args ...any) *Error {
	return errorf(http.StatusConflict, format, args...)
}

func notFound(format string, args ...any) *Error {
	return errorf(http.StatusNotFound, format, args...)
}

func forbidden(format string, args ...any) *Error {
	return errorf(http.StatusForbidden, format, args...)
}

// unavailable wraps a failure to read the chain.
func unavailable(err error) *Error {
	return &Error{Status: http.StatusBadGateway, Message: "The Solana cluster behind this action could not be reached; try again in a moment.", Err: err}
}

// versionMismatch: an account of ours that does not decode.
func versionMismatch(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Err: err,
		Message: "This action server cannot read the program's accounts: it and the deployed program are different versions."}
}

// asError turns any error into the answer to send.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Message: "Something went wrong on the action server; try again in a moment.", Err: err}
}

// failure is a transaction the cluster refused in simulation.
type failure struct {
	// Raw is the runtime's error as the RPC returned it.
	Raw  any
	Logs []string
	// Programs are the top-level instructions' programs, in order.
	Programs []solana.PublicKey
}

// explain words a simulation failure for the wallet's user. Every named
// program error keeps its program's own message; runtime and token-program
// failures get a sentence that says what to do.
func (f failure) explain() string {
	if s, ok := f.Raw.(string); ok {
		return runtimeError(s, nil)
	}
	m, ok := f.Raw.(map[string]any)
	if !ok {
		return fmt.Sprintf("The transaction would fail (%s).", compact(f.Raw))
	}
	if pair, ok := m["InstructionError"].([]any); ok && len(pair) == 2 {
		if _, ok := pair[1].(map[string]any); ok {
			if program, code, ok := txsend.FailingProgram(f.Raw, f.Programs, f.Logs); ok {
				return custom(program, code)
			}
			return fmt.Sprintf("The transaction would fail (%s).", compact(pair[1]))
		}
		if s, ok := pair[1].(string); ok {
			return instructionError(s)
		}
	}
	for k, v := range m {
		return runtimeError(k, v)
	}
	return fmt.Sprintf("The transaction would fail (%s).", compact(f.Raw))
}

// custom names a custom error code from the program that returned it.
func custom(program solana.PublicKey, code uint32) string {
	switch {
	case program.Equals(mt.ProgramID):
		if e := programerr.Lookup(mt.Errors, code); e != nil {
			return treasuryMessage(e)
		}
	case program.Equals(solana.TokenProgramID), program.Equals(solana.Token2022ProgramID):
		return tokenError(code)
	case program.Equals(solana.SystemProgramID):
		if code == 1 {
			return "Your wallet does not have enough SOL for this transaction (fees and the rent of new accounts)."
		}
		if code == 0 {
			return "An account this transaction creates already exists; refresh and try again."
		}
	case program.Equals(solana.SPLAssociatedTokenAccountProgramID):
		return "Your wallet's token account for this token is not the standard associated account; move your tokens to the associated account and try again."
	}
	return fmt.Sprintf("The transaction would fail: program %s returned error %d.", program, code)
}

// treasuryMessage is mt_treasury's own wording, which is written for people.
func treasuryMessage(e *programerr.Error) string {
	msg := e.Msg
	if msg == "" {
		msg = e.Name
	}
	return msg
}

func tokenError(code uint32) string {
	switch code {
	case 1:
		return "Your token account does not hold enough tokens for this."
	case 3:
		return "A token account does not belong to this token's mint."
	case 4:
		return "A token account is not owned by your wallet."
	case 17:
		return "Your token account is frozen."
	}
	return fmt.Sprintf("The token program refused the transfer (error %d).", code)
}

func instructionError(s string) string {
	switch s {
	case "InsufficientFunds":
		return "Your wallet does not have enough funds for this."
	case "AccountNotRentExempt", "InsufficientFundsForRent":
		return "Your wallet does not have enough SOL to pay the rent of a new account."
	}
	return fmt.Sprintf("The transaction would fail (%s).", s)
}

func runtimeError(kind string, detail any) string {
	switch kind {
	case "AccountNotFound":
		return "Your wallet has no SOL: it needs a little SOL to pay the transaction fee."
	case "InsufficientFundsForFee":
		return "Your wallet does not have enough SOL to pay the transaction fee."
	case "InsufficientFundsForRent":
		return "Your wallet does not have enough SOL to pay the rent of a new account."
	case "BlockhashNotFound":
		return "The cluster moved on while the transaction was being prepared; try again."
	}
	if detail != nil {
		return fmt.Sprintf("The transaction would fail (%s: %s).", kind, compact(detail))
	}
	return fmt.Sprintf("The transaction would fail (%s).", kind)
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
