package dao

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

func finalizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "finalize",
		Usage:     "close a proposal's vote once it ended (or its outcome can no longer change); anyone may run it",
		ArgsUsage: "<model-id> <proposal>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, index, _, err := loadProposal(c)
			if err != nil {
				return err
			}
			p, err := e.proposal(c.Context, index)
			if err != nil {
				return err
			}
			if p.State != mt.ProposalState_Voting {
				return explain.Newf(fmt.Sprintf("see `mt dao show %d %d`", e.ID, index), "proposal %d was already finalised (%s)", index, stateName(p.State))
			}
			if !rules.ProposalDue(p, e.Now.Unix()) {
				return explain.Newf("wait until then, or until enough votes decide it", "voting on proposal %d is open until %s and its outcome can still change", index, at(p.VotingEnds))
			}
			ix, err := ix.FinalizeProposal(e.Addr, pda.Proposal(e.Addr, index))
			if err != nil {
				return fmt.Errorf("build finalize_proposal: %w", err)
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("finalise proposal %d of model %d", index, e.ID), Instructions: []solana.Instruction{ix}, Labels: e.labels()}, e.proposalResult(c.Context, index))
		},
	}
}
