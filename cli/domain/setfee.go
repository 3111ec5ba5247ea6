package domain

import (
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/settlement"
)

func setFeeCommand() *cli.Command {
	return &cli.Command{
		Name:      "set-fee",
		Usage:     "change your domain's fee share; it applies to runs served after the domain's notice",
		ArgsUsage: "<domain> <bps>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			// The fee is checked before anything is read.
			if args := c.Args().Slice(); len(args) == 2 {
				if _, err := parseFeeBps("<bps>", args[1]); err != nil {
					return err
				}
			}
			t, err := loadDomain(c, "bps")
			if err != nil {
				return err
			}
			x, addr, d := t.x, t.addr, t.d
			fee, err := parseFeeBps("<bps>", t.rest[0])
			if err != nil {
				return err
			}
			op, err := t.operator("change its fee")
			if err != nil {
				return err
			}
			if fee == d.FeeBps {
				return explain.Newf("nothing to do", "the fee of %q is already %d bps", d.Name, fee)
			}
			now, err := x.Session.Now(c.Context)
			if err != nil {
				return err
			}
			// Mirrors Domain::schedule_fee: only two fees are remembered.
			if now.Unix() >= d.FeeEffectiveAt && d.PreviousFeeBps != d.FeeBps && now.Unix() < d.FeeEffectiveAt+settlement.SettleWindowSecs {
				until := time.Unix(d.FeeEffectiveAt+settlement.SettleWindowSecs, 0).UTC()
				return explain.Wrap(im.ErrFeeChangeTooSoon, fmt.Sprintf("the last fee change took effect at %s; runs served before it may still settle", time.Unix(d.FeeEffectiveAt, 0).UTC().Format(time.RFC3339)),
					"change the fee again after "+until.Format(time.RFC3339))
			}
			instr, err := ix.UpdateDomain(op.PublicKey(), addr, im.UpdateDomainArgs{MinNodeStake: d.MinNodeStake, FeeBps: fee, NoticeSecs: d.NoticeSecs})
			if err != nil {
				return fmt.Errorf("build update_domain: %w", err)
			}
			x.Session.Note("%d bps applies to runs served from %s; until then %d bps", fee, now.Add(time.Duration(d.NoticeSecs)*time.Second).UTC().Format(time.RFC3339), rules.DomainFeeAt(d, now.Unix()))
			return x.submit(c, fmt.Sprintf("set the fee of %q to %d bps", d.Name, fee), addr, []solana.Instruction{instr}, nil)
		},
	}
}
