// Package events reads the events our programs emit with Anchor's
// emit_cpi!: each is a self-invocation whose instruction data is an 8-byte
// event tag, the event's discriminator and its Borsh body. They are found in
// a landed transaction's inner instructions, on a real cluster and on the
// local chain alike (log-based events do not exist on the host).
package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// Tag prefixes every emit_cpi! instruction's data (Anchor's EVENT_IX_TAG, little-endian).
var Tag = []byte{0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d}

// ErrNotFound is returned when the transaction is not (yet) known to the node.
var ErrNotFound = errors.New("transaction not found")

// Fetch returns the payload (discriminator + body) of every event program
// emitted in the transaction sig, in order. Decode each with the generated
// client's ParseAnyEvent.
func Fetch(ctx context.Context, client *rpc.Client, sig solana.Signature, program solana.PublicKey) ([][]byte, error) {
	version := uint64(0)
	res, err := client.GetTransaction(ctx, sig, &rpc.GetTransactionOpts{
		Encoding:                       solana.EncodingBase64,
		Commitment:                     rpc.CommitmentConfirmed,
		MaxSupportedTransactionVersion: &version,
	})
	if errors.Is(err, rpc.ErrNotFound) || (err == nil && res == nil) {
		return nil, fmt.Errorf("%s: %w", sig, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get transaction %s: %w", sig, err)
	}
	tx, err := res.Transaction.GetTransaction()
	if err != nil {
		return nil, fmt.Errorf("decode transaction %s: %w", sig, err)
	}
	if res.Meta == nil {
		return nil, fmt.Errorf("transaction %s has no metadata", sig)
	}
	keys := append(solana.PublicKeySlice{}, tx.Message.AccountKeys...)
	keys = append(keys, res.Meta.LoadedAddresses.Writable...)
	keys = append(keys, res.Meta.LoadedAddresses.ReadOnly...)
	var out [][]byte
	for _, group := range res.Meta.InnerInstructions {
		for _, ix := range group.Instructions {
			if int(ix.ProgramIDIndex) >= len(keys) || !keys[ix.ProgramIDIndex].Equals(program) {
				continue
			}
			data := []byte(ix.Data)
			if len(data) >= 16 && bytes.Equal(data[:8], Tag) {
				out = append(out, data[8:])
			}
		}
	}
	return out, nil
}
