package escrow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// rawReader reads an account's data and owner (accounts.Reader.Raw); ok is
// false when the account does not exist.
type rawReader func(ctx context.Context, addr solana.PublicKey) (data []byte, owner solana.PublicKey, ok bool, err error)

// errNotNode: the account is missing or is not an inference_meter node.
var errNotNode = errors.New("not a node account")

// nodeAt reads the node account at addr (a node's PDA address).
func nodeAt(ctx context.Context, raw rawReader, addr solana.PublicKey) (*im.Node, error) {
	data, owner, ok, err := raw(ctx, addr)
	if err != nil {
		return nil, err
	}
	if !ok || !owner.Equals(im.ProgramID) {
		return nil, errNotNode
	}
	n, err := im.ParseAccount_Node(data)
	if err != nil {
		return nil, errNotNode
	}
	// A node lives at the PDA of its operator; anything else is not one.
	if !pda.Node(n.Operator).Equals(addr) {
		return nil, errNotNode
	}
	return n, nil
}

// resolveNode reads the node a command names: people have either the
// node's account address (`mt node show` prints it, and lanes are keyed by
// it) or the operator's wallet address, so both are accepted.
func resolveNode(ctx context.Context, raw rawReader, arg string) (solana.PublicKey, *im.Node, error) {
	addr, err := solana.PublicKeyFromBase58(strings.TrimSpace(arg))
	if err != nil {
		return solana.PublicKey{}, nil, explain.Newf("pass the node's address or its operator's address (`mt node show <operator>` prints both)",
			"node %q is not an address", arg)
	}
	for _, candidate := range []solana.PublicKey{addr, pda.Node(addr)} {
		n, err := nodeAt(ctx, raw, candidate)
		if err == nil {
			return candidate, n, nil
		}
		if !errors.Is(err, errNotNode) {
			return solana.PublicKey{}, nil, fmt.Errorf("read node %s: %w", candidate, err)
		}
	}
	return solana.PublicKey{}, nil, explain.Newf("check the address and --url: pass a registered node's address or its operator's address (`mt node show <operator>` prints both)",
		"%s is neither a node nor the operator of a registered node", addr)
}

// describeNode is one line about a node for notes and errors.
func describeNode(addr solana.PublicKey, n *im.Node) string {
	return fmt.Sprintf("node %s (operator %s, %s, %s)", addr, n.Operator, n.Endpoint, strings.ToLower(n.Status.String()))
}
