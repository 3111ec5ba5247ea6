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
			t, err := loadDomain(c)
			if err != nil {
				return err
			}
			v := t.x.viewOf(t.addr, t.d)
			if v.MemberList, err = t.x.members(c.Context, t.addr); err != nil {
				return err
			}
			return t.x.Session.Out.Print(v)
		},
	}
}
