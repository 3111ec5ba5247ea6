// Package accounts reads and decodes the programs' accounts for the CLI and the
// Actions server.
// A missing account is a *explain.Problem that says which step creates it
// (e.g. "run `mt protocol init`"); an account that exists but does not
// decode as the expected type is an error naming the address.
package accounts

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/explain"
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

// Model reads the model with the given id.
func (r Reader) Model(ctx context.Context, id uint64) (*mt.Model, error) {
	return decode(ctx, r, pda.Model(id), mt.ProgramID, "model", mt.ParseAccount_Model, &explain.Problem{
		What: fmt.Sprintf("there is no model %d on this cluster", id),
		Fix:  "list the models with `mt model list` (or check --url)",
	})
}

// Contribution reads wallet's contribution to model; ok is false when the
// wallet has not contributed.
func (r Reader) Contribution(ctx context.Context, model, wallet solana.PublicKey) (c *mt.Contribution, ok bool, err error) {
	c, err = decode(ctx, r, pda.Contribution(model, wallet), mt.ProgramID, "contribution", mt.ParseAccount_Contribution, &explain.Problem{})
	if errors.Is(err, ErrMissing) {
		return nil, false, nil
	}
	return c, err == nil, err
}

// Voter reads owner's voter record in model; ok is false when there is none.
func (r Reader) Voter(ctx context.Context, model, owner solana.PublicKey) (v *mt.Voter, ok bool, err error) {
	addr := pda.Voter(model, owner)
	data, programOwner, ok, err := r.Raw(ctx, addr)
	if err != nil || !ok {
		return nil, false, err
	}
	if !programOwner.Equals(mt.ProgramID) {
		return nil, false, fmt.Errorf("voter record %s is not owned by mt_treasury", addr)
	}
	if v, err = mt.ParseAccount_Voter(data); err != nil {
		return nil, false, fmt.Errorf("decode voter record: %w", err)
	}
	return v, true, nil
}

// Escrow reads the escrow at addr.
func (r Reader) Escrow(ctx context.Context, addr solana.PublicKey) (*meter.Escrow, error) {
	return decode(ctx, r, addr, meter.ProgramID, "escrow", meter.ParseAccount_Escrow, &explain.Problem{
		What: "there is no escrow at " + addr.String() + " on this cluster",
		Fix:  "check the API key (or --escrow address) and --url; open one with `mt escrow open`",
	})
}

// Node reads operator's node.
func (r Reader) Node(ctx context.Context, operator solana.PublicKey) (*meter.Node, error) {
	return decode(ctx, r, pda.Node(operator), meter.ProgramID, "node", meter.ParseAccount_Node, &explain.Problem{
		What: "no node is registered for operator " + operator.String() + " on this cluster",
		Fix:  "register one with `mt node register` (or check --keypair/--operator and --url)",
	})
}

// Models reads every model, in id order.
func (r Reader) Models(ctx context.Context) ([]*mt.Model, error) {
	res, err := r.RPC.GetProgramAccountsWithOpts(ctx, mt.ProgramID, &rpc.GetProgramAccountsOpts{
		Encoding:   solana.EncodingBase64,
		Commitment: r.Commitment,
		Filters:    []rpc.RPCFilter{{Memcmp: &rpc.RPCFilterMemcmp{Offset: 0, Bytes: mt.Account_Model[:]}}},
	})
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	out := make([]*mt.Model, 0, len(res))
	for _, a := range res {
		m, err := mt.ParseAccount_Model(a.Account.Data.GetBinary())
		if err != nil {
			return nil, fmt.Errorf("decode model %s: %w", a.Pubkey, err)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out, nil
}

// TokenMetadata is the name, symbol and URI stored on a Token-2022 mint.
type TokenMetadata struct {
	Name   string `json:"name"`
	Symbol string `json:"symbol"`
	URI    string `json:"uri"`
}

// Metadata reads a Token-2022 mint's on-mint metadata (the TokenMetadata
// extension); ok is false when the mint has none.
func (r Reader) Metadata(ctx context.Context, mint solana.PublicKey) (TokenMetadata, bool, error) {
	data, _, exists, err := r.Raw(ctx, mint)
	if err != nil || !exists {
		return TokenMetadata{}, false, err
	}
	md, ok := ParseMetadata(data)
	return md, ok, nil
}

// ParseMetadata finds the TokenMetadata extension (type 19) in a Token-2022
// mint's TLV area: after the 82-byte base mint, padding to 165 bytes and the
// account-type byte come (type u16, length u16, value) entries. The value
// is update authority (32), mint (32), then name, symbol and uri as
// u32-length-prefixed strings.
func ParseMetadata(data []byte) (TokenMetadata, bool) {
	const tlvStart = 166
	const typeTokenMetadata = 19
	if len(data) <= tlvStart {
		return TokenMetadata{}, false
	}
	for p := tlvStart; p+4 <= len(data); {
		typ := binary.LittleEndian.Uint16(data[p:])
		n := int(binary.LittleEndian.Uint16(data[p+2:]))
		p += 4
		if typ == 0 || p+n > len(data) {
			return TokenMetadata{}, false
		}
		if typ != typeTokenMetadata {
			p += n
			continue
		}
		v := data[p : p+n]
		if len(v) < 64 {
			return TokenMetadata{}, false
		}
		v = v[64:]
		var fields [3]string
		for i := range fields {
			if len(v) < 4 {
				return TokenMetadata{}, false
			}
			l := int(binary.LittleEndian.Uint32(v))
			if len(v) < 4+l {
				return TokenMetadata{}, false
			}
			fields[i], v = string(v[4:4+l]), v[4+l:]
		}
		return TokenMetadata{Name: fields[0], Symbol: fields[1], URI: fields[2]}, true
	}
	return TokenMetadata{}, false
}
