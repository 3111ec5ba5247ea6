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
	b := func(name string, signers, want []solana.PublicKey) func(solana.Instruction, error) built {
		return func(i solana.Instruction, err error) built {
			return built{name: name, ix: i, err: err, signers: signers, want: append(want, escrow)}
		}
	}
	signer := []solana.PublicKey{owner}
	checkBuilt(t, im.ProgramID, []built{
		b("open_escrow", []solana.PublicKey{owner, key}, nil)(OpenEscrow(owner, key, im.OpenEscrowArgs{})),
		b("deposit_escrow", signer, []solana.PublicKey{pda.Meter(), pda.EscrowVault(), acct, native.Mint})(DepositEscrow(owner, escrow, acct, owner, native, 5)),
		b("request_withdrawal", signer, []solana.PublicKey{pda.Meter()})(RequestWithdrawal(owner, escrow, 5)),
		b("withdraw_escrow", signer, []solana.PublicKey{pda.EscrowVault(), acct})(WithdrawEscrow(owner, escrow, acct, native)),
		b("close_escrow", signer, []solana.PublicKey{pda.Meter()})(CloseEscrow(owner, escrow)),
		b("rotate_key", []solana.PublicKey{owner, newKey}, []solana.PublicKey{pda.Escrow(newKey)})(RotateKey(owner, escrow, newKey)),
		b("request_revoke", signer, nil)(RequestRevoke(owner, escrow, node)),
		b("revoke_node", signer, nil)(RevokeNode(owner, escrow, node)),
		b("allow_node", signer, []solana.PublicKey{node})(AllowNode(owner, escrow, node, 5)),
	})
	// The node builders derive the operator's node account.
	op := owner
	nodeAcct := pda.Node(op)
	n := func(name string, want ...solana.PublicKey) func(solana.Instruction, error) built {
		return func(i solana.Instruction, err error) built {
			return built{name: name, ix: i, err: err, signers: []solana.PublicKey{op}, want: append(want, nodeAcct)}
		}
	}
	checkBuilt(t, im.ProgramID, []built{
		n("register_node", pda.Meter(), pda.StakeVault(), acct, native.Mint)(RegisterNode(op, acct, native, im.RegisterNodeArgs{Keeper: key, Endpoint: "https://x", Stake: 1})),
		n("add_stake", pda.StakeVault(), acct)(AddStake(op, acct, native, 1)),
		n("begin_unbonding", pda.Meter())(BeginUnbonding(op)),
		n("withdraw_stake", pda.StakeVault(), acct)(WithdrawStake(op, acct, native)),
		n("set_keeper_key")(SetKeeperKey(op, key)),
		n("set_endpoint")(SetEndpoint(op, "https://x")),
		n("activate_node", pda.Meter())(ActivateNode(op)),
		n("deactivate_node")(DeactivateNode(op)),
	})
}
