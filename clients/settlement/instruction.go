package settlement

import (
	"fmt"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Node names the settling node and where its money goes.
type Node struct {
	// Keeper is the node's keeper hot key: the signer (and usually the fee payer).
	Keeper solana.PublicKey
	// Operator registered the node; OperatorAccount is one of its native-token
	// accounts, which receives the operator share.
	Operator, OperatorAccount solana.PublicKey
	NativeMint, TokenProgram  solana.PublicKey
}

// ModelVaults derives a model's revenue and treasury vaults.
func ModelVaults(model solana.PublicKey) (revenue, treasury solana.PublicKey) {
	return pda.RevenueVault(model), pda.TreasuryVault(model)
}

// Instruction is the settle instruction for l, by node n.
func Instruction(n Node, l *Layout) (solana.Instruction, error) {
	node := pda.Node(n.Operator)
	// Anchor reads an optional account as absent when the program id stands in its place.
	membership, domain, domainAccount := meter.ProgramID, meter.ProgramID, meter.ProgramID
	if l.Domain != nil {
		domain, domainAccount = l.Domain.Domain, l.Domain.OperatorAccount
		membership = pda.Membership(domain, node)
		if domainAccount.Equals(n.OperatorAccount) {
			// The domain operator's own node: one account takes both
			// shares (a writable account may appear only once).
			domainAccount = meter.ProgramID
		}
	}
	ix, err := meter.NewSettleInstruction(l.Args,
		n.Keeper, node, pda.Meter(), pda.Protocol(), pda.EscrowVault(), pda.FeeVault(),
		n.OperatorAccount, n.NativeMint, n.TokenProgram, mt.ProgramID, pda.EventAuthority(mt.ProgramID),
		membership, domain, domainAccount,
		pda.EventAuthority(meter.ProgramID), meter.ProgramID)
	if err != nil {
		return nil, fmt.Errorf("settle batch %d: %w", l.Args.BatchSeq, err)
	}
	fixed := ix.Accounts()
	for _, a := range fixed[settleDomainAccounts : settleDomainAccounts+3] {
		if a.PublicKey.Equals(meter.ProgramID) {
			// A placeholder must not ask for a write lock on the program.
			a.IsWritable = false
		}
	}
	accounts := append(fixed, l.RemainingAccounts(ModelVaults)...)
	data, err := ix.Data()
	if err != nil {
		return nil, fmt.Errorf("settle batch %d: %w", l.Args.BatchSeq, err)
	}
	return solana.NewInstruction(meter.ProgramID, accounts, data), nil
}

// settleOperatorAccount is the position of the node operator's account.
const settleOperatorAccount = 6

// settleDomainAccounts is the position of the membership account, the
// first of settle's three optional domain accounts.
const settleDomainAccounts = 11

// FixedTableAddresses are the settle accounts every batch of node n uses,
// other than the keeper (a signer) and the meter program (the invoked
// program): put them in an address lookup table once.
func FixedTableAddresses(n Node) []solana.PublicKey {
	return []solana.PublicKey{
		pda.Node(n.Operator), pda.Meter(), pda.Protocol(), pda.EscrowVault(), pda.FeeVault(),
		n.OperatorAccount, n.NativeMint, n.TokenProgram, mt.ProgramID, pda.EventAuthority(mt.ProgramID),
		pda.EventAuthority(meter.ProgramID),
	}
}

// ModelTableAddresses are a model's three settle accounts, for a lookup table.
func ModelTableAddresses(model solana.PublicKey) []solana.PublicKey {
	revenue, treasury := ModelVaults(model)
	return []solana.PublicKey{model, revenue, treasury}
}
