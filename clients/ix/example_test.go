package ix_test

import (
	"fmt"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Depositing MT to vote: the caller names the owner, the model and its own
// MT account; the builder derives the voter record, the deposit vault and
// the MT mint.
func ExampleDepositMt() {
	owner := solana.MustPublicKeyFromBase58("9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin")
	model := pda.Model(1)
	source := tokens.ATA(owner, pda.MtMint(model), solana.Token2022ProgramID)
	i, err := ix.DepositMt(owner, model, source, 5_000_000)
	if err != nil {
		fmt.Println(err)
		return
	}
	accounts := i.Accounts()
	fmt.Println(len(accounts), "accounts")
	fmt.Println("signer is the owner:", accounts[0].IsSigner && accounts[0].PublicKey.Equals(owner))
	fmt.Println("voter record derived:", accounts[2].PublicKey.Equals(pda.Voter(model, owner)))
	// Output:
	// 10 accounts
	// signer is the owner: true
	// voter record derived: true
}

// A proposal that pays from the treasury names its destination in the
// action; the builder passes it as the optional account.
func ExampleCreateProposal() {
	proposer := solana.MustPublicKeyFromBase58("9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin")
	model := pda.Model(1)
	dest := solana.MustPublicKeyFromBase58("So11111111111111111111111111111111111111112")
	i, err := ix.CreateProposal(proposer, model, 0, mt.CreateProposalArgs{
		Action: &mt.ProposalAction_TransferNative{Destination: dest, Amount: 1_000},
		Uri:    "https://example.org/p/0",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("proposal 0:", i.Accounts()[4].PublicKey.Equals(pda.Proposal(model, 0)), "destination:", i.Accounts()[6].PublicKey.Equals(dest))
	// Output:
	// proposal 0: true destination: true
}
