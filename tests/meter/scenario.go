// Package meter drives inference_meter over JSON-RPC with the generated
// client and clients/settlement, the way the keeper and the CLI do: every
// account derived (clients/pda), every transaction sent with clients/txsend.
// It builds on tests/treasury (protocol, native mint, real model launches).
// The localnet tests in this directory and the benchmark (tools/progbench)
// share it.
package meter

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	alt "github.com/gagliardetto/solana-go/programs/address-lookup-table"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/apikey"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

// NativeUnit is one whole native token in base units.
const NativeUnit = treasury.NativeUnit

// Env is a chain with the protocol and the meter initialised.
type Env struct {
	*treasury.Env
	EventAuth solana.PublicKey
}

// Params are the meter settings Setup uses: 1% settlement fee, 20% to the
// operator, 1 000 tokens minimum stake, 60 s unbonding and notice.
func Params() im.InitMeterArgs {
	return im.InitMeterArgs{SettlementFeeBps: 100, OperatorShareBps: 2_000, MinNodeStake: 1_000 * NativeUnit, UnbondingSecs: 60, WithdrawalNoticeSecs: 60}
}

// NewSender is a txsend.Sender for c that names both programs' errors.
func NewSender(c *golocal.Chain) *txsend.Sender {
	return txsend.New(txsend.Config{
		RPC:          c.RPC,
		Errors:       txsend.Tables{mt.ProgramID: mt.Errors, im.ProgramID: im.Errors},
		PollInterval: 50 * time.Millisecond,
	})
}

// Setup initialises the protocol (tests/treasury.Setup) and the meter with Params.
func Setup(ctx context.Context, c *golocal.Chain, s *txsend.Sender) (*Env, error) {
	te, err := treasury.Setup(ctx, c, s, solana.TokenProgramID)
	if err != nil {
		return nil, err
	}
	return On(ctx, te, Params())
}

// On initialises the meter with args on te's protocol (te.Admin is its admin).
func On(ctx context.Context, te *treasury.Env, args im.InitMeterArgs) (*Env, error) {
	e := &Env{Env: te, EventAuth: pda.EventAuthority(im.ProgramID)}
	ix, err := ix.InitMeter(te.Admin.PublicKey(), ix.Native{Mint: te.NativeMint, Program: te.NativeProgram}, args)
	if err != nil {
		return nil, err
	}
	if _, err := e.Send(ctx, te.Admin, nil, ix); err != nil {
		return nil, fmt.Errorf("init_meter: %w", err)
	}
	return e, nil
}

// ActiveModel launches a model with price per 1k tokens and sells out its
// crowdfund (two backers), so it finalises at once and is Active.
func (e *Env) ActiveModel(ctx context.Context, price mt.QueryPrice) (solana.PublicKey, error) {
	now, err := e.Chain.Now(ctx)
	if err != nil {
		return solana.PublicKey{}, err
	}
	terms := treasury.DefaultTerms(now, time.Hour)
	terms.Price = price
	creator, err := e.Wallet(ctx, 10*NativeUnit)
	if err != nil {
		return solana.PublicKey{}, err
	}
	model, err := e.Launch(ctx, creator, terms)
	if err != nil {
		return solana.PublicKey{}, err
	}
	for _, amount := range []uint64{60_000 * NativeUnit, 40_000 * NativeUnit} {
		backer, err := e.Wallet(ctx, amount)
		if err != nil {
			return solana.PublicKey{}, err
		}
		ix, err := e.ContributeIx(backer.PublicKey(), model, mt.ContributeArgs{Amount: amount})
		if err != nil {
			return solana.PublicKey{}, err
		}
		if _, err := e.Send(ctx, backer, nil, ix); err != nil {
			return solana.PublicKey{}, fmt.Errorf("contribute: %w", err)
		}
	}
	ix, err := e.FinalizeRaiseIx(model)
	if err != nil {
		return solana.PublicKey{}, err
	}
	if _, err := e.Send(ctx, e.Admin, nil, ix); err != nil {
		return solana.PublicKey{}, fmt.Errorf("finalize_raise: %w", err)
	}
	return model, nil
}

// NewKey is the id keypair of a fresh random API key: it signs the
// opening of (or rotation to) the key's escrow.
func NewKey() solana.PrivateKey {
	key, err := apikey.Generate()
	if err != nil {
		panic(err)
	}
	return apikey.Signer(key)
}

// ---- escrows ----

// OpenEscrowIx opens the escrow of key id; the id must sign too.
func (e *Env) OpenEscrowIx(owner, key solana.PublicKey, args im.OpenEscrowArgs) (solana.Instruction, error) {
	return ix.OpenEscrow(owner, key, args)
}

