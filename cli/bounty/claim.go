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
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

func ataOf(e *env, wallet solana.PublicKey) solana.PublicKey {
	return tokens.ATA(wallet, e.Protocol.NativeMint, e.Protocol.NativeTokenProgram)
}

func claimCommand() *cli.Command {
	return &cli.Command{
		Name:      "claim",
		Usage:     "collect what you earned on a bounty: your award and bond as a contributor, bonds and fees as a reviewer",
		ArgsUsage: "<model-id> <bounty-id>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, id, b, _, err := loadBounty(c)
			if err != nil {
				return err
			}
			me, err := e.Session.Signer()
			if err != nil {
				return err
			}
			subs, err := e.submissions(c.Context, id)
			if err != nil {
				return err
			}
			native := ix.NativeOf(e.Protocol)
			dest := ataOf(e, me.PublicKey())
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(me.PublicKey(), me.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram)}
			var total uint64
			pending := false
			for addr, s := range subs {
				if s.Outcome == mt.SubmissionOutcome_Pending {
					pending = true
					continue
				}
				if s.Contributor.Equals(me.PublicKey()) && !s.Claimed && (s.Outcome != mt.SubmissionOutcome_Accepted || b.Settled) {
					if v, err := rules.ContributorPayout(s, b.Award); err == nil && v > 0 {
						inst, err := ix.ClaimSubmission(me.PublicKey(), e.Addr, id, dest, native)
						if err != nil {
							return fmt.Errorf("build claim_submission: %w", err)
						}
						ixs, total = append(ixs, inst), total+v
					}
				}
				r, ok, err := e.review(c.Context, addr, me.PublicKey())
				if err != nil {
					return err
				}
				if !ok || r.Claimed {
					continue
				}
				if p, err := rules.PayReview(r, s); err == nil && p.Amount > 0 {
					inst, err := ix.ClaimReview(me.PublicKey(), e.Addr, id, s.Contributor, dest, native)
					if err != nil {
						return fmt.Errorf("build claim_review: %w", err)
					}
					ixs, total = append(ixs, inst), total+p.Amount
				}
			}
			if len(ixs) == 1 {
				if pending || (!b.Settled && e.Now.Unix() >= b.RevealEnds) {
					return explain.Newf(fmt.Sprintf("finalise it first: `mt bounty finalize %d %d`", e.ID, id), "bounty %d is not finalised yet", id)
				}
				return explain.New("you have nothing to claim on this bounty", "nothing to do")
			}
			labels := e.labels()
			labels[dest] = "your native account"
			labels[pda.Bounty(e.Addr, id)] = "bounty"
			// At most a few claims per transaction.
			for len(ixs) > 5 {
				if _, err := e.Session.Send(c.Context, session.Tx{What: fmt.Sprintf("claim on bounty %d", id), Instructions: ixs[:5], Labels: labels}); err != nil {
					return err
				}
				ixs = ixs[5:]
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("claim %s native tokens on bounty %d of model %d", e.Native(total), id, e.ID), Instructions: ixs, Labels: labels},
				func(sig solana.Signature) (any, error) {
					return map[string]any{"model": e.ID, "bounty": id, "claimed": e.Native(total), "signature": sig.String()}, nil
				})
		},
	}
}
