package escrow

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/settlement"
)

// nodeFlag is --node on open and deposit: the node the new money is for.
func nodeFlag() cli.Flag {
	return &cli.StringFlag{Name: "node", Usage: "also allow the deposit to this node (its address or its operator's), in the same transaction; without it no node can spend the money until `mt escrow allow`"}
}

// allowIx builds allow_node: owner moves units of escrow's unallocated
// balance into node's lane.
func allowIx(owner, escrow, node solana.PublicKey, units uint64) (solana.Instruction, error) {
	ix, err := ix.AllowNode(owner, escrow, node, units)
	if err != nil {
		return nil, fmt.Errorf("build allow_node: %w", err)
	}
	return ix, nil
}

// checkAllow makes the program's checks of allow_node first, so a refusal
// says what to do: units must come from the unallocated balance, and a new
// lane needs a free slot.
func checkAllow(addr solana.PublicKey, e *im.Escrow, node solana.PublicKey, units uint64, native func(uint64) amount.Tokens) error {
	if units > e.Balance {
		var inLanes uint64
		for _, l := range e.Lanes {
			inLanes += l.Balance
		}
		return explain.Newf(fmt.Sprintf("deposit more first (`mt escrow deposit <escrow> <amount>`; for a node lane `--node %s` allows it in the same step), or allow at most %s", node, native(e.Balance)),
			"escrow %s has %s unallocated (and %s already in lanes), less than %s", addr, native(e.Balance), native(inLanes), native(units))
	}
	if room, limited := settlement.LaneRoom(e); limited && units > room {
		return explain.Newf(fmt.Sprintf("allow at most %s: the spend limit caps what the lanes together may hold, so that it never cuts a node's lane short", native(room)),
			"escrow %s's spend limit leaves room for %s more in its lanes, less than %s", addr, native(room), native(units))
	}
	if settlement.LaneOf(e, node) == nil && len(e.Lanes) >= MaxLanes {
		return explain.Newf("revoke a lane first (`mt escrow revoke <escrow> <node>`), or allow more to a node that already has one",
			"escrow %s already has lanes to %d nodes, the most it can have", addr, MaxLanes)
	}
	return nil
}

// nodeNotes are what people should know about the node they allow.
func (x *env) nodeNotes(e *im.Escrow, addr solana.PublicKey, n *im.Node) {
	x.Session.Note("allowing %s", describeNode(addr, n))
	if n.Status != im.NodeStatus_Active {
		x.Session.Note("warning: the node is %s, so it serves no requests until its operator reactivates it", n.Status)
	}
	if l := settlement.LaneOf(e, addr); l != nil && l.RevokeRequestedAt != 0 {
		x.Session.Note("this cancels the pending revocation of the node's lane")
	}
}

func allowCommand() *cli.Command {
	return &cli.Command{
		Name:  "allow",
		Usage: "let a node spend part of your escrow: move unallocated money into the node's lane (opening it); the node can take at most what its lane holds",
		Description: "<node> is the node's address or its operator's address. <amount> may be `all` (the whole unallocated balance)\n" +
			"or 0 (open an empty lane). Allowing a node whose lane is being revoked cancels the revocation.\n" +
			"With --domain the lane is the domain's: every node its operator admitted may spend it, the domain's fee\n" +
			"comes out of the node operator's cut, never on top of the price; revoke it like a node's lane, naming the domain's address.",
		ArgsUsage: "[<escrow address or API key>] <node> <amount|all>  |  [<escrow>] --domain <domain> <amount|all>",
		Flags:     session.WriteFlags(keyFileFlag(), domainFlag()),
		Action: func(c *cli.Context) error {
			if c.IsSet("domain") {
				return allowDomain(c)
			}
			x, addr, args, err := loadTarget(c, "escrow", "node", "amount")
			if err != nil {
				return err
			}
			e, owner, err := x.owned(c, addr)
			if err != nil {
				return err
			}
			nodeAddr, n, err := resolveNode(c.Context, x.Reader.Raw, args[0])
			if err != nil {
				return err
			}
			units, err := session.ParseAmountOrAll(args[1], e.Balance, x.NativeDecimals, "native tokens")
			if err != nil {
				return err
			}
			if err := checkAllow(addr, e, nodeAddr, units, x.Native); err != nil {
				return err
			}
			x.nodeNotes(e, nodeAddr, n)
			ix, err := allowIx(owner.PublicKey(), addr, nodeAddr, units)
			if err != nil {
				return err
			}
			labels := x.labels(addr)
			labels[nodeAddr] = "node (gets the lane)"
			return x.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("allow node %s %s more of escrow %s", nodeAddr, x.Native(units), addr), Instructions: []solana.Instruction{ix}, Labels: labels},
				x.viewed(c, addr, func(v *View) { v.Allowed = &Allowance{Node: nodeAddr, Amount: x.Native(units)} }))
		},
	}
}
