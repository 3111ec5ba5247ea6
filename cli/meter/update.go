package meter

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/protocol"
	"github.com/modelcommons/modelcommons/cli/session"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
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
		Action: runUpdate,
	}
}

func runUpdate(c *cli.Context) error {
	e, err := protocol.LoadEnv(c)
	if err != nil {
		return err
	}
	ctx, r := c.Context, e.Reader
	m, err := r.Meter(ctx)
	if err != nil {
		return err
	}
	mint, err := r.Mint(ctx, m.NativeMint)
	if err != nil {
		return err
	}
	f := session.Settings{C: c}
	e.RequireAdmin(&f.Problems, "update the meter")
	args := im.InitMeterArgs{
		SettlementFeeBps: f.Bps("settlement-fee-bps", m.SettlementFeeBps),
		OperatorShareBps: f.Bps("operator-share-bps", m.OperatorShareBps),
	}
	if uint64(args.SettlementFeeBps)+uint64(args.OperatorShareBps) > 10_000 {
		f.Problems.Addf("settlement fee %d bps plus operator share %d bps exceed 10000 (100%%)", args.SettlementFeeBps, args.OperatorShareBps)
	}
	args.MinNodeStake = f.Amount("min-node-stake", m.MinNodeStake, mint.Decimals, "native tokens")
	args.UnbondingSecs = f.Period("unbonding", m.UnbondingSecs, e.Protocol.MinPeriodSecs)
	args.WithdrawalNoticeSecs = f.Period("withdrawal-notice", m.WithdrawalNoticeSecs, e.Protocol.MinPeriodSecs)
	if !f.Given {
		f.Problems.Add("nothing to change: pass at least one setting (see --help)")
	}
	if err := f.Problems.Err(); err != nil {
		return err
	}
	ix, err := ix.UpdateMeter(e.Signer.PublicKey(), args)
	if err != nil {
		return fmt.Errorf("build update_meter: %w", err)
	}
	return e.Session.Submit(ctx, session.Tx{What: "update the meter", Instructions: []solana.Instruction{ix}, Labels: map[solana.PublicKey]string{pda.Protocol(): "protocol", pda.Meter(): "meter"}},
		session.Reread(ctx, r, Load))
}
