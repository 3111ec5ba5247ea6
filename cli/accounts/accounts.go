// Package accounts reads and decodes the programs' accounts for the CLI.
// A missing account is a *explain.Problem that says which step creates it
// (e.g. "run `mt protocol init`"); an account that exists but does not
// decode as the expected type is an error naming the address.
package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/cli/explain"
	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// ErrMissing is the cause of every "account does not exist" Problem.
var ErrMissing = errors.New("account does not exist")

// Reader reads accounts at one commitment.
type Reader struct {
	RPC        *rpc.Client
	Commitment rpc.CommitmentType
}

// Raw returns an account's data and owner; ok is false when it does not exist.
func (r Reader) Raw(ctx context.Context, addr solana.PublicKey) (data []byte, owner solana.PublicKey, ok bool, err error) {
	res, err := r.RPC.GetAccountInfoWithOpts(ctx, addr, &rpc.GetAccountInfoOpts{Encoding: solana.EncodingBase64, Commitment: r.Commitment})
	if errors.Is(err, rpc.ErrNotFound) {
		return nil, solana.PublicKey{}, false, nil
	}
	if err != nil {
		return nil, solana.PublicKey{}, false, fmt.Errorf("read account %s: %w", addr, err)
	}
	if res == nil || res.Value == nil {
		return nil, solana.PublicKey{}, false, nil
	}
	return res.Value.Data.GetBinary(), res.Value.Owner, true, nil
}

// Exists reports whether an account exists.
func (r Reader) Exists(ctx context.Context, addr solana.PublicKey) (bool, error) {
	_, _, ok, err := r.Raw(ctx, addr)
	return ok, err
}

// decode reads addr, checks that program owns it and decodes it with parse.
// missing words the Problem for an absent account.
func decode[T any](ctx context.Context, r Reader, addr, program solana.PublicKey, kind string, parse func([]byte) (T, error), missing *explain.Problem) (T, error) {
	var zero T
	data, owner, ok, err := r.Raw(ctx, addr)
	if err != nil {
		return zero, err
	}
	if !ok {
		p := *missing
		p.Err = ErrMissing
		return zero, &p
	}
	if !owner.Equals(program) {
		return zero, explain.Newf("check the address", "%s is not a %s: it is owned by %s, not %s", addr, kind, owner, program)
	}
	v, err := parse(data)
	if err != nil {
		return zero, explain.Newf("check the address; if it is right, mt and the deployed program are different versions", "%s is not a %s (%v)", addr, kind, err)
	}
	return v, nil
}

// Protocol reads mt_treasury's protocol configuration.
func (r Reader) Protocol(ctx context.Context) (*mt.Protocol, error) {
	return decode(ctx, r, pda.Protocol(), mt.ProgramID, "protocol account", mt.ParseAccount_Protocol, &explain.Problem{
		What: "the protocol is not initialised on this cluster (no account at " + pda.Protocol().String() + ")",
		Fix:  "the protocol admin runs `mt protocol init` first (or check --url)",
	})
}

// Meter reads inference_meter's configuration.
func (r Reader) Meter(ctx context.Context) (*meter.MeterConfig, error) {
	return decode(ctx, r, pda.Meter(), meter.ProgramID, "meter configuration", meter.ParseAccount_MeterConfig, &explain.Problem{
		What: "the inference meter is not initialised on this cluster (no account at " + pda.Meter().String() + ")",
		Fix:  "the protocol admin runs `mt meter init` first (or check --url)",
	})
}

// Mint reads a token mint.
func (r Reader) Mint(ctx context.Context, addr solana.PublicKey) (*tokens.Mint, error) {
	m, err := tokens.GetMint(ctx, r.RPC, addr)
	if errors.Is(err, tokens.ErrNotTokenAccount) {
		return nil, explain.Wrap(err, fmt.Sprintf("%s is not a token mint on this cluster", addr), "check the address and --url")
	}
	return m, err
}

// TokenBalance is the amount in a token account, 0 when it does not exist.
func (r Reader) TokenBalance(ctx context.Context, addr solana.PublicKey) (uint64, error) {
	return tokens.Balance(ctx, r.RPC, addr)
}
