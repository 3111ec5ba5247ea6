package meter

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/explain"
	"github.com/modelcommons/modelcommons/cli/session"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

func updateCommand() *cli.Command {
	return &cli.Command{
		Name:  "update",
		Usage: "change the meter's fees, minimum stake or periods (protocol admin); settings not given keep their value",
		Flags: session.WriteFlags(
			&cli.Uint64Flag{Name: "settlement-fee-bps", Usage: "protocol's cut of every settled run, in basis points"},
			&cli.Uint64Flag{Name: "operator-share-bps", Usage: "node operator's cut of every settled run, in basis points"},
			&cli.StringFlag{Name: "min-node-stake", Usage: "native tokens a node must stake"},
			&cli.StringFlag{Name: "unbonding", Usage: "wait between unbonding and withdrawing stake (" + duration.Hint + ")"},
			&cli.StringFlag{Name: "withdrawal-notice", Usage: "wait between requesting and withdrawing an escrow (" + duration.Hint + ")"},
		),
		Action: func(c *cli.Context) error {
			s, err := session.FromContext(c)
			if err != nil {
				return err
			}
			if _, err := session.Args(c); err != nil {
				return err
			}
			ctx := c.Context
			r := reader(s)
			admin, err := s.Signer()
			if err != nil {
				return err
			}
			p, err := r.Protocol(ctx)
			if err != nil {
				return err
			}
			m, err := r.Meter(ctx)
			if err != nil {
				return err
			}
			mint, err := r.Mint(ctx, m.NativeMint)
			if err != nil {
				return err
			}
			args := im.InitMeterArgs{
				SettlementFeeBps: m.SettlementFeeBps, OperatorShareBps: m.OperatorShareBps, MinNodeStake: m.MinNodeStake,
				UnbondingSecs: m.UnbondingSecs, WithdrawalNoticeSecs: m.WithdrawalNoticeSecs,
			}
			var problems []string
			if !p.Admin.Equals(admin.PublicKey()) {
				problems = append(problems, fmt.Sprintf("only the protocol admin %s may update the meter; your keypair is %s (pass --keypair)", p.Admin, admin.PublicKey()))
			}
			changed := false
			for _, b := range []struct {
				name string
				dst  *uint16
			}{{"settlement-fee-bps", &args.SettlementFeeBps}, {"operator-share-bps", &args.OperatorShareBps}} {
				if c.IsSet(b.name) {
					changed = true
					if *b.dst, err = session.ParseBps(b.name, c.Uint64(b.name)); err != nil {
						problems = append(problems, err.Error())
					}
				}
			}
			if uint64(args.SettlementFeeBps)+uint64(args.OperatorShareBps) > 10_000 {
				problems = append(problems, fmt.Sprintf("settlement fee %d bps plus operator share %d bps exceed 10000 (100%%)", args.SettlementFeeBps, args.OperatorShareBps))
			}
			if c.IsSet("min-node-stake") {
				changed = true
				if args.MinNodeStake, err = session.ParseAmount("--min-node-stake", c.String("min-node-stake"), mint.Decimals, "native tokens"); err != nil {
					problems = append(problems, err.Error())
				}
			}
			for _, d := range []struct {
				flag string
				dst  *int64
			}{{"unbonding", &args.UnbondingSecs}, {"withdrawal-notice", &args.WithdrawalNoticeSecs}} {
				if !c.IsSet(d.flag) {
					continue
				}
				changed = true
				v, err := duration.ParseSeconds(c.String(d.flag))
				switch {
				case err != nil:
					problems = append(problems, fmt.Sprintf("--%s: %v", d.flag, err))
				case v < p.MinPeriodSecs:
					problems = append(problems, fmt.Sprintf("--%s %s is shorter than the protocol's minimum period %s", d.flag, duration.Format(v), duration.Format(p.MinPeriodSecs)))
				}
				*d.dst = v
			}
			if !changed {
				problems = append(problems, "nothing to change: pass at least one setting (see --help)")
			}
			if len(problems) > 0 {
				return explain.List(problems)
			}
			ix, err := im.NewUpdateMeterInstruction(args, admin.PublicKey(), pda.Protocol(), pda.Meter(), pda.EventAuthority(im.ProgramID), im.ProgramID)
			if err != nil {
				return fmt.Errorf("build update_meter: %w", err)
			}
			return s.Submit(ctx, session.Tx{What: "update the meter", Instructions: []solana.Instruction{ix}, Labels: map[solana.PublicKey]string{pda.Protocol(): "protocol", pda.Meter(): "meter"}},
				func(sig solana.Signature) (any, error) {
					v, err := Load(ctx, r)
					v.Signature = sig.String()
					return v, err
				})
		},
	}
}
