package ix

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// The domain builders derive the domain, node and membership accounts, and
// exactly the party the program checks signs: the domain operator, the node
// operator, the escrow owner, the admin, or anyone closing a membership.
func TestDomainBuildersDeriveTheirAccountsAndSigners(t *testing.T) {
	w := func() solana.PublicKey { return solana.NewWallet().PublicKey() }
	dop, nop, owner, admin, closer, src, escrow := w(), w(), w(), w(), w(), w(), w()
	native := Native{Mint: w(), Program: solana.TokenProgramID}
	domain := pda.Domain(dop, "alpha")
	node := pda.Node(nop)
	member := pda.Membership(domain, node)
	b := func(name string, signer solana.PublicKey, want ...solana.PublicKey) func(solana.Instruction, error) built {
		return func(i solana.Instruction, err error) built {
			return built{name: name, ix: i, err: err, signers: []solana.PublicKey{signer}, want: append(want, domain)}
		}
	}
	checkBuilt(t, im.ProgramID, []built{
		b("create_domain", dop, pda.Meter(), pda.StakeVault(), src)(CreateDomain(dop, src, native, im.CreateDomainArgs{Name: "alpha"})),
		b("update_domain", dop, pda.Meter())(UpdateDomain(dop, domain, im.UpdateDomainArgs{})),
		b("close_domain", dop, pda.StakeVault(), src)(CloseDomain(dop, domain, src, native)),
		b("slash_domain", admin, pda.Protocol(), pda.FeeVault())(SlashDomain(admin, domain, native, 1, 2)),
		b("request_join", nop, node, member)(RequestJoin(nop, domain)),
		b("admit_member", dop, node, member)(AdmitMember(dop, domain, node)),
		b("remove_member", dop, member)(RemoveMember(dop, domain, node)),
		b("leave_domain", nop, node, member)(LeaveDomain(nop, domain)),
		b("close_membership", closer, nop, node, member)(CloseMembership(closer, nop, domain)),
		b("allow_domain", owner, escrow)(AllowDomain(owner, escrow, domain, 5)),
	})
}

// Two names of one operator, and one name of two operators, are four domains.
func TestDomainAddressesDependOnOperatorAndName(t *testing.T) {
	a, b := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	seen := map[solana.PublicKey]bool{}
	for _, d := range []solana.PublicKey{pda.Domain(a, "x"), pda.Domain(a, "y"), pda.Domain(b, "x"), pda.Domain(b, "y")} {
		if seen[d] {
			t.Fatalf("domain address %s repeats", d)
		}
		seen[d] = true
	}
}
