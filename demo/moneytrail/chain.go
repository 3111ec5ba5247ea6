package moneytrail

import (
	"context"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Holder is one wallet's MT deposit in one model.
type Holder struct {
	Name  string
	Owner solana.PublicKey
	Model solana.PublicKey
	Voter solana.PublicKey
}

// Accounts names what a trail follows.
type Accounts struct {
	// Node is the settling node's account (inference_meter Node PDA).
	Node solana.PublicKey
	// OperatorAccount receives the operator share.
	OperatorAccount solana.PublicKey
	Escrows         []solana.PublicKey
	Models          []solana.PublicKey
	Holders         []Holder
	// Domain, if set, is the domain whose lanes the node's batches debit
	// (the node is its member): escrows are read as the domain's lanes and
	// the domain's fee account is followed too.
	Domain *DomainAccounts
}

// DomainAccounts names a domain a node settles for and its fee account.
type DomainAccounts struct {
	Domain     solana.PublicKey
	FeeAccount solana.PublicKey
}

// Snapshot is the state settlement moves, read at one moment.
type Snapshot struct {
	LastBatchSeq uint64
	// LastRunSeq is the node's highest settled run number.
	LastRunSeq   uint64
	RegisteredAt int64
	// Escrows are read as the node settles them: Balance is its lane.
	Escrows map[solana.PublicKey]settlement.Escrow
	Tokens  map[solana.PublicKey]uint64
	Models  map[solana.PublicKey]*mt.Model
	Voters  map[solana.PublicKey]*mt.Voter
	// Domain is the domain and the node's membership (Accounts.Domain set).
	Domain *settlement.DomainState
}

func (a Accounts) tokenAccounts() []solana.PublicKey {
	out := []solana.PublicKey{pda.FeeVault(), pda.EscrowVault(), a.OperatorAccount}
	if a.Domain != nil {
		out = append(out, a.Domain.FeeAccount)
	}
	for _, m := range a.Models {
		out = append(out, pda.RevenueVault(m), pda.TreasuryVault(m))
	}
	return out
}

// Take reads a snapshot of every account the trail follows.
func Take(ctx context.Context, client *rpc.Client, a Accounts) (*Snapshot, error) {
	s := &Snapshot{
		Escrows: map[solana.PublicKey]settlement.Escrow{}, Tokens: map[solana.PublicKey]uint64{},
		Models: map[solana.PublicKey]*mt.Model{}, Voters: map[solana.PublicKey]*mt.Voter{},
	}
	node, err := readNode(ctx, client, a.Node)
	if err != nil {
		return nil, err
	}
	s.LastBatchSeq, s.LastRunSeq, s.RegisteredAt = node.LastBatchSeq, node.LastRunSeq, node.RegisteredAt
	lane := a.Node
	if a.Domain != nil {
		lane = a.Domain.Domain
		if s.Domain, err = readDomain(ctx, client, a.Domain.Domain, a.Node); err != nil {
			return nil, err
		}
	}
	for _, e := range a.Escrows {
		data, err := account(ctx, client, e)
		if err != nil {
			return nil, fmt.Errorf("escrow %s: %w", e, err)
		}
		esc, err := im.ParseAccount_Escrow(data)
		if err != nil {
			return nil, fmt.Errorf("escrow %s: %w", e, err)
		}
		s.Escrows[e] = settlement.EscrowOf(esc, lane)
	}
	for _, t := range a.tokenAccounts() {
		b, err := tokens.Balance(ctx, client, t)
		if err != nil {
			return nil, fmt.Errorf("balance of %s: %w", t, err)
		}
		s.Tokens[t] = b
	}
	for _, m := range a.Models {
		data, err := account(ctx, client, m)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", m, err)
		}
		md, err := mt.ParseAccount_Model(data)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", m, err)
		}
		s.Models[m] = md
	}
	for _, h := range a.Holders {
		data, err := account(ctx, client, h.Voter)
		if errors.Is(err, rpc.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("voter %s: %w", h.Voter, err)
		}
		v, err := mt.ParseAccount_Voter(data)
		if err != nil {
			return nil, fmt.Errorf("voter %s: %w", h.Voter, err)
		}
		s.Voters[h.Voter] = v
	}
	return s, nil
}

func account(ctx context.Context, client *rpc.Client, key solana.PublicKey) ([]byte, error) {
	res, err := client.GetAccountInfoWithOpts(ctx, key, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		return nil, err
	}
	if res == nil || res.Value == nil {
		return nil, rpc.ErrNotFound
	}
	return res.Value.Data.GetBinary(), nil
}

func readNode(ctx context.Context, client *rpc.Client, node solana.PublicKey) (*im.Node, error) {
	data, err := account(ctx, client, node)
	if err != nil {
		return nil, fmt.Errorf("read node %s: %w", node, err)
	}
	return im.ParseAccount_Node(data)
}

func readMeter(ctx context.Context, client *rpc.Client) (*im.MeterConfig, error) {
	data, err := account(ctx, client, pda.Meter())
	if err != nil {
		return nil, fmt.Errorf("read meter: %w", err)
	}
	return im.ParseAccount_MeterConfig(data)
}

// readDomain reads a domain and node's membership of it.
func readDomain(ctx context.Context, client *rpc.Client, domain, node solana.PublicKey) (*settlement.DomainState, error) {
	data, err := account(ctx, client, domain)
	if err != nil {
		return nil, fmt.Errorf("read domain %s: %w", domain, err)
	}
	d, err := im.ParseAccount_Domain(data)
	if err != nil {
		return nil, fmt.Errorf("domain %s: %w", domain, err)
	}
	if data, err = account(ctx, client, pda.Membership(domain, node)); err != nil {
		return nil, fmt.Errorf("read node %s's membership of %s: %w", node, domain, err)
	}
	m, err := im.ParseAccount_Membership(data)
	if err != nil {
		return nil, fmt.Errorf("membership of %s: %w", domain, err)
	}
	return &settlement.DomainState{Domain: d, Membership: m}, nil
}
