// Package treasury drives mt_treasury's launch and crowdfund over JSON-RPC
// with the generated client, the way the CLI does: it builds each
// instruction with every account derived (clients/pda) and sends it with
// clients/txsend. The localnet tests in this directory and the benchmark
// (tools/progbench) share it. Nothing here is specific to the local chain
// except Env.WaitUntil, which time-travels when it can and waits otherwise.
package treasury

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// NativeUnit is one whole native token (6 decimals) in base units.
const NativeUnit = 1_000_000

// MtUnit is one whole MT in base units (the program's MT_UNIT).
const MtUnit = mt.MT_UNIT

// Env is a chain with an initialised protocol and its native mint.
type Env struct {
	Chain         *golocal.Chain
	Sender        *txsend.Sender
	Admin         solana.PrivateKey
	NativeMint    solana.PublicKey
	NativeProgram solana.PublicKey
	EventAuth     solana.PublicKey
}

// ProtocolArgs are the protocol settings Setup uses: a 5-token set-up fee,
// 2.5% on raises, 1-second minimum periods (so short windows work anywhere).
func ProtocolArgs() mt.InitProtocolArgs {
	return mt.InitProtocolArgs{SetupFee: 5 * NativeUnit, ProtocolFeeBps: 250, SwapFeeBps: 30, SwapProtocolShareBps: 5_000, MinPeriodSecs: 1}
}

// NewEnv funds the admin (the programs' upgrade authority, the only key
// init_protocol accepts) and creates a native mint (6 decimals, no freeze
// authority) of nativeProgram; the protocol is not initialised yet (see
// InitProtocolIx).
func NewEnv(ctx context.Context, c *golocal.Chain, s *txsend.Sender, nativeProgram solana.PublicKey) (*Env, error) {
	admin, err := c.FundUpgradeAuthority(ctx, 100)
	if err != nil {
		return nil, fmt.Errorf("fund admin: %w", err)
	}
	e := &Env{Chain: c, Sender: s, Admin: admin, NativeProgram: nativeProgram, EventAuth: pda.EventAuthority(mt.ProgramID)}
	mint := solana.NewWallet().PrivateKey
	rent, err := c.RPC.GetMinimumBalanceForRentExemption(ctx, tokens.MintSize, rpc.CommitmentConfirmed)
	if err != nil {
		return nil, err
	}
	if _, err := e.Send(ctx, admin, []solana.PrivateKey{mint}, tokens.CreateMint(admin.PublicKey(), mint.PublicKey(), admin.PublicKey(), 6, nativeProgram, rent)...); err != nil {
		return nil, fmt.Errorf("create native mint: %w", err)
	}
	e.NativeMint = mint.PublicKey()
	return e, nil
}

// Setup is NewEnv plus init_protocol with ProtocolArgs.
func Setup(ctx context.Context, c *golocal.Chain, s *txsend.Sender, nativeProgram solana.PublicKey) (*Env, error) {
	e, err := NewEnv(ctx, c, s, nativeProgram)
	if err != nil {
		return nil, err
	}
	ix, err := e.InitProtocolIx(ProtocolArgs())
	if err != nil {
		return nil, err
	}
	if _, err := e.Send(ctx, e.Admin, nil, ix); err != nil {
		return nil, fmt.Errorf("init_protocol: %w", err)
	}
	return e, nil
}

// Send sends ixs paid by payer and also signed by extra.
func (e *Env) Send(ctx context.Context, payer solana.PrivateKey, extra []solana.PrivateKey, ixs ...solana.Instruction) (solana.Signature, error) {
	return e.Sender.Send(ctx, e.Tx(payer, extra, ixs...))
}

// Tx is the txsend transaction of ixs paid by payer and also signed by extra.
func (e *Env) Tx(payer solana.PrivateKey, extra []solana.PrivateKey, ixs ...solana.Instruction) txsend.Tx {
	return txsend.Tx{Instructions: ixs, Payer: payer.PublicKey(), Signers: append([]solana.PrivateKey{payer}, extra...)}
}

