package domain

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

func joinCommand() *cli.Command {
	return &cli.Command{
		Name:      "join",
		Usage:     "ask for your node to join a domain; its operator admits it (`mt domain admit`)",
		ArgsUsage: "<domain>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			t, err := loadDomain(c)
			if err != nil {
				return err
			}
			x, addr, d := t.x, t.addr, t.d
			op, err := x.Session.Signer()
			if err != nil {
				return err
			}
			n, err := x.Reader.Node(c.Context, op.PublicKey())
			if err != nil {
				return err
			}
			if err := rules.CheckNodeEligible(n, d); err != nil {
				return explain.Wrap(err, fmt.Sprintf("your node cannot join %q: %v (stake %s, the domain asks %s)", d.Name, err, x.Native(n.Stake), x.Native(d.MinNodeStake)),
					"activate the node (`mt node activate`) or add stake (`mt node stake`) first")
			}
			node := pda.Node(op.PublicKey())
			if m, ok, err := readMembership(c.Context, x.Reader.Raw, addr, node); err != nil {
				return err
			} else if ok {
				return explain.Newf("a node that left or was removed closes its old membership after the notice, then asks again",
					"your node already has a membership of %q (%s)", d.Name, m.Status)
			}
			instr, err := ix.RequestJoin(op.PublicKey(), addr)
			if err != nil {
				return fmt.Errorf("build request_join: %w", err)
			}
			x.Session.Note("the domain takes %d bps of your operator share on runs you serve for it; the domain operator %s must admit you", d.FeeBps, d.Operator)
			return x.submit(c, fmt.Sprintf("ask to join domain %q", d.Name), addr, []solana.Instruction{instr}, map[solana.PublicKey]string{node: "your node", pda.Membership(addr, node): "membership (new)"})
		},
	}
}
