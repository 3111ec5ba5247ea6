package domain

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

func createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "create your domain: a bond (slashable, returned on close), a minimum node stake, a fee share and a notice period",
		ArgsUsage: "<name>",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "bond", Usage: "native tokens to bond; at least the meter's minimum node stake"},
			&cli.StringFlag{Name: "fee-bps", Usage: "share of member nodes' operator cut that goes to you, in basis points (1000 = 10%)"},
			&cli.StringFlag{Name: "min-stake", Usage: "native tokens a node must have staked to join (default: the meter's minimum node stake)"},
			&cli.StringFlag{Name: "notice", Usage: "how long a departing member may still settle what it served, and how long before a fee change applies (default: the meter's withdrawal notice)"},
		),
		Action: func(c *cli.Context) error {
			args, err := session.Args(c, "name")
			if err != nil {
				return err
			}
			name := args[0]
			// Every mistake at once; a single one keeps its own explanation.
			var problems explain.Problems
			var first error
			note := func(err error) {
				if first == nil {
					first = err
				}
				problems.Add(err.Error())
			}
			for _, f := range []string{"bond", "fee-bps"} {
				if !c.IsSet(f) {
					note(explain.Newf("add --"+f, "--%s is required", f))
				}
			}
			if err := checkName(name); err != nil {
				note(err)
			}
			var fee uint16
			if c.IsSet("fee-bps") {
				if fee, err = parseFeeBps("--fee-bps", c.String("fee-bps")); err != nil {
					note(err)
				}
			}
			var notice int64
			if c.IsSet("notice") {
				if notice, err = parseNotice(c.String("notice")); err != nil {
					note(err)
				}
			}
			if len(problems) == 1 {
				return first
			}
			if err := problems.Err(); err != nil {
				return err
			}
			x, err := loadEnv(c)
			if err != nil {
				return err
			}
			bond, err := session.ParseAmount("--bond", c.String("bond"), x.NativeDecimals, "native tokens")
			if err != nil {
				return err
			}
			minStake := x.Meter.MinNodeStake
			if c.IsSet("min-stake") {
				if minStake, err = session.ParseAmount("--min-stake", c.String("min-stake"), x.NativeDecimals, "native tokens"); err != nil {
					return err
				}
			}
			if !c.IsSet("notice") {
				notice = x.Meter.WithdrawalNoticeSecs
			}
			if err := rules.CheckDomainBond(x.Meter, bond); err != nil {
				return explain.Wrap(err, fmt.Sprintf("--bond %s is below the meter's minimum node stake %s", x.Native(bond), x.Native(x.Meter.MinNodeStake)), "bond at least the minimum")
			}
			if err := rules.CheckDomainTerms(x.Meter, fee, notice); err != nil {
				return explain.Wrap(err, fmt.Sprintf("--notice %s is shorter than the meter's withdrawal notice %s", duration.Format(notice), duration.Format(x.Meter.WithdrawalNoticeSecs)), "give a longer --notice")
			}
			op, err := x.Session.Signer()
			if err != nil {
				return err
			}
			addr := pda.Domain(op.PublicKey(), name)
			if ok, err := x.Reader.Exists(c.Context, addr); err != nil {
				return err
			} else if ok {
				return explain.Newf("see it with `mt domain show "+name+"`, or choose another name", "you already have a domain named %q (%s)", name, addr)
			}
			source := tokens.ATA(op.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram)
			bal, err := x.Reader.TokenBalance(c.Context, source)
			if err != nil {
				return err
			}
			if bal < bond {
				return explain.Newf("get native tokens into that account first", "bonding %s needs them in your native token account %s, which holds %s", x.Native(bond), source, x.Native(bal))
			}
			instr, err := ix.CreateDomain(op.PublicKey(), source, ix.MeterNativeOf(x.Meter), im.CreateDomainArgs{Name: name, Bond: bond, MinNodeStake: minStake, FeeBps: fee, NoticeSecs: notice})
			if err != nil {
				return fmt.Errorf("build create_domain: %w", err)
			}
			return x.submit(c, fmt.Sprintf("create domain %q", name), addr, []solana.Instruction{instr}, map[solana.PublicKey]string{source: "your native token account"})
		},
	}
}
