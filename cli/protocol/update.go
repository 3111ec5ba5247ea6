package protocol

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

func acceptAdminCommand() *cli.Command {
	return &cli.Command{
		Name:  "accept-admin",
		Usage: "take over as protocol (and meter) admin after the admin nominated your keypair with `update --new-admin`",
		Flags: session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, err := LoadEnv(c)
			if err != nil {
				return err
			}
			me := e.Signer.PublicKey()
			var problems explain.Problems
			switch p := e.Protocol.PendingAdmin; {
			case p == nil:
				problems.Addf("no admin is nominated: the admin %s must first run `mt protocol update --new-admin %s`", e.Protocol.Admin, me)
			case !p.Equals(me):
				problems.Addf("the nominated admin is %s, not your keypair %s (pass --keypair)", p, me)
			}
			if err := problems.Err(); err != nil {
				return err
			}
			ix, err := ix.AcceptAdmin(me)
			if err != nil {
				return fmt.Errorf("build accept_admin: %w", err)
			}
			return e.Session.Submit(c.Context, session.Tx{What: "accept the protocol admin role", Instructions: []solana.Instruction{ix}, Labels: map[solana.PublicKey]string{pda.Protocol(): "protocol"}},
				session.Reread(c.Context, e.Reader, Load))
		},
	}
}

func updateCommand() *cli.Command {
	return &cli.Command{
		Name:  "update",
		Usage: "change the protocol's fees or minimum period, nominate a new admin, or pause/resume launches and contributions (admin)",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "setup-fee", Usage: "new set-up fee, in native tokens"},
			&cli.Uint64Flag{Name: "protocol-fee-bps", Usage: "new protocol cut of raise proceeds, in basis points"},
			&cli.Uint64Flag{Name: "swap-fee-bps", Usage: "new swap fee, in basis points"},
			&cli.Uint64Flag{Name: "swap-protocol-share-bps", Usage: "new protocol share of the swap fee, in basis points"},
			&cli.StringFlag{Name: "min-period", Usage: "new minimum period (" + duration.Hint + ")"},
			&cli.BoolFlag{Name: "pause", Usage: "stop launches and contributions (claims, refunds and finalisation keep working)"},
			&cli.BoolFlag{Name: "resume", Usage: "allow launches and contributions again"},
			&cli.StringFlag{Name: "new-admin", Usage: "nominate this address as admin; it takes over by signing `mt protocol accept-admin` (your own address withdraws a nomination)"},
		),
		Action: func(c *cli.Context) error {
			e, err := LoadEnv(c)
			if err != nil {
				return err
			}
			ctx := c.Context
			mint, err := e.Reader.Mint(ctx, e.Protocol.NativeMint)
			if err != nil {
				return err
			}
			var args mt.UpdateProtocolArgs
			f := session.Settings{C: c}
			e.RequireAdmin(&f.Problems, "update it")
			if c.IsSet("setup-fee") {
				v := f.Amount("setup-fee", 0, mint.Decimals, "native tokens")
				args.SetupFee = &v
			}
			for _, b := range []struct {
				name string
				dst  **uint16
			}{{"protocol-fee-bps", &args.ProtocolFeeBps}, {"swap-fee-bps", &args.SwapFeeBps}, {"swap-protocol-share-bps", &args.SwapProtocolShareBps}} {
				if c.IsSet(b.name) {
					v := f.Bps(b.name, 0)
					*b.dst = &v
				}
			}
			if c.IsSet("min-period") {
				v := minPeriod(c, &f.Problems)
				args.MinPeriodSecs = &v
			}
			switch {
			case c.Bool("pause") && c.Bool("resume"):
				f.Problems.Add("give --pause or --resume, not both")
			case c.Bool("pause"):
				paused := true
				args.Paused = &paused
			case c.Bool("resume"):
				paused := false
				args.Paused = &paused
			}
			if c.IsSet("new-admin") {
				k, err := session.ParsePubkey("--new-admin", c.String("new-admin"))
				if err != nil {
					f.Problems.Add(err.Error())
				}
				args.NewAdmin = &k
			}
			if args == (mt.UpdateProtocolArgs{}) && len(f.Problems) == 0 {
				f.Problems.Add("nothing to change: pass at least one setting (see --help)")
			}
			if err := f.Problems.Err(); err != nil {
				return err
			}
			ix, err := ix.UpdateProtocol(e.Signer.PublicKey(), args)
			if err != nil {
				return fmt.Errorf("build update_protocol: %w", err)
			}
			return e.Session.Submit(ctx, session.Tx{What: "update the protocol", Instructions: []solana.Instruction{ix}, Labels: map[solana.PublicKey]string{pda.Protocol(): "protocol"}},
				session.Reread(ctx, e.Reader, Load))
		},
	}
}
