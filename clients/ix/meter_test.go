package ix

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// The escrow builders derive the escrow of a key, the meter and the vault,
// and only the owner (or the depositor, or a key being bound) signs.
func TestEscrowBuildersDeriveTheirAccounts(t *testing.T) {
	owner, key, newKey, node, acct := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	escrow := pda.Escrow(key)
	native := Native{Mint: solana.NewWallet().PublicKey(), Program: solana.TokenProgramID}
	must := func(i solana.Instruction, err error) solana.Instruction {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	for _, c := range []struct {
		name    string
		ix      solana.Instruction
		signers []solana.PublicKey
		want    []solana.PublicKey
	}{
		{"open_escrow", must(OpenEscrow(owner, key, im.OpenEscrowArgs{})), []solana.PublicKey{owner, key}, []solana.PublicKey{escrow}},
		{"deposit_escrow", must(DepositEscrow(owner, escrow, acct, owner, native, 5)), []solana.PublicKey{owner}, []solana.PublicKey{escrow, pda.Meter(), pda.EscrowVault(), acct, native.Mint}},
		{"request_withdrawal", must(RequestWithdrawal(owner, escrow, 5)), []solana.PublicKey{owner}, []solana.PublicKey{escrow, pda.Meter()}},
		{"withdraw_escrow", must(WithdrawEscrow(owner, escrow, acct, native)), []solana.PublicKey{owner}, []solana.PublicKey{escrow, pda.EscrowVault(), acct}},
		{"close_escrow", must(CloseEscrow(owner, escrow)), []solana.PublicKey{owner}, []solana.PublicKey{escrow, pda.Meter()}},
		{"rotate_key", must(RotateKey(owner, escrow, newKey)), []solana.PublicKey{owner, newKey}, []solana.PublicKey{escrow, pda.Escrow(newKey)}},
		{"request_revoke", must(RequestRevoke(owner, escrow, node)), []solana.PublicKey{owner}, []solana.PublicKey{escrow}},
		{"revoke_node", must(RevokeNode(owner, escrow, node)), []solana.PublicKey{owner}, []solana.PublicKey{escrow}},
	} {
		if !c.ix.ProgramID().Equals(im.ProgramID) {
			t.Errorf("%s: program %s", c.name, c.ix.ProgramID())
		}
		has, signs := map[solana.PublicKey]bool{}, map[solana.PublicKey]bool{}
		for _, a := range c.ix.Accounts() {
			has[a.PublicKey] = true
			if a.IsSigner {
				signs[a.PublicKey] = true
			}
		}
		for _, s := range c.signers {
			if !signs[s] {
				t.Errorf("%s: %s does not sign", c.name, s)
			}
		}
		if len(signs) != len(c.signers) {
			t.Errorf("%s: %d signers, want %d", c.name, len(signs), len(c.signers))
		}
		for _, w := range c.want {
			if !has[w] {
				t.Errorf("%s: account %s missing", c.name, w)
			}
		}
	}
}
