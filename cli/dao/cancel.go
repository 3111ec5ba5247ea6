package dao

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func cancelCommand() *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "withdraw your own proposal before anyone has voted",
		ArgsUsage: "<model-id> <proposal>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, index, _, err := loadProposal(c)
			if err != nil {
				return err
			}
			proposer, err := e.Session.Signer()
			if err != nil {
				return err
			}
			p, err := e.proposal(c.Context, index)
			if err != nil {
				return err
			}
			switch {
			case !p.Proposer.Equals(proposer.PublicKey()):
				return explain.Newf("sign with the proposer's keypair (--keypair)", "only proposal %d's proposer %s may cancel it", index, p.Proposer)
			case p.State != mt.ProposalState_Voting:
				return explain.Newf("nothing to cancel", "proposal %d is %s", index, stateName(p.State))
			case p.Votes > 0:
				return explain.Newf("it runs its course now", "proposal %d already has %d vote(s) and can no longer be cancelled", index, p.Votes)
			}
			ix, err := ix.CancelProposal(proposer.PublicKey(), e.Addr, index)
			if err != nil {
				return fmt.Errorf("build cancel_proposal: %w", err)
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("cancel proposal %d of model %d", index, e.ID), Instructions: []solana.Instruction{ix}, Labels: e.labels()}, e.proposalResult(c.Context, index))
		},
	}
}
