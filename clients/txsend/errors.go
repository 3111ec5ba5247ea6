package txsend

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"

	"github.com/modelcommons/modelcommons/clients/programerr"
)

// ErrExpired is returned when a transaction did not land within its
// blockhash's lifetime on every attempt.
var ErrExpired = errors.New("transaction expired before it landed")

// TxError is a transaction that failed, in preflight or on chain.
type TxError struct {
	// Signature is zero when the transaction failed preflight and never landed.
	Signature solana.Signature
	// Raw is the runtime's error as the RPC returned it, e.g.
	// {"InstructionError":[0,{"Custom":6000}]}.
	Raw any
	// Program is the named program error, when a program returned a custom code.
	Program *programerr.Error
	// ProgramID is the program that failed, when known.
	ProgramID solana.PublicKey
	Logs      []string
}

func (e *TxError) Error() string {
	where := "preflight"
	if !e.Signature.IsZero() {
		where = "transaction " + e.Signature.String()
	}
	if e.Program != nil {
		return fmt.Sprintf("%s failed: %s", where, e.Program.Error())
	}
	raw, _ := json.Marshal(e.Raw)
	return fmt.Sprintf("%s failed: %s", where, raw)
}

// Unwrap lets errors.Is(err, mt_treasury.ErrX) see the program error.
func (e *TxError) Unwrap() error {
	if e.Program == nil {
		return nil
	}
	return e.Program
}

// Tables names the errors of each program by program ID.
type Tables map[solana.PublicKey]programerr.Table

var failedLog = regexp.MustCompile(`^Program (\w+) failed: custom program error: 0x([0-9a-fA-F]+)$`)

// decode builds a TxError from the runtime error, the transaction's
// top-level program IDs and its logs.
func (t Tables) decode(sig solana.Signature, raw any, topLevel []solana.PublicKey, logs []string) *TxError {
	e := &TxError{Signature: sig, Raw: raw, Logs: logs}
	program, code, ok := FailingProgram(raw, topLevel, logs)
	if !ok {
		return e
	}
	e.ProgramID = program
	if table, ok := t[program]; ok {
		e.Program = programerr.Lookup(table, code)
	}
	return e
}

// FailingProgram finds which program returned the custom error code in raw
// ({"InstructionError":[index,{"Custom":code}]}): the first "failed" line
// with that code in the logs, since a CPI callee fails before its caller;
// without such a line, the top-level instruction's program. ok is false
// when raw carries no custom code.
func FailingProgram(raw any, topLevel []solana.PublicKey, logs []string) (program solana.PublicKey, code uint32, ok bool) {
	index, code, ok := customCode(raw)
	if !ok {
		return solana.PublicKey{}, 0, false
	}
	for _, line := range logs {
		m := failedLog.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		c, err := strconv.ParseUint(m[2], 16, 32)
		if err != nil || uint32(c) != code {
			continue
		}
		// The system program's ID is the zero key, so finding it is tracked
		// by returning here rather than by a zero check.
		if id, err := solana.PublicKeyFromBase58(m[1]); err == nil {
			return id, code, true
		}
	}
	if index < len(topLevel) {
		return topLevel[index], code, true
	}
	return solana.PublicKey{}, code, true
}

// customCode extracts (instruction index, code) from
// {"InstructionError":[index,{"Custom":code}]}.
func customCode(raw any) (int, uint32, bool) {
	m, ok := raw.(map[string]any)
	if !ok {
		return 0, 0, false
	}
	pair, ok := m["InstructionError"].([]any)
	if !ok || len(pair) != 2 {
		return 0, 0, false
	}
	index, ok := number(pair[0])
	if !ok {
		return 0, 0, false
	}
	inner, ok := pair[1].(map[string]any)
	if !ok {
		return 0, 0, false
	}
	code, ok := number(inner["Custom"])
	if !ok {
		return 0, 0, false
	}
	return int(index), uint32(code), true
}

func number(v any) (uint64, bool) {
	switch n := v.(type) {
	case float64:
		return uint64(n), n >= 0
	case json.Number:
		i, err := n.Int64()
		return uint64(i), err == nil && i >= 0
	case int64:
		return uint64(n), n >= 0
	case uint64:
		return n, true
	}
	return 0, false
}

// preflightFailure unpacks a -32002 "Transaction simulation failed" RPC
// error into the runtime error and logs it carries.
func preflightFailure(err error) (raw any, logs []string, ok bool) {
	var rpcErr *jsonrpc.RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Code != -32002 {
		return nil, nil, false
	}
	data, _ := rpcErr.Data.(map[string]any)
	if data == nil {
		return nil, nil, false
	}
	for _, l := range asSlice(data["logs"]) {
		if s, ok := l.(string); ok {
			logs = append(logs, s)
		}
	}
	return data["err"], logs, true
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
