package bounty

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

func submitCommand() *cli.Command {
	return &cli.Command{
		Name:      "submit",
		Usage:     "submit work to a bounty (its hash and where it is published), posting the bounty's bond",
		ArgsUsage: "<model-id> <bounty-id>",
		Flags:     session.WriteFlags(hashFlags("the work")...),
		Action: func(c *cli.Context) error {
			e, id, b, _, err := loadBounty(c)
			if err != nil {
				return err
			}
			contributor, err := e.Session.Signer()
			if err != nil {
				return err
			}
			f := session.Settings{C: c}
			args := mt.SubmitWorkArgs{ContentHash: contentHash(c, &f.Problems), Uri: c.String("uri")}
			if args.ContentHash == [32]byte{} || args.Uri == "" {
				f.Problems.Add("the work is required: --uri and --content-file (or --content-hash)")
			}
			if len(args.Uri) > int(mt.MAX_SUBMISSION_URI_LEN) {
				f.Problems.Addf("--uri is %d bytes; at most %d", len(args.Uri), mt.MAX_SUBMISSION_URI_LEN)
			}
			if err := f.Problems.Err(); err != nil {
				return err
			}
			if e.Now.Unix() >= b.SubmitEnds {
				return explain.Newf(fmt.Sprintf("see `mt bounty list %d` for open bounties", e.ID), "bounty %d stopped taking submissions at %s", id, at(b.SubmitEnds))
			}
			if b.Submissions >= b.Terms.MaxSubmissions {
				return explain.Newf("nothing to do", "bounty %d is full (%d submissions)", id, b.Submissions)
			}
			if _, ok, err := e.submission(c.Context, id, contributor.PublicKey()); err != nil {
				return err
			} else if ok {
				return explain.Newf(fmt.Sprintf("see `mt bounty show %d %d`", e.ID, id), "you have already submitted to bounty %d (one submission per wallet)", id)
			}
			if exists, err := e.Reader.Exists(c.Context, pda.WorkClaim(e.Addr, args.ContentHash)); err != nil {
				return err
			} else if exists {
				return explain.New("this work (its content hash) was already submitted in this model", "submit new work")
			}
			if b.Terms.MinReputation > 0 {
				rep, ok, err := e.reputation(c.Context, contributor.PublicKey())
				if err != nil {
					return err
				}
				if !ok || rep.Accepted < b.Terms.MinReputation {
					return explain.Newf(fmt.Sprintf("see `mt reputation show %d`", e.ID), "bounty %d needs %d accepted submissions in this model", id, b.Terms.MinReputation)
				}
			}
			source := ataOf(e, contributor.PublicKey())
			if bal, err := e.Reader.TokenBalance(c.Context, source); err != nil {
				return err
			} else if bal < b.Terms.SubmissionBond {
				return explain.Newf("get native tokens first", "the bond is %s native tokens; your account holds %s", e.Native(b.Terms.SubmissionBond), e.Native(bal))
			}
			inst, err := ix.SubmitWork(contributor.PublicKey(), e.Addr, id, source, ix.NativeOf(e.Protocol), args)
			if err != nil {
				return fmt.Errorf("build submit_work: %w", err)
			}
			labels := e.labels()
			labels[pda.Bounty(e.Addr, id)] = "bounty"
			labels[source] = "your native account"
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("submit work to bounty %d of model %d (bond %s)", id, e.ID, e.Native(b.Terms.SubmissionBond)),
				Instructions: []solana.Instruction{inst}, Labels: labels}, e.bountyResult(c, id))
		},
	}
}
