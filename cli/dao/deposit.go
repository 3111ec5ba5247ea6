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
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

func depositCommand() *cli.Command {
	return &cli.Command{
		Name:      "deposit",
		Usage:     "deposit MT into your voter record: after the warm-up, votes on proposals created from then on and a share of revenue",
		ArgsUsage: "<model-id> <amount>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, args, err := load(c, "amount")
			if err != nil {
				return err
			}
			if err := e.requireActive(); err != nil {
				return err
			}
			owner, err := e.Session.Signer()
			if err != nil {
				return err
			}
			units, err := session.ParseAmountArg(args[0], rules.MTDecimals, "MT", "give the MT to deposit, e.g. 100")
			if err != nil {
				return err
			}
			source := tokens.ATA(owner.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID)
			bal, err := e.Reader.TokenBalance(c.Context, source)
			if err != nil {
				return err
			}
			if bal < units {
				return explain.Newf("claim or buy MT first (`mt crowdfund claim`, `mt market buy`), or deposit less",
					"depositing %s MT needs them in your MT account %s, which holds %s MT", model.MT(units), source, model.MT(bal))
			}
			ix, err := ix.DepositMt(owner.PublicKey(), e.Addr, source, units)
			if err != nil {
				return fmt.Errorf("build deposit_mt: %w", err)
			}
			labels := e.labels()
			labels[source] = "your MT account"
			labels[pda.Voter(e.Addr, owner.PublicKey())] = "your voter record"
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("deposit %s MT into model %d's DAO", model.MT(units), e.ID), Instructions: []solana.Instruction{ix}, Labels: labels}, e.voterResult(c.Context, owner.PublicKey()))
		},
	}
}