func (e *Env) DepositIx(depositor, escrow solana.PublicKey, amount uint64, expectedOwner solana.PublicKey) (solana.Instruction, error) {
	return ix.DepositEscrow(depositor, escrow, e.NativeATA(depositor), expectedOwner, ix.Native{Mint: e.NativeMint, Program: e.NativeProgram}, amount)
}

func (e *Env) RequestWithdrawalIx(owner, escrow solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return ix.RequestWithdrawal(owner, escrow, amount)
}

func (e *Env) WithdrawEscrowIx(owner, escrow solana.PublicKey) (solana.Instruction, error) {
	return ix.WithdrawEscrow(owner, escrow, e.NativeATA(owner), ix.Native{Mint: e.NativeMint, Program: e.NativeProgram})
}

// Escrow opens an escrow for a new key owned by owner, with the given
// rules, and deposits amount (if any) in the same transaction.
func (e *Env) Escrow(ctx context.Context, owner solana.PrivateKey, amount uint64, allowed []uint64, limit *uint64) (solana.PublicKey, error) {
	args := im.OpenEscrowArgs{SpendLimit: limit}
	if allowed != nil {
		args.AllowedModels = &allowed
	}
	key := NewKey()
	escrow := pda.Escrow(key.PublicKey())
	open, err := e.OpenEscrowIx(owner.PublicKey(), key.PublicKey(), args)
	if err != nil {
		return escrow, err
	}
	ixs := []solana.Instruction{open}
	if amount > 0 {
		deposit, err := e.DepositIx(owner.PublicKey(), escrow, amount, owner.PublicKey())
		if err != nil {
			return escrow, err
		}
		ixs = append(ixs, deposit)
	}
	if _, err := e.Send(ctx, owner, []solana.PrivateKey{key}, ixs...); err != nil {
		return escrow, fmt.Errorf("open escrow: %w", err)
	}
	return escrow, nil
}

// ---- nodes ----

// Node is a registered node and its keys.
type Node struct {
	Operator, Keeper solana.PrivateKey
	Settle           settlement.Node
}

func (e *Env) RegisterNodeIx(operator solana.PublicKey, args im.RegisterNodeArgs) (solana.Instruction, error) {
	return ix.RegisterNode(operator, e.NativeATA(operator), ix.Native{Mint: e.NativeMint, Program: e.NativeProgram}, args)
}

// RegisterNode registers a node for a new operator staking stake, with a new keeper key.
func (e *Env) RegisterNode(ctx context.Context, stake uint64) (*Node, error) {
	operator, err := e.Wallet(ctx, stake)
	if err != nil {
		return nil, err
	}
	keeper, err := e.Chain.Fund(ctx, 10)
	if err != nil {
		return nil, err
	}
	ix, err := e.RegisterNodeIx(operator.PublicKey(), im.RegisterNodeArgs{Keeper: keeper.PublicKey(), Endpoint: "https://node.example/v1", Stake: stake})
	if err != nil {
		return nil, err
	}
	if _, err := e.Send(ctx, operator, nil, ix); err != nil {
		return nil, fmt.Errorf("register_node: %w", err)
	}
	return &Node{Operator: operator, Keeper: keeper, Settle: settlement.Node{
		Keeper: keeper.PublicKey(), Operator: operator.PublicKey(), OperatorAccount: e.NativeATA(operator.PublicKey()),
		NativeMint: e.NativeMint, TokenProgram: e.NativeProgram,
	}}, nil
}

// SettleTx is the transaction settling l, signed and paid by n's keeper,
// resolving accounts through tables when given (a v0 transaction).
func (e *Env) SettleTx(n *Node, l *settlement.Layout, tables map[solana.PublicKey]solana.PublicKeySlice) (txsend.Tx, error) {
	ix, err := settlement.Instruction(n.Settle, l)
	if err != nil {
		return txsend.Tx{}, err
	}
	return txsend.Tx{Instructions: []solana.Instruction{ix}, Payer: n.Keeper.PublicKey(), Signers: []solana.PrivateKey{n.Keeper}, AddressTables: tables}, nil
}

