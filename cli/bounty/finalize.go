package bounty

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/rules"
)

func finalizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "finalize",
		Usage:     "decide every submission of a bounty whose reveal window ended, then settle it; anyone may run it (the keeper's crank does)",
		ArgsUsage: "<model-id> <bounty-id>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, id, b, _, err := loadBounty(c)
			if err != nil {
				return err
			}
			if b.Settled {
				return explain.Newf(fmt.Sprintf("claim: `mt bounty claim %d %d`", e.ID, id), "bounty %d is already settled", id)
			}
			if e.Now.Unix() < b.RevealEnds {
				return explain.Newf("run this again then", "bounty %d's reveal window ends at %s", id, at(b.RevealEnds))
			}
			subs, err := e.submissions(c.Context, id)
			if err != nil {
				return err
			}
			var ixs []solana.Instruction
			for _, s := range subs {
				if !rules.SubmissionDue(b, s, e.Now.Unix()) {
					continue
				}
				inst, err := ix.FinalizeSubmission(e.Addr, id, s.Contributor)
				if err != nil {
					return fmt.Errorf("build finalize_submission: %w", err)
				}
				ixs = append(ixs, inst)
			}
			// A few finalisations per transaction; the settlement goes last.
			for len(ixs) > 4 {
				if _, err := e.Session.Send(c.Context, session.Tx{What: fmt.Sprintf("finalise submissions of bounty %d", id), Instructions: ixs[:4], Labels: e.labels()}); err != nil {
					return err
				}
				ixs = ixs[4:]
			}
			settle, err := ix.SettleBounty(e.Addr, id)
			if err != nil {
				return fmt.Errorf("build settle_bounty: %w", err)
			}
			ixs = append(ixs, settle)
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("finalise and settle bounty %d of model %d", id, e.ID), Instructions: ixs, Labels: e.labels()}, e.bountyResult(c, id))
		},
	}
}
