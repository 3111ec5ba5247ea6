package ix

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Each treasury builder derives the accounts the caller does not choose:
// only the owner signs, the PDAs are the model's and the owner's.
func TestTreasuryBuildersDeriveTheirAccounts(t *testing.T) {
	owner, model, tokenAcct := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	native := Native{Mint: solana.NewWallet().PublicKey(), Program: solana.TokenProgramID, FeeVault: solana.NewWallet().PublicKey()}
	proposal := pda.Proposal(model, 3)
	voter := pda.Voter(model, owner)
	b := func(name string, signers, want []solana.PublicKey) func(solana.Instruction, error) built {
		return func(i solana.Instruction, err error) built {
			return built{name: name, ix: i, err: err, signers: signers, want: append(want, model)}
		}
	}
	signer := []solana.PublicKey{owner}
	checkBuilt(t, mt.ProgramID, []built{
		b("contribute", signer, []solana.PublicKey{pda.Contribution(model, owner), pda.RaiseVault(model), native.Mint, pda.Protocol()})(
			Contribute(owner, model, tokenAcct, native, mt.ContributeArgs{Amount: 1})),
		b("finalize_raise", nil, []solana.PublicKey{pda.MtMint(model), pda.Vaults(model).Sale, native.FeeVault, solana.Token2022ProgramID})(
			FinalizeRaise(model, native)),
		b("deposit_mt", signer, []solana.PublicKey{voter, pda.DepositVault(model), pda.MtMint(model)})(DepositMt(owner, model, tokenAcct, 5)),
		b("withdraw_mt", signer, []solana.PublicKey{voter, pda.DepositVault(model), pda.MtMint(model)})(WithdrawMt(owner, model, tokenAcct, 5)),
		b("cast_vote", signer, []solana.PublicKey{voter, pda.Vote(proposal, voter), proposal})(CastVote(owner, model, proposal, mt.VoteChoice_Yes)),
		b("checkpoint_voter", nil, []solana.PublicKey{voter})(CheckpointVoter(model, owner)),
		b("claim_rewards", signer, []solana.PublicKey{voter, pda.RevenueVault(model), native.Mint})(ClaimRewards(owner, model, tokenAcct, native)),
		b("claim_mt", signer, []solana.PublicKey{pda.Contribution(model, owner), pda.SaleVault(model), pda.MtMint(model), tokenAcct})(ClaimMt(owner, model, tokenAcct)),
		b("refund", signer, []solana.PublicKey{pda.Contribution(model, owner), pda.RaiseVault(model), native.Mint, tokenAcct})(Refund(owner, model, tokenAcct, native)),
		b("close_contribution", signer, []solana.PublicKey{pda.Contribution(model, owner)})(CloseContribution(owner, model)),
		b("finalize_proposal", nil, []solana.PublicKey{proposal})(FinalizeProposal(model, proposal)),
		b("open_market", nil, []solana.PublicKey{pda.Protocol()})(OpenMarket(model)),
		b("swap", signer, []solana.PublicKey{pda.Vaults(model).Liquidity, pda.Vaults(model).LiquidityNative, pda.MtMint(model), native.FeeVault, tokenAcct})(
			Swap(owner, model, tokenAcct, pda.Voter(model, model), native, mt.SwapArgs{AmountIn: 1})),
		b("deposit_revenue", signer, []solana.PublicKey{pda.RevenueVault(model), pda.TreasuryVault(model), tokenAcct})(DepositRevenue(owner, model, tokenAcct, native, 1)),
		b("create_model_token", signer, []solana.PublicKey{pda.MtMint(model), solana.Token2022ProgramID})(CreateModelToken(owner, model, mt.CreateModelTokenArgs{})),
		b("open_model_vaults", signer, []solana.PublicKey{pda.Vaults(model).Rewards, pda.Vaults(model).Raise, pda.MtMint(model)})(OpenModelVaults(owner, model, native)),
		b("claim_vested", signer, []solana.PublicKey{pda.CreatorVault(model), tokenAcct})(ClaimVested(owner, model, tokenAcct)),
		b("cancel_proposal", signer, []solana.PublicKey{pda.Proposal(model, 2)})(CancelProposal(owner, model, 2)),
	})
	launch, err := LaunchModel(owner, tokenAcct, 7, native, mt.LaunchModelArgs{})
	checkBuilt(t, mt.ProgramID, []built{{name: "launch_model", ix: launch, err: err, signers: signer,
		want: []solana.PublicKey{pda.Model(7), native.FeeVault, native.Mint, tokenAcct}}})
}

// A transfer proposal names its destination; any other action passes the
// program id, Anchor's "no account".
func TestProposalDestination(t *testing.T) {
	proposer, model, dest := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	has := func(i solana.Instruction, k solana.PublicKey) bool {
		for _, a := range i.Accounts() {
			if a.PublicKey.Equals(k) {
				return true
			}
		}
		return false
	}
	transfer, err := CreateProposal(proposer, model, 0, mt.CreateProposalArgs{Action: &mt.ProposalAction_TransferMt{Destination: dest, Amount: 1}})
	if err != nil || !has(transfer, dest) || !has(transfer, pda.Proposal(model, 0)) {
		t.Fatalf("transfer proposal: %v", err)
	}
	signal, err := ExecuteProposal(model, 4, &mt.ProposalAction_Signal{}, Native{})
	if err != nil || has(signal, dest) || !has(signal, pda.Proposal(model, 4)) || signal.Accounts()[5].PublicKey != mt.ProgramID {
		t.Fatalf("signal proposal: %v", err)
	}
}