// State reads what settling l for n depends on: the meter's split, the
// batch's models and escrows, the clock and the node's registration.
func (e *Env) State(ctx context.Context, n *Node, l *settlement.Layout) (settlement.State, error) {
	s := settlement.State{Models: map[solana.PublicKey]settlement.Model{}, Escrows: map[solana.PublicKey]settlement.Escrow{}}
	keys := append([]solana.PublicKey{pda.Meter(), pda.Node(n.Operator.PublicKey()), solana.SysVarClockPubkey}, l.Models...)
	keys = append(keys, l.Escrows...)
	accounts, err := e.accounts(ctx, keys)
	if err != nil {
		return s, err
	}
	cfg, err := im.ParseAccount_MeterConfig(accounts[0])
	if err != nil {
		return s, fmt.Errorf("meter: %w", err)
	}
	node, err := im.ParseAccount_Node(accounts[1])
	if err != nil {
		return s, fmt.Errorf("node: %w", err)
	}
	clock := accounts[2]
	if len(clock) < 40 {
		return s, fmt.Errorf("clock sysvar too short")
	}
	s.SettlementFeeBps, s.OperatorShareBps = cfg.SettlementFeeBps, cfg.OperatorShareBps
	s.RegisteredAt = node.RegisteredAt
	s.Now = int64(binary.LittleEndian.Uint64(clock[32:40]))
	for i, k := range l.Models {
		m, err := mt.ParseAccount_Model(accounts[3+i])
		if err != nil {
			return s, fmt.Errorf("model %s: %w", k, err)
		}
		s.Models[k] = settlement.Model{ID: m.Id, Active: m.Stage == mt.Stage_Active, Pricing: settlement.PricingOf(m)}
	}
	for i, k := range l.Escrows {
		esc, err := im.ParseAccount_Escrow(accounts[3+len(l.Models)+i])
		if err != nil {
			return s, fmt.Errorf("escrow %s: %w", k, err)
		}
		s.Escrows[k] = settlement.EscrowOf(esc, pda.Node(n.Operator.PublicKey()))
	}
	return s, nil
}

// accounts reads the data of keys (in batches of 100); a missing account is an error.
func (e *Env) accounts(ctx context.Context, keys []solana.PublicKey) ([][]byte, error) {
	out := make([][]byte, 0, len(keys))
	for start := 0; start < len(keys); start += 100 {
		end := min(start+100, len(keys))
		res, err := e.Chain.RPC.GetMultipleAccountsWithOpts(ctx, keys[start:end], &rpc.GetMultipleAccountsOpts{Commitment: rpc.CommitmentConfirmed})
		if err != nil {
			return nil, fmt.Errorf("get accounts: %w", err)
		}
		for i, a := range res.Value {
			if a == nil {
				return nil, fmt.Errorf("account %s does not exist", keys[start+i])
			}
			out = append(out, a.Data.GetBinary())
		}
	}
	return out, nil
}

// Escrows reads escrow accounts.
func (e *Env) Escrows(ctx context.Context, keys []solana.PublicKey) ([]*im.Escrow, error) {
	data, err := e.accounts(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*im.Escrow, len(keys))
	for i, d := range data {
		if out[i], err = im.ParseAccount_Escrow(d); err != nil {
			return nil, fmt.Errorf("escrow %s: %w", keys[i], err)
		}
	}
	return out, nil
}

// ---- address lookup tables ----

// LookupTable creates a table owned by authority holding addresses (create,
// then extend 20 addresses per transaction), and waits until it is usable:
// a table resolves from the slot after its last extension.
func (e *Env) LookupTable(ctx context.Context, authority solana.PrivateKey, addresses []solana.PublicKey) (solana.PublicKey, error) {
	slot, err := e.Chain.RPC.GetSlot(ctx, rpc.CommitmentFinalized)
	if err != nil {
		return solana.PublicKey{}, err
	}
	create, table, err := alt.NewCreateLookupTableInstruction(authority.PublicKey(), authority.PublicKey(), slot)
	if err != nil {
		return solana.PublicKey{}, err
	}
	if _, err := e.Send(ctx, authority, nil, create.Build()); err != nil {
		return solana.PublicKey{}, fmt.Errorf("create lookup table: %w", err)
	}
	for start := 0; start < len(addresses); start += 20 {
		chunk := addresses[start:min(start+20, len(addresses))]
		extend := alt.NewExtendLookupTableInstruction(table, authority.PublicKey(), authority.PublicKey(), chunk)
		if _, err := e.Send(ctx, authority, nil, extend.Build()); err != nil {
			return solana.PublicKey{}, fmt.Errorf("extend lookup table: %w", err)
		}
	}
	if err := e.Chain.WarpSlots(ctx, 1); err != nil && err != golocal.ErrNoTimeTravel {
		return solana.PublicKey{}, err
	} else if err == golocal.ErrNoTimeTravel {
		time.Sleep(time.Second) // a couple of slots on a real cluster
	}
	return table, nil
}
