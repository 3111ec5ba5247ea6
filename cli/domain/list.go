package domain

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// List is every domain, as `mt domain list` prints it.
type List struct {
	Domains []View `json:"domains"`
}

// Text renders one line per domain.
func (l List) Text() string {
	if len(l.Domains) == 0 {
		return "no domains\n"
	}
	var b strings.Builder
	for _, d := range l.Domains {
		fmt.Fprintf(&b, "%s  %-20s %3d members  fee %5d bps  bond %s  operator %s\n", d.Address, d.Name, d.Members, d.FeeBps, d.Bond, d.Operator)
	}
	return b.String()
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list every domain (or one operator's)",
		Flags: session.ReadFlags(&cli.StringFlag{Name: "operator", Usage: "only this operator's domains"}),
		Action: func(c *cli.Context) error {
			if _, err := session.Args(c); err != nil {
				return err
			}
			var filters []rpc.RPCFilter
			if c.IsSet("operator") {
				op, err := solana.PublicKeyFromBase58(c.String("operator"))
				if err != nil {
					return explain.Newf("pass the operator's wallet address", "--operator %q is not an address", c.String("operator"))
				}
				// Domain.operator follows the 8-byte discriminator.
				filters = append(filters, rpc.RPCFilter{Memcmp: &rpc.RPCFilterMemcmp{Offset: 8, Bytes: op[:]}})
			}
			x, err := loadEnv(c)
			if err != nil {
				return err
			}
			res, err := x.programAccounts(c.Context, im.Account_Domain, filters...)
			if err != nil {
				return fmt.Errorf("list domains: %w", err)
			}
			out := List{Domains: []View{}}
			for _, a := range res {
				d, err := im.ParseAccount_Domain(a.Account.Data.GetBinary())
				if err != nil || !pda.Domain(d.Operator, d.Name).Equals(a.Pubkey) {
					continue
				}
				out.Domains = append(out.Domains, x.viewOf(a.Pubkey, d))
			}
			sort.Slice(out.Domains, func(i, j int) bool { return out.Domains[i].Name < out.Domains[j].Name })
			return x.Session.Out.Print(out)
		},
	}
}
