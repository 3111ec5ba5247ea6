package escrow

import (
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
)

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print an escrow: owner, balance (unallocated and per-node lanes), spending, rules, pending withdrawal and revocations",
		ArgsUsage: "[<escrow address or API key>]",
		Flags:     session.ReadFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, _, err := loadTarget(c, "escrow")
			if err != nil {
				return err
			}
			v, _, err := x.view(c, addr)
			if err != nil {
				return err
			}
			return x.Session.Out.Print(v)
		},
	}
}
