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
	"github.com/modelcommons/modelcommons/clients/rules"
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
			inst, err := e.executeIx(c, index, p.Action)
			if err != nil {
				return err
			}
			labels := e.labels()
			labels[pda.Proposal(e.Addr, index)] = "proposal"
			if !dest.Equals(mt.ProgramID) {
				labels[dest] = "transfer destination"
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("execute proposal %d of model %d", index, e.ID), Instructions: []solana.Instruction{inst}, Labels: labels}, e.proposalResult(c.Context, index))
		},
	}
}

// executeIx builds the instruction that executes the action: bounty
// actions have their own (they take the bounty accounts), the rest go
// through execute_proposal.
func (e *env) executeIx(c *cli.Context, index uint64, action mt.ProposalAction) (solana.Instruction, error) {
	native := ix.NativeOf(e.Protocol)
	switch x := action.(type) {
	case *mt.ProposalAction_FundBountyPool:
		signer, err := e.Session.Signer()
		if err != nil {
			return nil, err
		}
		if bal, err := e.Reader.TokenBalance(c.Context, pda.Vaults(e.Addr).Treasury); err == nil && bal < x.Amount {
			return nil, explain.Newf("wait for more revenue, or propose a smaller amount", "the treasury holds %s native tokens, less than the %s this proposal moves", e.Native(bal), e.Native(x.Amount))
		}
		return ix.FundBountyPool(signer.PublicKey(), e.Addr, index, native)
	case *mt.ProposalAction_CreateBounty:
		signer, err := e.Session.Signer()
		if err != nil {
			return nil, err
		}
		id, available := uint64(0), uint64(0)
		if data, owner, ok, err := e.Reader.Raw(c.Context, pda.BountyPool(e.Addr)); err != nil {
			return nil, err
		} else if ok && owner.Equals(mt.ProgramID) {
			pool, err := mt.ParseAccount_BountyPool(data)
			if err != nil {
				return nil, fmt.Errorf("decode bounty pool: %w", err)
			}
			id, available = pool.BountyCount, pool.Available
		}
		if need, err := rules.Reservation(x.Terms); err == nil && need > available {
			return nil, explain.Newf(fmt.Sprintf("fund the pool first: `mt bounty fund %d <amount>`", e.ID), "the bounty pool has %s native tokens available; this bounty reserves %s", e.Native(available), e.Native(need))
		}
		return ix.CreateBounty(signer.PublicKey(), e.Addr, index, id)
	}
	inst, err := ix.ExecuteProposal(e.Addr, index, action, native)
	if err != nil {
		return nil, fmt.Errorf("build execute_proposal: %w", err)
	}
	return inst, nil
}
