package bounty

import (
	"fmt"
	"strings"

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

var choices = map[string]mt.ReviewChoice{"approve": mt.ReviewChoice_Approve, "reject": mt.ReviewChoice_Reject, "spam": mt.ReviewChoice_Spam}

func reviewCommand() *cli.Command {
	return &cli.Command{
		Name:      "review",
		Usage:     "review a submission: commit your hidden choice in the commit window, run it again in the reveal window",
		ArgsUsage: "<model-id> <bounty-id> <contributor> <approve|reject|spam>",
		Description: "In the commit window this commits sha256(choice, salt, submission, you) and posts the review bond;\n" +
			"the salt is derived from your key, so nothing needs to be kept. In the reveal window the same\n" +
			"command reveals it (it refuses a choice other than the one committed). Your weight is your MT deposited and warmed up\n" +
			"before the bounty was created; it stays locked until the reveal window ends. Reviewers on the\n" +
			"losing side of a clear outcome lose half their bond; a review never revealed loses all of it.",
		Flags: session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, id, b, args, err := loadBounty(c, "contributor", "approve|reject|spam")
			if err != nil {
				return err
			}
			reviewer, err := e.Session.Signer()
			if err != nil {
				return err
			}
			contributor, err := session.ParsePubkey("<contributor>", args[0])
			if err != nil {
				return err
			}
			ch, ok := choices[strings.ToLower(args[1])]
			if !ok {
				return explain.Newf("review approve, reject or spam", "%q is not a review", args[1])
			}
			choice := &ch
			if _, ok, err := e.submission(c.Context, id, contributor); err != nil {
				return err
			} else if !ok {
				return explain.Newf(fmt.Sprintf("see `mt bounty show %d %d`", e.ID, id), "%s has no submission to bounty %d", contributor, id)
			}
			sub := pda.Submission(pda.Bounty(e.Addr, id), contributor)
			s := salt(reviewer, sub)
			now := e.Now.Unix()
			labels := e.labels()
			labels[sub] = "submission"
			labels[pda.Review(sub, reviewer.PublicKey())] = "your review"
			switch {
			case now < b.CommitEnds:
				if contributor.Equals(reviewer.PublicKey()) {
					return explain.New("you cannot review your own submission", "ask other depositors to review it")
				}
				if _, ok, err := e.review(c.Context, sub, reviewer.PublicKey()); err != nil {
					return err
				} else if ok {
					return explain.Newf(fmt.Sprintf("reveal it after %s with this command", at(b.CommitEnds)), "you already committed a review of this submission")
				}
				rec, ok, err := e.Reader.Voter(c.Context, e.Addr, reviewer.PublicKey())
				if err != nil {
					return err
				}
				if !ok || rules.VoteWeight(rec, b.CreatedAt) == 0 {
					return explain.Newf(fmt.Sprintf("deposit MT (`mt dao deposit %d <amount>`) to review later bounties", e.ID),
						"none of your MT counts on bounty %d: reviewer weight is MT deposited and warmed up before the bounty was created (%s)", id, at(b.CreatedAt))
				}
				commitment := rules.ReviewCommitment(*choice, s, sub, reviewer.PublicKey())
				inst, err := ix.CommitReview(reviewer.PublicKey(), e.Addr, id, contributor, ataOf(e, reviewer.PublicKey()), ix.NativeOf(e.Protocol), commitment)
				if err != nil {
					return fmt.Errorf("build commit_review: %w", err)
				}
				e.Session.Note("note: your %s MT stay locked until %s; reveal between %s and then with this command", model.MT(rules.VoteWeight(rec, b.CreatedAt)), at(b.RevealEnds), at(b.CommitEnds))
				return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("commit a review of %s's submission to bounty %d (bond %s)", contributor, id, e.Native(b.Terms.ReviewBond)),
					Instructions: []solana.Instruction{inst}, Labels: labels}, e.bountyResult(c, id))
			case now < b.RevealEnds:
				r, ok, err := e.review(c.Context, sub, reviewer.PublicKey())
				if err != nil {
					return err
				}
				if !ok {
					return explain.Newf("nothing to reveal", "you committed no review of this submission, and the commit window closed at %s", at(b.CommitEnds))
				}
				if r.Revealed {
					return explain.New("your review is already revealed", "nothing to do")
				}
				found := false
				for _, ch := range []mt.ReviewChoice{mt.ReviewChoice_Approve, mt.ReviewChoice_Reject, mt.ReviewChoice_Spam} {
					if rules.ReviewCommitment(ch, s, sub, reviewer.PublicKey()) == r.Commitment {
						if *choice != ch {
							return explain.Newf("run it again with "+strings.ToLower(ch.String()), "you committed %s, not %s", strings.ToLower(ch.String()), strings.ToLower(choice.String()))
						}
						found = true
						break
					}
				}
				if !found {
					return explain.New("your commitment was not made by this tool with this keypair", "reveal with the keypair that committed")
				}
				inst, err := ix.RevealReview(reviewer.PublicKey(), e.Addr, id, contributor, *choice, s)
				if err != nil {
					return fmt.Errorf("build reveal_review: %w", err)
				}
				return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("reveal your review (%s) of %s's submission to bounty %d", strings.ToLower(choice.String()), contributor, id),
					Instructions: []solana.Instruction{inst}, Labels: labels}, e.bountyResult(c, id))
			}
			return explain.Newf(fmt.Sprintf("finalise and claim: `mt bounty finalize %d %d`, `mt bounty claim %d %d`", e.ID, id, e.ID, id), "bounty %d's reveal window ended at %s", id, at(b.RevealEnds))
		},
	}
}
