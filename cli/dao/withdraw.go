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

func withdrawCommand() *cli.Command {
	return &cli.Command{
		Name:      "withdraw",
		Usage:     "withdraw deposited MT (an amount, or all) once no open vote locks it",
		ArgsUsage: "<model-id> <amount|all>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, args, err := load(c, "amount")
			if err != nil {
				return err
			}
			owner, err := e.Session.Signer()
			if err != nil {
				return err
			}
			rec, ok, err := e.Reader.Voter(c.Context, e.Addr, owner.PublicKey())
			if err != nil {
				return err
			}
			if !ok || rec.Deposited == 0 {
				return explain.Newf(fmt.Sprintf("deposit first: `mt dao deposit %d <amount>`", e.ID), "you have no MT deposited in model %d", e.ID)
			}
			units, err := session.ParseAmountOrAll(args[0], rec.Deposited, rules.MTDecimals, "MT")
			if err != nil {
				return err
			}
			if units == 0 || units > rec.Deposited {
				return explain.Newf(fmt.Sprintf("withdraw at most %s (or `all`)", model.MT(rec.Deposited)), "you have %s MT deposited; cannot withdraw %s", model.MT(rec.Deposited), model.MT(units))
			}
			if e.Now.Unix() < rec.LockedUntil {
				return explain.Newf("withdraw after that", "your deposit is locked until %s: a proposal you voted on or made is still open", at(rec.LockedUntil))
			}
			dest := tokens.ATA(owner.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID)
			ix, err := ix.WithdrawMt(owner.PublicKey(), e.Addr, dest, units)
			if err != nil {
				return fmt.Errorf("build withdraw_mt: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(owner.PublicKey(), owner.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID), ix}
			labels := e.labels()
			labels[dest] = "your MT account"
			labels[pda.Voter(e.Addr, owner.PublicKey())] = "your voter record"
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("withdraw %s MT from model %d's DAO", model.MT(units), e.ID), Instructions: ixs, Labels: labels}, e.voterResult(c.Context, owner.PublicKey()))
		},
	}
}