// Wallet funds a new keypair with SOL and native base units in its associated account.
func (e *Env) Wallet(ctx context.Context, native uint64) (solana.PrivateKey, error) {
	w, err := e.Chain.Fund(ctx, 10)
	if err != nil {
		return nil, err
	}
	ata := e.NativeATA(w.PublicKey())
	_, err = e.Send(ctx, e.Admin, nil,
		tokens.CreateATAIdempotent(e.Admin.PublicKey(), w.PublicKey(), e.NativeMint, e.NativeProgram),
		tokens.MintTo(e.NativeMint, ata, e.Admin.PublicKey(), native, e.NativeProgram))
	if err != nil {
		return nil, fmt.Errorf("fund wallet with native tokens: %w", err)
	}
	return w, nil
}

// NativeATA is owner's associated native-token account.
func (e *Env) NativeATA(owner solana.PublicKey) solana.PublicKey {
	return tokens.ATA(owner, e.NativeMint, e.NativeProgram)
}

// MtATA is owner's associated MT account for model.
func MtATA(owner, model solana.PublicKey) solana.PublicKey {
	return tokens.ATA(owner, pda.MtMint(model), solana.Token2022ProgramID)
}

// CreateMtATA creates owner's associated MT account for model if missing.
func CreateMtATA(payer, owner, model solana.PublicKey) solana.Instruction {
	return tokens.CreateATAIdempotent(payer, owner, pda.MtMint(model), solana.Token2022ProgramID)
}

// Protocol reads the protocol account.
func (e *Env) Protocol(ctx context.Context) (*mt.Protocol, error) {
	info, err := e.Chain.RPC.GetAccountInfoWithOpts(ctx, pda.Protocol(), &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, fmt.Errorf("read protocol: %w", err)
	}
	return mt.ParseAccount_Protocol(info.Value.Data.GetBinary())
}

// Model reads a model account.
func (e *Env) Model(ctx context.Context, model solana.PublicKey) (*mt.Model, error) {
	info, err := e.Chain.RPC.GetAccountInfoWithOpts(ctx, model, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", model, err)
	}
	return mt.ParseAccount_Model(info.Value.Data.GetBinary())
}

// Contribution reads contributor's contribution to model.
func (e *Env) Contribution(ctx context.Context, model, contributor solana.PublicKey) (*mt.Contribution, error) {
	addr := pda.Contribution(model, contributor)
	info, err := e.Chain.RPC.GetAccountInfoWithOpts(ctx, addr, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, fmt.Errorf("read contribution %s: %w", addr, err)
	}
	return mt.ParseAccount_Contribution(info.Value.Data.GetBinary())
}

// WaitUntil moves the chain's clock to at least t: by time travel on the
// local chain, by waiting on any other cluster.
func (e *Env) WaitUntil(ctx context.Context, t time.Time) error {
	err := e.Chain.TimeTravel(ctx, t)
	if err == nil || !errors.Is(err, golocal.ErrNoTimeTravel) {
		return err
	}
	for {
		now, err := e.Chain.Now(ctx)
		if err != nil {
			return err
		}
		if !now.Before(t) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(400 * time.Millisecond):
		}
	}
}

// DefaultTerms: 100 000 MT (20k creator, 50k sale, 20k liquidity, 10k
// rewards), 2 native per MT, soft cap 40 000, hard cap 100 000 (the whole
// sale), 60 000 per wallet, open from now for window, 20% of the net raise
// to liquidity, vesting over 1 000 s with a 100 s cliff.
func DefaultTerms(now time.Time, window time.Duration) mt.LaunchModelArgs {
	return mt.LaunchModelArgs{
		Supply: mt.SupplySplit{
			HardSupply: 100_000 * MtUnit, Creator: 20_000 * MtUnit, Crowdfund: 50_000 * MtUnit,
			Liquidity: 20_000 * MtUnit, ContributorRewards: 10_000 * MtUnit,
		},
		Vesting: mt.VestingTerms{CliffSecs: 100, DurationSecs: 1_000},
		Crowdfund: mt.CrowdfundTerms{
			Price: 2 * NativeUnit, SoftCap: 40_000 * NativeUnit, HardCap: 100_000 * NativeUnit,
			Start: now.Unix(), End: now.Add(window).Unix(), PerWalletCap: 60_000 * NativeUnit, LiquidityBps: 2_000,
		},
		Governance:        mt.GovernanceRules{QuorumBps: 1_000, ThresholdBps: 5_000, VotingPeriodSecs: 3_600, HoldUpSecs: 3_600, MinProposeMt: 1_000 * MtUnit},
		DepositorShareBps: 7_000,
		Price:             mt.QueryPrice{InputPer1k: 10, OutputPer1k: 30},
	}
}

