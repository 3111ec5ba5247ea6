package domain

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
)

func leaveCommand() *cli.Command {
	return &cli.Command{
		Name:      "leave",
		Usage:     "take your node out of a domain at once; it may still settle what it served until the notice ends",
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
			node := pda.Node(op.PublicKey())
			m, ok, err := readMembership(c.Context, x.Reader.Raw, addr, node)
			if err != nil {
				return err
			}
			if !ok {
				return explain.Newf("nothing to leave", "your node %s is not in %q", node, d.Name)
			}
			if err := checkActive(m, "your node"); err != nil {
				return err
			}
			instr, err := ix.LeaveDomain(op.PublicKey(), addr)
			if err != nil {
				return fmt.Errorf("build leave_domain: %w", err)
			}
			x.Session.Note("your keeper must stop serving %q now; it may settle the runs it served until %s from now", d.Name, duration.Format(d.NoticeSecs))
			return x.submit(c, fmt.Sprintf("leave domain %q", d.Name), addr, []solana.Instruction{instr}, map[solana.PublicKey]string{node: "your node", pda.Membership(addr, node): "membership"})
		},
	}
}
