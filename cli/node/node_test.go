package node

import (
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/clitest"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
)

// Bad command lines are refused: before anything is read where the
// mistake is in the command line alone.
func TestNodeRefusesBadArguments(t *testing.T) {
	keypair, _ := clitest.Home(t)
	clitest.Refuses(t, Command, keypair, nil, []clitest.Refusal{
		{Args: []string{"node", "register", "--stake", "1", "--output", "xml"}, Want: "xml"},
		{Args: []string{"node", "unbond", "--with-compute-unit-price", "cheap"}, Want: "with-compute-unit-price"},
		{Args: []string{"node", "stake"}, Want: "the inference meter is not initialised", Reads: true},
	})
	clitest.Refuses(t, Command, keypair, clitest.Worlds(clitest.Protocol(solana.PublicKey{1}), clitest.Meter()), []clitest.Refusal{
		{Args: []string{"node", "stake"}, Want: "expected 1 argument(s) (amount), got 0", Reads: true},
		{Args: []string{"node", "set-endpoint", "a", "b"}, Want: "expected 1 argument(s) (url), got 2", Reads: true},
		{Args: []string{"node", "show", "a", "b"}, Want: "expected 1 argument(s) (operator), got 2", Reads: true},
		{Args: []string{"node", "show", "nobody"}, Want: `operator "nobody" is not an address`, Reads: true},
		{Args: []string{"node", "set-keeper", "no-such-file.json"}, Want: `--keeper "no-such-file.json" is neither an address nor a readable keypair file`, Reads: true},
		{Args: []string{"node", "set-keeper", solana.PublicKey{}.String()}, Want: "the keeper key must be a real public key", Reads: true},
		{Args: []string{"node", "set-endpoint", "https://a b"}, Want: "the endpoint must be printable ASCII without spaces", Reads: true},
		{Args: []string{"node", "set-endpoint", "https://" + strings.Repeat("a", MaxEndpointLen)}, Want: "the endpoint must be 1 to", Reads: true},
	})
}

// Registering names every missing or wrong setting at once, and nothing
// is sent; the other commands check the signer's node first.
func TestNodeCommandsRefuseWhatTheNodeCannotDo(t *testing.T) {
	keypair, operator := clitest.Home(t)
	meter := clitest.Worlds(clitest.Protocol(solana.PublicKey{1}), clitest.Meter())
	clitest.Refuses(t, Command, keypair, meter, []clitest.Refusal{
		{Args: []string{"node", "register"}, Want: "--keeper is required", Reads: true},
		{Args: []string{"node", "register", "--keeper", "nope", "--endpoint", "has space", "--stake", "99"}, Want: "is below the meter's minimum node stake 100", Reads: true},
		{Args: []string{"node", "register", "--keeper", "nope", "--endpoint", "has space", "--stake", "100"}, Want: `--keeper "nope" is neither an address`, Reads: true},
		{Args: []string{"node", "stake", "5"}, Want: "no node is registered for operator " + operator.String(), Reads: true},
		{Args: []string{"node", "unbond"}, Want: "no node is registered", Reads: true},
	})
	keeper := solana.PublicKey{7}
	active := clitest.Worlds(meter, clitest.Node(im.Node{Operator: operator, Keeper: keeper, Status: im.NodeStatus_Active, Stake: clitest.MinNodeStake}))
	clitest.Refuses(t, Command, keypair, active, []clitest.Refusal{
		{Args: []string{"node", "register", "--keeper", keeper.String(), "--endpoint", "https://n.example/v1", "--stake", "100"}, Want: "your node is already registered", Reads: true},
		{Args: []string{"node", "stake", "0"}, Want: "the amount must be greater than zero", Reads: true},
		{Args: []string{"node", "stake", "ten"}, Want: "amount", Reads: true},
		{Args: []string{"node", "set-keeper", keeper.String()}, Want: "is already your node's keeper key", Reads: true},
		{Args: []string{"node", "activate"}, Want: "your node is already active", Reads: true},
		{Args: []string{"node", "withdraw"}, Want: "your node is not unbonding", Reads: true},
	})
	unbonding := clitest.Worlds(meter, clitest.Node(im.Node{Operator: operator, Keeper: keeper, Status: im.NodeStatus_Unbonding, UnbondingStartedAt: 1}))
	clitest.Refuses(t, Command, keypair, unbonding, []clitest.Refusal{
		{Args: []string{"node", "stake", "5"}, Want: "your node is unbonding: it cannot take more stake", Reads: true},
		{Args: []string{"node", "unbond"}, Want: "your node is already unbonding", Reads: true},
		{Args: []string{"node", "activate"}, Want: "unbonding and cannot be reactivated", Reads: true},
	})
}