// TokenArgs is the MT metadata the scenarios use.
func TokenArgs() mt.CreateModelTokenArgs {
	return mt.CreateModelTokenArgs{Name: "Tiny Llama Commons", Symbol: "TLC", Uri: "https://example.org/models/tiny-llama-commons.json"}
}

// ---- instructions, every account derived ----

func (e *Env) InitProtocolIx(args mt.InitProtocolArgs) (solana.Instruction, error) {
	return ix.InitProtocol(e.Admin.PublicKey(), e.NativeMint, e.NativeProgram, args)
}

func (e *Env) UpdateProtocolIx(admin solana.PublicKey, args mt.UpdateProtocolArgs) (solana.Instruction, error) {
	return ix.UpdateProtocol(admin, args)
}

// LaunchModelIx launches model number id (the protocol's model_count).
func (e *Env) LaunchModelIx(creator solana.PublicKey, id uint64, args mt.LaunchModelArgs) (solana.Instruction, error) {
	return ix.LaunchModel(creator, e.NativeATA(creator), id, ix.Native{Mint: e.NativeMint, Program: e.NativeProgram, FeeVault: pda.FeeVault()}, args)
}

func (e *Env) CreateModelTokenIx(creator, model solana.PublicKey, args mt.CreateModelTokenArgs) (solana.Instruction, error) {
	return ix.CreateModelToken(creator, model, args)
}

func (e *Env) OpenModelVaultsIx(creator, model solana.PublicKey) (solana.Instruction, error) {
	return ix.OpenModelVaults(creator, model, ix.Native{Mint: e.NativeMint, Program: e.NativeProgram})
}

func (e *Env) ContributeIx(contributor, model solana.PublicKey, args mt.ContributeArgs) (solana.Instruction, error) {
	return ix.Contribute(contributor, model, e.NativeATA(contributor), ix.Native{Mint: e.NativeMint, Program: e.NativeProgram}, args)
}

func (e *Env) FinalizeRaiseIx(model solana.PublicKey) (solana.Instruction, error) {
	return ix.FinalizeRaise(model, ix.Native{Mint: e.NativeMint, Program: e.NativeProgram, FeeVault: pda.FeeVault()})
}

func (e *Env) ClaimMtIx(contributor, model, destination solana.PublicKey) (solana.Instruction, error) {
	return ix.ClaimMt(contributor, model, destination)
}

func (e *Env) RefundIx(contributor, model, destination solana.PublicKey) (solana.Instruction, error) {
	return ix.Refund(contributor, model, destination, ix.Native{Mint: e.NativeMint, Program: e.NativeProgram})
}

func (e *Env) ClaimVestedIx(creator, model, destination solana.PublicKey) (solana.Instruction, error) {
	return ix.ClaimVested(creator, model, destination)
}

// Launch runs the three launch steps as three transactions (see
// launch_model's documentation for why) and returns the model's address.
func (e *Env) Launch(ctx context.Context, creator solana.PrivateKey, args mt.LaunchModelArgs) (solana.PublicKey, error) {
	p, err := e.Protocol(ctx)
	if err != nil {
		return solana.PublicKey{}, err
	}
	model := pda.Model(p.ModelCount)
	steps := []func() (solana.Instruction, error){
		func() (solana.Instruction, error) { return e.LaunchModelIx(creator.PublicKey(), p.ModelCount, args) },
		func() (solana.Instruction, error) {
			return e.CreateModelTokenIx(creator.PublicKey(), model, TokenArgs())
		},
		func() (solana.Instruction, error) { return e.OpenModelVaultsIx(creator.PublicKey(), model) },
	}
	for i, step := range steps {
		ix, err := step()
		if err != nil {
			return solana.PublicKey{}, err
		}
		if _, err := e.Send(ctx, creator, nil, ix); err != nil {
			return solana.PublicKey{}, fmt.Errorf("launch step %d/3: %w", i+1, err)
		}
	}
	return model, nil
}
