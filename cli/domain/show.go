package domain

import (
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
)

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a domain: its terms and its members (with their endpoints)",
		ArgsUsage: "<domain>",
		Flags:     session.ReadFlags(),
		Action: func(c *cli.Context) error {
			args, err := session.Args(c, "domain")
			if err != nil {
				return err
			}
			ref, err := parseDomainRef(args[0])
			if err != nil {
				return err
			}
			x, err := loadEnv(c)
			if err != nil {
				return err
			}
			addr, err := ref.address(x.Session.Signer)
			if err != nil {
				return err
			}
			v, err := x.view(c.Context, addr)
			if err != nil {
				return err
			}
			return x.Session.Out.Print(v)
		},
	}
}
