package bounty

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
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

// hashFlags are a document's --content-file / --content-hash.
func hashFlags(what string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "content-file", Usage: what + "; its SHA-256 goes on chain"},
		&cli.StringFlag{Name: "content-hash", Usage: "SHA-256 of " + what + ", in hex"},
		&cli.StringFlag{Name: "uri", Usage: "where " + what + " is published (at most 200 bytes)"},
	}
}

// contentHash reads --content-file or --content-hash; zero if neither.
func contentHash(c *cli.Context, problems *explain.Problems) [32]byte {
	var h [32]byte
	switch {
	case c.IsSet("content-file"):
		data, err := os.ReadFile(c.String("content-file"))
		if err != nil {
			problems.Addf("--content-file: %v", err)
		}
		h = sha256.Sum256(data)
	case c.IsSet("content-hash"):
		b, err := hex.DecodeString(strings.TrimPrefix(c.String("content-hash"), "0x"))
		if err != nil || len(b) != 32 {
			problems.Add("--content-hash must be 32 bytes in hex (64 digits)")
		}
		copy(h[:], b)
	}
	return h
}

// propose creates a proposal carrying action, as `mt dao propose` does,
// after the same checks of the proposer's warmed-up deposit.
func (e *env) propose(c *cli.Context, f *session.Settings, action mt.ProposalAction, hash [32]byte, uri, what string) error {
	if e.Model.Stage != mt.Stage_Active {
		return explain.Newf(fmt.Sprintf("see `mt model show %d`", e.ID), "model %d is not active: its DAO starts when its raise succeeds", e.ID)
	}
	proposer, err := e.Session.Signer()
	if err != nil {
		return err
	}
	if len(uri) > int(mt.MAX_PROPOSAL_URI_LEN) {
		f.Problems.Addf("--uri is %d bytes; at most %d", len(uri), mt.MAX_PROPOSAL_URI_LEN)
	}
	rec, ok, err := e.Reader.Voter(c.Context, e.Addr, proposer.PublicKey())
	if err != nil {
		return err
	}
	weight := uint64(0)
	if ok {
		weight = rules.VoteWeight(rec, e.Now.Unix())
	}
	if weight == 0 || weight < e.Model.Governance.MinProposeMt {
		f.Problems.Addf("proposing needs %s MT deposited and warmed up: `mt dao deposit %d <amount>`, then wait %s",
			model.MT(e.Model.Governance.MinProposeMt), e.ID, duration.Format(e.Model.Revenue.WarmupSecs))
	}
	if err := f.Problems.Err(); err != nil {
		return err
	}
	index := e.Model.ProposalCount
	inst, err := ix.CreateProposal(proposer.PublicKey(), e.Addr, index, mt.CreateProposalArgs{Action: action, ContentHash: hash, Uri: uri})
	if err != nil {
		return fmt.Errorf("build create_proposal: %w", err)
	}
	labels := e.labels()
	labels[pda.Proposal(e.Addr, index)] = "proposal (new)"
	e.Session.Note("note: once it passes, anyone executes it with `mt dao execute %d %d`", e.ID, index)
	return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("propose %s (proposal %d of model %d)", what, index, e.ID), Instructions: []solana.Instruction{inst}, Labels: labels},
		func(sig solana.Signature) (any, error) {
			return map[string]any{"model": e.ID, "proposal": index, "signature": sig.String()}, nil
		})
}

func fundCommand() *cli.Command {
	return &cli.Command{
		Name:      "fund",
		Usage:     "propose moving native tokens from the model's treasury into its bounty pool",
		ArgsUsage: "<model-id> <amount>",
		Flags:     session.WriteFlags(hashFlags("the proposal's rationale")...),
		Action: func(c *cli.Context) error {
			e, args, err := load(c, "amount")
			if err != nil {
				return err
			}
			f := session.Settings{C: c}
			amount, err := session.ParseAmount("<amount>", args[0], e.NativeDecimals, "native tokens")
			if err != nil {
				f.Problems.Add(err.Error())
			} else if amount == 0 {
				f.Problems.Add("<amount> must be greater than zero")
			}
			hash := contentHash(c, &f.Problems)
			return e.propose(c, &f, &mt.ProposalAction_FundBountyPool{Amount: amount}, hash, c.String("uri"), fmt.Sprintf("funding the bounty pool with %s native tokens", e.Native(amount)))
		},
	}
}

func createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "propose a bounty: its task (--content-file or --content-hash), reward, bonds and review rule",
		ArgsUsage: "<model-id>",
		Description: "Bounties are created by the model's DAO: this opens a proposal; once it passes, `mt dao execute`\n" +
			"creates the bounty and reserves its reward and review fees (reward + review fee × max submissions)\n" +
			"from the bounty pool, failing if the pool lacks them. Windows start at execution: submissions for\n" +
			"--submit-window, then commits for --review-window, then reveals for --review-window.",
		Flags: session.WriteFlags(append(hashFlags("the task's description"),
			&cli.StringFlag{Name: "reward", Usage: "native tokens shared equally by the accepted submissions", Required: true},
			&cli.StringFlag{Name: "review-fee", Usage: "native tokens per submission for the reviewers who judge with the outcome", Value: "0"},
			&cli.StringFlag{Name: "submission-bond", Usage: "native tokens each contributor posts; lost if the work is called spam", Required: true},
			&cli.StringFlag{Name: "review-bond", Usage: "native tokens each reviewer posts; half lost on the losing side of a clear outcome, all if never revealed", Required: true},
			&cli.Uint64Flag{Name: "max-submissions", Value: 10},
			&cli.Uint64Flag{Name: "min-reviewers", Value: 3, Usage: "fewer reveals leave a submission unreviewed"},
			&cli.Uint64Flag{Name: "threshold-bps", Value: 6_000, Usage: "approval (or spam) weight needed, of the revealed weight"},
			&cli.Uint64Flag{Name: "min-reputation", Usage: "accepted submissions a contributor needs in this model"},
			&cli.StringFlag{Name: "submit-window", Value: "7d"},
			&cli.StringFlag{Name: "review-window", Value: "3d"},
		)...),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			f := session.Settings{C: c, Defaults: true}
			t := mt.BountyTerms{
				TaskHash:       contentHash(c, &f.Problems),
				Reward:         f.Amount("reward", 0, e.NativeDecimals, "native tokens"),
				ReviewFee:      f.Amount("review-fee", 0, e.NativeDecimals, "native tokens"),
				SubmissionBond: f.Amount("submission-bond", 0, e.NativeDecimals, "native tokens"),
				ReviewBond:     f.Amount("review-bond", 0, e.NativeDecimals, "native tokens"),
				ThresholdBps:   f.Bps("threshold-bps", 0),
				SubmitSecs:     f.Period("submit-window", 0, e.Protocol.MinPeriodSecs),
				ReviewSecs:     f.Period("review-window", 0, e.Protocol.MinPeriodSecs),
			}
			if t.TaskHash == [32]byte{} {
				f.Problems.Add("the task's description is required: --content-file (or --content-hash)")
			}
			if t.Reward == 0 || t.SubmissionBond == 0 || t.ReviewBond == 0 {
				f.Problems.Add("--reward, --submission-bond and --review-bond must be greater than zero")
			}
			for _, l := range []struct {
				name string
				max  uint64
				min  uint64
				into any
			}{{"max-submissions", uint64(mt.MAX_BOUNTY_SUBMISSIONS), 1, &t.MaxSubmissions}, {"min-reviewers", 0xffff, 1, &t.MinReviewers}} {
				v := c.Uint64(l.name)
				if v < l.min || v > l.max {
					f.Problems.Addf("--%s must be %d to %d", l.name, l.min, l.max)
				}
				*(l.into.(*uint16)) = uint16(min(v, l.max))
			}
			if v := c.Uint64("min-reputation"); v > 0xffffffff {
				f.Problems.Add("--min-reputation is too large")
			} else {
				t.MinReputation = uint32(v)
			}
			if t.ThresholdBps == 0 {
				f.Problems.Add("--threshold-bps must be greater than zero")
			}
			if need, err := rules.Reservation(t); err != nil {
				f.Problems.Add("the reward plus review fees overflow")
			} else if pool, ok, err := e.pool(c.Context); err == nil && (!ok || pool.Available < need) {
				avail := uint64(0)
				if ok {
					avail = pool.Available
				}
				e.Session.Note("note: the pool has %s native tokens available and this bounty reserves %s: fund it first (`mt bounty fund %d <amount>`) or execution will fail", e.Native(avail), e.Native(need), e.ID)
			}
			return e.propose(c, &f, &mt.ProposalAction_CreateBounty{Terms: t}, t.TaskHash, c.String("uri"), fmt.Sprintf("a bounty of %s native tokens", e.Native(t.Reward)))
		},
	}
}
