package dao

import (
	"fmt"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

func voteCommand() *cli.Command {
	return &cli.Command{
		Name:      "vote",
		Usage:     "vote on a proposal with your MT deposited before it was created (locked until voting ends)",
		ArgsUsage: "<model-id> <proposal> <yes|no|abstain>",
		Description: "Your vote weight is a snapshot taken when the proposal was created: only MT that was\n" +
			"deposited in your voter record and had finished its warm-up (the model's warm-up) by then\n" +
			"counts, and only as much of it as is still deposited when you vote. MT bought or deposited\n" +
			"after the proposal was created adds nothing to it (it votes on later proposals). A top-up\n" +
			"restarts the warm-up of your latest deposits only; vote before topping up if a recent top-up\n" +
			"has just warmed. `mt dao show <model-id>` shows your weight on a proposal created now.\n" +
			"Everything in your record stays locked until voting ends.",
		Flags: session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, index, args, err := loadProposal(c, "yes|no|abstain")
			if err != nil {
				return err
			}
			var choice mt.VoteChoice
			switch strings.ToLower(args[0]) {
			case "yes", "y":
				choice = mt.VoteChoice_Yes
			case "no", "n":
				choice = mt.VoteChoice_No
			case "abstain":
				choice = mt.VoteChoice_Abstain
			default:
				return explain.Newf("vote yes, no or abstain", "%q is not a vote", args[0])
			}
			owner, err := e.Session.Signer()
			if err != nil {
				return err
			}
			p, err := e.proposal(c.Context, index)
			if err != nil {
				return err
			}
			if p.State != mt.ProposalState_Voting {
				return explain.Newf(fmt.Sprintf("see `mt dao show %d %d`", e.ID, index), "proposal %d is no longer open for votes (%s)", index, stateName(p.State))
			}
			if e.Now.Unix() >= p.VotingEnds {
				return explain.Newf(fmt.Sprintf("anyone may finalise it: `mt dao finalize %d %d`", e.ID, index), "voting on proposal %d ended at %s", index, at(p.VotingEnds))
			}
			voterAddr := pda.Voter(e.Addr, owner.PublicKey())
			rec, ok, err := e.Reader.Voter(c.Context, e.Addr, owner.PublicKey())
			if err != nil {
				return err
			}
			if !ok || rec.Deposited == 0 {
				return explain.Newf(fmt.Sprintf("deposit MT first: `mt dao deposit %d <amount>`; it votes on proposals created once it has warmed up (%s)", e.ID, duration.Format(e.Model.Revenue.WarmupSecs)), "you have no MT deposited in model %d, so no voting power", e.ID)
			}
			weight := rules.VoteWeight(rec, p.CreatedAt)
			if weight == 0 {
				return explain.Newf("it votes on proposals created from "+at(rules.VotesFrom(rec))+" on",
					"none of your %s MT counts on proposal %d: vote weight is a snapshot of MT deposited and warmed up before the proposal was created (%s)",
					model.MT(rec.Deposited), index, at(p.CreatedAt))
			}
			record := pda.Vote(pda.Proposal(e.Addr, index), voterAddr)
			if exists, err := e.Reader.Exists(c.Context, record); err != nil {
				return err
			} else if exists {
				return explain.Newf(fmt.Sprintf("see the tally with `mt dao show %d %d`", e.ID, index), "you already voted on proposal %d", index)
			}
			ix, err := ix.CastVote(owner.PublicKey(), e.Addr, pda.Proposal(e.Addr, index), choice)
			if err != nil {
				return fmt.Errorf("build cast_vote: %w", err)
			}
			labels := e.labels()
			labels[pda.Proposal(e.Addr, index)] = "proposal"
			labels[voterAddr] = "your voter record"
			labels[record] = "your vote record (new)"
			if weight < rec.Deposited {
				e.Session.Note("note: %s of your %s MT count on this proposal (the rest was deposited or warmed up after it was created)", model.MT(weight), model.MT(rec.Deposited))
			}
			e.Session.Note("note: your %s MT stay locked until voting ends at %s", model.MT(rec.Deposited), at(p.VotingEnds))
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("vote %s with %s MT on proposal %d of model %d", strings.ToLower(args[0]), model.MT(weight), index, e.ID), Instructions: []solana.Instruction{ix}, Labels: labels}, e.proposalResult(c.Context, index))
		},
	}
}
