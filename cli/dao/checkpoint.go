package dao

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
)

func checkpointCommand() *cli.Command {
	return &cli.Command{
		Name:      "checkpoint",
		Usage:     "start a deposit earning once its warm-up has passed (anyone may run it for any holder)",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(session.WalletFlag("whose deposit (default: your keypair's)")),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			who, err := e.Session.Wallet(c)
			if err != nil {
				return err
			}
			rec, ok, err := e.Reader.Voter(c.Context, e.Addr, who)
			if err != nil {
				return err
			}
			if !ok {
				return explain.Newf(fmt.Sprintf("deposit first: `mt dao deposit %d <amount>`", e.ID), "%s has no deposit in model %d", who, e.ID)
			}
			if rec.Warming == 0 {
				return explain.Newf("nothing to do", "all of %s's deposit in model %d is already earning", who, e.ID)
			}
			if e.Now.Unix() < rec.WarmAt {
				return explain.Newf("run this again then", "%s MT are still warming up; they can start earning at %s", model.MT(rec.Warming), at(rec.WarmAt))
			}
			ix, err := ix.CheckpointVoter(e.Addr, who)
			if err != nil {
				return fmt.Errorf("build checkpoint_voter: %w", err)
			}
			labels := e.labels()
			labels[pda.Voter(e.Addr, who)] = "voter record"
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("start %s's deposit in model %d earning", who, e.ID), Instructions: []solana.Instruction{ix}, Labels: labels}, e.voterResult(c.Context, who))
		},
	}
}
