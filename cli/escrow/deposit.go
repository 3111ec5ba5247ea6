package escrow

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// depositIx builds deposit_escrow from the signer's native token account.
func (x *env) depositIx(depositor, escrow, expectedOwner solana.PublicKey, units uint64) (solana.Instruction, solana.PublicKey, error) {
	source := tokens.ATA(depositor, x.Meter.NativeMint, x.Meter.NativeTokenProgram)
	ix, err := ix.DepositEscrow(depositor, escrow, source, expectedOwner, ix.MeterNativeOf(x.Meter), units)
	if err != nil {
		return nil, source, fmt.Errorf("build deposit_escrow: %w", err)
	}
	return ix, source, nil
}

func (x *env) requireBalance(c *cli.Context, source solana.PublicKey, units uint64) error {
	bal, err := x.Reader.TokenBalance(c.Context, source)
	if err != nil {
		return err
	}
	if bal < units {
		return explain.Newf("get native tokens into that account first, or deposit less",
			"depositing %s native tokens needs them in your native token account %s, which holds %s native tokens", x.Native(units), source, x.Native(bal))
	}
	return nil
}

func depositCommand() *cli.Command {
	return &cli.Command{
		Name:  "deposit",
		Usage: "fund an escrow (and, with --node, allow the deposit to a node); refuses unless the escrow's owner is the one expected (yourself, or --expected-owner)",
		Description: "A deposit is unallocated: no node can spend it until it is allowed to one (--node here, or `mt escrow allow`).\n" +
			"Only the owner can allow, so --node needs the owner's keypair.",
		ArgsUsage: "[<escrow address or API key>] <amount>",
		Flags: session.WriteFlags(keyFileFlag(), nodeFlag(),
			&cli.StringFlag{Name: "expected-owner", Usage: "the owner you expect the escrow to have (default: your keypair); to fund someone else's escrow"}),
		Action: func(c *cli.Context) error {
			x, addr, args, err := loadTarget(c, "escrow", "amount")
			if err != nil {
				return err
			}
			depositor, err := x.Session.Signer()
			if err != nil {
				return err
			}
			units, err := session.ParseAmountArg(args[0], x.NativeDecimals, "native tokens", "give the native tokens to deposit, e.g. 25")
			if err != nil {
				return err
			}
			expected := depositor.PublicKey()
			if c.IsSet("expected-owner") {
				if expected, err = session.ParsePubkey("--expected-owner", c.String("expected-owner")); err != nil {
					return err
				}
			}
			_, e, err := x.view(c, addr)
			if err != nil {
				return err
			}
			// The front-running defence: say who owns it before any deposit.
			x.Session.Note("escrow %s is owned by %s", addr, e.Owner)
			if !e.Owner.Equals(expected) {
				who := "you (" + expected.String() + ")"
				if c.IsSet("expected-owner") {
					who = expected.String()
				}
				return explain.Newf("do not deposit: someone may have opened an escrow at your key first. Open a new one with `mt escrow open`; to fund someone else's escrow on purpose, pass --expected-owner <their address>",
					"escrow %s is owned by %s, not by %s", addr, e.Owner, who)
			}
			if e.RotatedTo != nil {
				return explain.Newf("deposit into the new escrow instead: `mt escrow deposit "+e.RotatedTo.String()+" ...`",
					"escrow %s's key was rotated; its balance moved to %s", addr, *e.RotatedTo)
			}
			ix, source, err := x.depositIx(depositor.PublicKey(), addr, expected, units)
			if err != nil {
				return err
			}
			if err := x.requireBalance(c, source, units); err != nil {
				return err
			}
			ixs := []solana.Instruction{ix}
			labels := x.labels(addr)
			labels[source] = "your native token account"
			var node solana.PublicKey
			if c.IsSet("node") {
				if !e.Owner.Equals(depositor.PublicKey()) {
					return explain.Newf("deposit without --node and ask the owner to run `mt escrow allow`",
						"only the escrow's owner (%s) can allow a node to spend it; you are %s", e.Owner, depositor.PublicKey())
				}
				addrNode, n, err := resolveNode(c.Context, x.Reader.Raw, c.String("node"))
				if err != nil {
					return err
				}
				// The deposit lands first in the same transaction, so the whole
				// of it is unallocated when allow_node runs.
				grown := *e
				grown.Balance += units
				if err := checkAllow(addr, &grown, addrNode, units, x.Native); err != nil {
					return err
				}
				x.nodeNotes(e, addrNode, n)
				aix, err := allowIx(depositor.PublicKey(), addr, addrNode, units)
				if err != nil {
					return err
				}
				ixs, node = append(ixs, aix), addrNode
				labels[addrNode] = "node (gets the lane)"
			}
			return x.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("deposit %s into escrow %s (owner %s)", x.Native(units), addr, e.Owner), Instructions: ixs, Labels: labels},
				x.viewed(c, addr, func(v *View) {
					d := x.Native(units)
					v.Deposited = &d
					if !node.IsZero() {
						v.Allowed = &Allowance{Node: node, Amount: d}
					}
				}))
		},
	}
}
