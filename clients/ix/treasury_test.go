package ix

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Each builder derives the accounts the caller does not choose: the
// signer signs, the PDAs are the model's and the owner's.
func TestBuildersDeriveTheirAccounts(t *testing.T) {
	owner, model, tokenAcct := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	native := Native{Mint: solana.NewWallet().PublicKey(), Program: solana.TokenProgramID, FeeVault: solana.NewWallet().PublicKey()}
	proposal := pda.Proposal(model, 3)
	voter := pda.Voter(model, owner)
	build := func(i solana.Instruction, err error) solana.Instruction {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	for _, c := range []struct {
		name   string
		ix     solana.Instruction
		signer solana.PublicKey
		want   []solana.PublicKey // accounts the builder derived, in any position
	}{
		{"contribute", build(Contribute(owner, model, tokenAcct, native, mt.ContributeArgs{Amount: 1})), owner,
			[]solana.PublicKey{pda.Contribution(model, owner), pda.RaiseVault(model), native.Mint, pda.Protocol()}},
		{"finalize_raise", build(FinalizeRaise(model, native)), solana.PublicKey{},
			[]solana.PublicKey{pda.MtMint(model), pda.Vaults(model).Sale, native.FeeVault, solana.Token2022ProgramID}},
		{"deposit_mt", build(DepositMt(owner, model, tokenAcct, 5)), owner,
			[]solana.PublicKey{voter, pda.DepositVault(model), pda.MtMint(model)}},
		{"withdraw_mt", build(WithdrawMt(owner, model, tokenAcct, 5)), owner,
			[]solana.PublicKey{voter, pda.DepositVault(model), pda.MtMint(model)}},
		{"cast_vote", build(CastVote(owner, model, proposal, mt.VoteChoice_Yes)), owner,
			[]solana.PublicKey{voter, pda.Vote(proposal, voter), proposal}},
		{"checkpoint_voter", build(CheckpointVoter(model, owner)), solana.PublicKey{}, []solana.PublicKey{voter}},
		{"claim_rewards", build(ClaimRewards(owner, model, tokenAcct, native)), owner,
			[]solana.PublicKey{voter, pda.RevenueVault(model), native.Mint}},
	} {
		if !c.ix.ProgramID().Equals(mt.ProgramID) {
			t.Errorf("%s: program %s", c.name, c.ix.ProgramID())
		}
		has := map[solana.PublicKey]bool{}
		for _, a := range c.ix.Accounts() {
			has[a.PublicKey] = true
			if a.IsSigner && !a.PublicKey.Equals(c.signer) {
				t.Errorf("%s: %s signs, want %s", c.name, a.PublicKey, c.signer)
			}
		}
		for _, w := range append(c.want, model) {
			if !has[w] && !(c.name == "contribute" && w.IsZero()) {
				t.Errorf("%s: account %s missing", c.name, w)
			}
		}
	}
}
