package meter

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// ---- escrow lanes ----

// Addr is n's node account: the key its lanes are opened to.
func (n *Node) Addr() solana.PublicKey { return pda.Node(n.Operator.PublicKey()) }

// AllowIx moves amount of escrow's unallocated balance into node's lane
// (node is the node account, see Node.Addr).
func (e *Env) AllowIx(owner, escrow, node solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return ix.AllowNode(owner, escrow, node, amount)
}

// RequestRevokeIx starts the notice on node's lane.
func (e *Env) RequestRevokeIx(owner, escrow, node solana.PublicKey) (solana.Instruction, error) {
	return ix.RequestRevoke(owner, escrow, node)
}

// RevokeIx closes node's lane after the notice.
func (e *Env) RevokeIx(owner, escrow, node solana.PublicKey) (solana.Instruction, error) {
	return ix.RevokeNode(owner, escrow, node)
}

// OpenForIxs are the instructions that open the escrow of key for owner,
// deposit amount and allow all of it to node, as `mt escrow open --deposit
// --node` sends them in one transaction (key must sign it too).
func (e *Env) OpenForIxs(owner, key, node solana.PublicKey, amount uint64, args im.OpenEscrowArgs) ([]solana.Instruction, error) {
	escrow := pda.Escrow(key)
	open, err := e.OpenEscrowIx(owner, key, args)
	if err != nil {
		return nil, err
	}
	deposit, err := e.DepositIx(owner, escrow, amount, owner)
	if err != nil {
		return nil, err
	}
	lane := amount // lanes hold at most the spend limit; the rest stays unallocated
	if args.SpendLimit != nil {
		lane = min(lane, *args.SpendLimit)
	}
	allow, err := e.AllowIx(owner, escrow, node, lane)
	if err != nil {
		return nil, err
	}
	return []solana.Instruction{open, deposit, allow}, nil
}

// EscrowFor opens an escrow for a new key owned by owner with amount in a
// lane to node (any model, no limit), in one transaction.
func (e *Env) EscrowFor(ctx context.Context, owner solana.PrivateKey, node solana.PublicKey, amount uint64) (solana.PublicKey, error) {
	key := NewKey()
	ixs, err := e.OpenForIxs(owner.PublicKey(), key.PublicKey(), node, amount, im.OpenEscrowArgs{})
	if err != nil {
		return solana.PublicKey{}, err
	}
	if _, err := e.Send(ctx, owner, []solana.PrivateKey{key}, ixs...); err != nil {
		return solana.PublicKey{}, fmt.Errorf("open escrow with a lane: %w", err)
	}
	return pda.Escrow(key.PublicKey()), nil
}
