// Package dao drives mt_treasury's stage 3 over JSON-RPC with the generated
// client, the way the CLI does: MT deposits, proposals, votes, revenue and
// the market. It builds on tests/treasury's Env (a chain with the protocol)
// and is shared by the localnet tests in this directory and the benchmark
// (tools/progbench). Every account is derived with clients/pda.
package dao

import (
	"context"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

// Env is a treasury environment with stage-3 instruction builders.
type Env struct {
	*treasury.Env
}

// Active is a model whose raise sold out and finalised, with every
// contributor's MT claimed into their associated MT account.
type Active struct {
	Model   solana.PublicKey
	Creator solana.PrivateKey
	// Holders bought 30 000 MT and 20 000 MT (the whole sale: 60 000 and 40 000 native).
	Holders []solana.PrivateKey
}

// Terms are tests/treasury's DefaultTerms with a sale that sells out at
// once and governance periods of votingPeriod (voting, hold-up; the warm-up
// of deposits follows the voting period).
func Terms(now time.Time, votingPeriod time.Duration) mt.LaunchModelArgs {
	terms := treasury.DefaultTerms(now, time.Hour)
	terms.Governance.VotingPeriodSecs = int64(votingPeriod / time.Second)
	terms.Governance.HoldUpSecs = int64(votingPeriod / time.Second)
	return terms
}

// WaitVotes moves the chain's clock until every MT the owners have
// deposited votes on proposals created from then on (its warm-up is over):
// vote weight is a snapshot of MT deposited and warmed up before a
// proposal is created.
func (e Env) WaitVotes(ctx context.Context, model solana.PublicKey, owners ...solana.PublicKey) error {
	var until int64
	for _, o := range owners {
		v, err := e.Voter(ctx, model, o)
		if err != nil {
			return err
		}
		until = max(until, rules.VotesFrom(v))
	}
	return e.WaitUntil(ctx, time.Unix(until, 0))
}

// LaunchActive launches a model with terms, sells it out to two holders,
// finalises it and claims their MT.
func (e Env) LaunchActive(ctx context.Context, terms mt.LaunchModelArgs) (*Active, error) {
	creator, err := e.Wallet(ctx, 100*treasury.NativeUnit)
	if err != nil {
		return nil, err
	}
	model, err := e.Launch(ctx, creator, terms)
	if err != nil {
		return nil, err
	}
	a := &Active{Model: model, Creator: creator}
	for _, paid := range []uint64{60_000 * treasury.NativeUnit, 40_000 * treasury.NativeUnit} {
		w, err := e.Wallet(ctx, paid+1_000*treasury.NativeUnit)
		if err != nil {
			return nil, err
		}
		ix, err := e.ContributeIx(w.PublicKey(), model, mt.ContributeArgs{Amount: paid})
		if err != nil {
			return nil, err
		}
		if _, err := e.Send(ctx, w, nil, ix); err != nil {
			return nil, fmt.Errorf("contribute: %w", err)
		}
		a.Holders = append(a.Holders, w)
	}
	fin, err := e.FinalizeRaiseIx(model)
	if err != nil {
		return nil, err
	}
	if _, err := e.Send(ctx, e.Admin, nil, fin); err != nil {
		return nil, fmt.Errorf("finalize_raise: %w", err)
	}
	for _, w := range a.Holders {
		claim, err := e.ClaimMtIx(w.PublicKey(), model, treasury.MtATA(w.PublicKey(), model))
		if err != nil {
			return nil, err
		}
		if _, err := e.Send(ctx, w, nil, treasury.CreateMtATA(w.PublicKey(), w.PublicKey(), model), claim); err != nil {
			return nil, fmt.Errorf("claim_mt: %w", err)
		}
	}
	return a, nil
}

// ---- deposits and rewards ----

func (e Env) DepositMtIx(owner, model solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return ix.DepositMt(owner, model, treasury.MtATA(owner, model), amount)
}

func (e Env) WithdrawMtIx(owner, model, destination solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return ix.WithdrawMt(owner, model, destination, amount)
}

func (e Env) CheckpointVoterIx(model, owner solana.PublicKey) (solana.Instruction, error) {
	return ix.CheckpointVoter(model, owner)
}

func (e Env) ClaimRewardsIx(owner, model, destination solana.PublicKey) (solana.Instruction, error) {
	return ix.ClaimRewards(owner, model, destination, ix.Native{Mint: e.NativeMint, Program: e.NativeProgram})
}

func (e Env) DepositRevenueIx(payer, model solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return ix.DepositRevenue(payer, model, e.NativeATA(payer), ix.Native{Mint: e.NativeMint, Program: e.NativeProgram}, amount)
}

// ---- proposals ----

// CreateProposalIx proposes args as model's proposal number index (the model's proposal_count).
func (e Env) CreateProposalIx(proposer, model solana.PublicKey, index uint64, args mt.CreateProposalArgs) (solana.Instruction, error) {
	return ix.CreateProposal(proposer, model, index, args)
}

func (e Env) CastVoteIx(owner, model solana.PublicKey, index uint64, choice mt.VoteChoice) (solana.Instruction, error) {
	proposal := pda.Proposal(model, index)
	return ix.CastVote(owner, model, proposal, choice)
}

func (e Env) FinalizeProposalIx(model solana.PublicKey, index uint64) (solana.Instruction, error) {
	return ix.FinalizeProposal(model, pda.Proposal(model, index))
}

// ExecuteProposalIx executes a proposal whose action is action (its transfer destination is passed).
func (e Env) ExecuteProposalIx(model solana.PublicKey, index uint64, action mt.ProposalAction) (solana.Instruction, error) {
	return ix.ExecuteProposal(model, index, action, ix.Native{Mint: e.NativeMint, Program: e.NativeProgram})
}

func (e Env) CancelProposalIx(proposer, model solana.PublicKey, index uint64) (solana.Instruction, error) {
	return ix.CancelProposal(proposer, model, index)
}

// ---- market ----

func (e Env) OpenMarketIx(model solana.PublicKey) (solana.Instruction, error) {
	return ix.OpenMarket(model)
}

// SwapIx trades through trader's associated native and MT accounts.
func (e Env) SwapIx(trader, model solana.PublicKey, args mt.SwapArgs) (solana.Instruction, error) {
	return ix.Swap(trader, model, e.NativeATA(trader), treasury.MtATA(trader, model), ix.Native{Mint: e.NativeMint, Program: e.NativeProgram, FeeVault: pda.FeeVault()}, args)
}

// ---- reads ----

func (e Env) read(ctx context.Context, addr solana.PublicKey) ([]byte, error) {
	info, err := e.Chain.RPC.GetAccountInfoWithOpts(ctx, addr, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", addr, err)
	}
	return info.Value.Data.GetBinary(), nil
}

// Voter reads owner's voter record in model.
func (e Env) Voter(ctx context.Context, model, owner solana.PublicKey) (*mt.Voter, error) {
	data, err := e.read(ctx, pda.Voter(model, owner))
	if err != nil {
		return nil, err
	}
	return mt.ParseAccount_Voter(data)
}

// Proposal reads model's proposal number index.
func (e Env) Proposal(ctx context.Context, model solana.PublicKey, index uint64) (*mt.Proposal, error) {
	data, err := e.read(ctx, pda.Proposal(model, index))
	if err != nil {
		return nil, err
	}
	return mt.ParseAccount_Proposal(data)
}

// CloseVoteRecordIx returns owner's vote record rent on a proposal that takes no more votes.
func (e Env) CloseVoteRecordIx(owner, model solana.PublicKey, index uint64) (solana.Instruction, error) {
	return ix.CloseVoteRecord(owner, model, index)
}

// CloseVoterIx returns owner's empty voter record's rent.
func (e Env) CloseVoterIx(owner, model solana.PublicKey) (solana.Instruction, error) {
	return ix.CloseVoter(owner, model)
}
