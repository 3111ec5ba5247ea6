package dao

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

func executeCommand() *cli.Command {
	return &cli.Command{
		Name:      "execute",
		Usage:     "carry out a passed proposal after its hold-up period; anyone may run it, once",
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
			switch p.State {
			case mt.ProposalState_Passed:
			case mt.ProposalState_Executed:
				return explain.Newf("nothing to do", "proposal %d was already executed at %s", index, at(p.ExecutedAt))
			case mt.ProposalState_Voting:
				return explain.Newf(fmt.Sprintf("finalise it first when voting ends: `mt dao finalize %d %d`", e.ID, index), "proposal %d has not been finalised", index)
			default:
				return explain.Newf("nothing to do", "proposal %d did not pass (%s)", index, stateName(p.State))
			}
			if expires := p.ExecuteAfter + mt.EXECUTION_WINDOW_SECS; e.Now.Unix() >= expires {
				return explain.Newf("propose it again: `mt dao propose …`", "proposal %d passed but was not executed by %s (14 days after its hold-up); it has expired", index, at(expires))
			}
			if e.Now.Unix() < p.ExecuteAfter {
				return explain.Newf("run this again then", "proposal %d passed; its hold-up period ends at %s", index, at(p.ExecuteAfter))
			}
			vs := pda.Vaults(e.Addr)
			dest := mt.ProgramID
			switch x := p.Action.(type) {
			case *mt.ProposalAction_TransferNative:
				dest = x.Destination
				if bal, err := e.Reader.TokenBalance(c.Context, vs.Treasury); err == nil && bal < x.Amount {
					return explain.Newf("wait for more revenue, or propose a smaller transfer", "the treasury holds %s native tokens, less than the %s native tokens this proposal pays", e.Native(bal), e.Native(x.Amount))
				}
			case *mt.ProposalAction_TransferMt:
				dest = x.Destination
				if bal, err := e.Reader.TokenBalance(c.Context, vs.Rewards); err == nil && bal < x.Amount {
					return explain.Newf("propose a smaller transfer", "the rewards vault holds %s MT, less than the %s MT this proposal pays", model.MT(bal), model.MT(x.Amount))
				}
			}
			ix, err := ix.ExecuteProposal(e.Addr, index, p.Action, ix.NativeOf(e.Protocol))
			if err != nil {
				return fmt.Errorf("build execute_proposal: %w", err)
			}
			labels := e.labels()
			labels[pda.Proposal(e.Addr, index)] = "proposal"
			if !dest.Equals(mt.ProgramID) {
				labels[dest] = "transfer destination"
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("execute proposal %d of model %d", index, e.ID), Instructions: []solana.Instruction{ix}, Labels: labels}, e.proposalResult(c.Context, index))
		},
	}
}
