package bounty

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// PoolView is the model's bounty pool and its bounties (`bounty list`).
type PoolView struct {
	Model     uint64        `json:"model"`
	Available amount.Tokens `json:"available"`
	Reserved  amount.Tokens `json:"reserved"`
	Held      amount.Tokens `json:"held"`
	Bounties  []BountyView  `json:"bounties"`
}

// Text renders the pool.
func (p PoolView) Text() string {
	var b strings.Builder
	b.WriteString(output.Fields{
		{Label: "Model", Value: p.Model},
		{Label: "Pool", Value: fmt.Sprintf("%s available, %s reserved for bounties, %s owed to claimants (native tokens)", p.Available, p.Reserved, p.Held)},
	}.Text())
	if len(p.Bounties) == 0 {
		b.WriteString(fmt.Sprintf("\nNo bounties yet: `mt bounty create %d ...`\n", p.Model))
		return b.String()
	}
	rows := make([][]string, len(p.Bounties))
	for i, v := range p.Bounties {
		rows[i] = []string{strconv.FormatUint(v.ID, 10), v.Phase, v.Reward.String(), fmt.Sprintf("%d/%d", v.Submissions, v.MaxSubmissions), v.TaskHash[:16]}
	}
	b.WriteString("\n" + output.Table([]string{"ID", "PHASE", "REWARD", "SUBMISSIONS", "TASK"}, rows))
	return b.String()
}

// BountyView is one bounty (`bounty show`).
type BountyView struct {
	Model          uint64           `json:"model"`
	ID             uint64           `json:"id"`
	Address        solana.PublicKey `json:"address"`
	Phase          string           `json:"phase"`
	TaskHash       string           `json:"task_hash"`
	Reward         amount.Tokens    `json:"reward"`
	ReviewFee      amount.Tokens    `json:"review_fee"`
	SubmissionBond amount.Tokens    `json:"submission_bond"`
	ReviewBond     amount.Tokens    `json:"review_bond"`
	MaxSubmissions uint16           `json:"max_submissions"`
	MinReviewers   uint16           `json:"min_reviewers"`
	ThresholdBps   uint16           `json:"threshold_bps"`
	MinReputation  uint32           `json:"min_reputation"`
	SubmitEnds     time.Time        `json:"submit_ends"`
	CommitEnds     time.Time        `json:"commit_ends"`
	RevealEnds     time.Time        `json:"reveal_ends"`
	Submissions    uint16           `json:"submissions"`
	Accepted       uint16           `json:"accepted"`
	Settled        bool             `json:"settled"`
	Award          amount.Tokens    `json:"award"`
	Entries        []SubmissionView `json:"entries,omitempty"`
}

// SubmissionView is one submission.
type SubmissionView struct {
	Contributor solana.PublicKey `json:"contributor"`
	ContentHash string           `json:"content_hash"`
	URI         string           `json:"uri"`
	Outcome     string           `json:"outcome"`
	Commits     uint16           `json:"commits"`
	Reveals     uint16           `json:"reveals"`
	Claimed     bool             `json:"claimed"`
}

// Text renders the bounty.
func (v BountyView) Text() string {
	var b strings.Builder
	b.WriteString(output.Fields{
		{Label: "Bounty", Value: fmt.Sprintf("%d of model %d (%s)", v.ID, v.Model, v.Address)},
		{Label: "Phase", Value: v.Phase},
		{Label: "Task", Value: v.TaskHash},
		{Label: "Reward", Value: fmt.Sprintf("%s native tokens, shared by the accepted submissions", v.Reward)},
		{Label: "Bonds", Value: fmt.Sprintf("submission %s, review %s; review fee %s per submission", v.SubmissionBond, v.ReviewBond, v.ReviewFee)},
		{Label: "Review rule", Value: fmt.Sprintf("%d reviewers, %d bps of revealed weight; min reputation %d", v.MinReviewers, v.ThresholdBps, v.MinReputation)},
		{Label: "Windows", Value: fmt.Sprintf("submit until %s, commit until %s, reveal until %s", v.SubmitEnds.Format(time.RFC3339), v.CommitEnds.Format(time.RFC3339), v.RevealEnds.Format(time.RFC3339))},
		{Label: "Submissions", Value: fmt.Sprintf("%d of %d, %d accepted", v.Submissions, v.MaxSubmissions, v.Accepted)},
	}.Text())
	if len(v.Entries) > 0 {
		rows := make([][]string, len(v.Entries))
		for i, s := range v.Entries {
			rows[i] = []string{s.Contributor.String(), s.Outcome, fmt.Sprintf("%d/%d", s.Reveals, s.Commits), s.URI}
		}
		b.WriteString("\n" + output.Table([]string{"CONTRIBUTOR", "OUTCOME", "REVEALED/COMMITTED", "URI"}, rows))
	}
	return b.String()
}

func phase(b *mt.Bounty, now int64) string {
	switch {
	case b.Settled:
		return "settled"
	case now < b.SubmitEnds:
		return "taking submissions"
	case now < b.CommitEnds:
		return "review: commit"
	case now < b.RevealEnds:
		return "review: reveal"
	}
	return "finalising"
}

func (e *env) view(id uint64, b *mt.Bounty) BountyView {
	t := b.Terms
	return BountyView{
		Model: e.ID, ID: id, Address: pda.Bounty(e.Addr, id), Phase: phase(b, e.Now.Unix()), TaskHash: hex.EncodeToString(t.TaskHash[:]),
		Reward: e.Native(t.Reward), ReviewFee: e.Native(t.ReviewFee), SubmissionBond: e.Native(t.SubmissionBond), ReviewBond: e.Native(t.ReviewBond),
		MaxSubmissions: t.MaxSubmissions, MinReviewers: t.MinReviewers, ThresholdBps: t.ThresholdBps, MinReputation: t.MinReputation,
		SubmitEnds: time.Unix(b.SubmitEnds, 0).UTC(), CommitEnds: time.Unix(b.CommitEnds, 0).UTC(), RevealEnds: time.Unix(b.RevealEnds, 0).UTC(),
		Submissions: b.Submissions, Accepted: b.Accepted, Settled: b.Settled, Award: e.Native(b.Award),
	}
}

func listCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "a model's bounty pool and bounties",
		ArgsUsage: "<model-id>",
		Flags:     session.ReadFlags(),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			v := PoolView{Model: e.ID, Bounties: []BountyView{}}
			pool, ok, err := e.pool(c.Context)
			if err != nil {
				return err
			}
			if ok {
				v.Available, v.Reserved, v.Held = e.Native(pool.Available), e.Native(pool.Reserved), e.Native(pool.Held)
				for id := uint64(0); id < pool.BountyCount; id++ {
					b, err := e.bounty(c.Context, id)
					if err != nil {
						return err
					}
					v.Bounties = append(v.Bounties, e.view(id, b))
				}
			}
			return e.Session.Out.Print(v)
		},
	}
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "one bounty: terms, windows and submissions",
		ArgsUsage: "<model-id> <bounty-id>",
		Flags:     session.ReadFlags(),
		Action: func(c *cli.Context) error {
			e, id, b, _, err := loadBounty(c)
			if err != nil {
				return err
			}
			v := e.view(id, b)
			subs, err := e.submissions(c.Context, id)
			if err != nil {
				return err
			}
			for _, s := range subs {
				v.Entries = append(v.Entries, SubmissionView{
					Contributor: s.Contributor, ContentHash: hex.EncodeToString(s.ContentHash[:]), URI: s.Uri, Outcome: outcomeName(s.Outcome),
					Commits: s.Tally.Commits, Reveals: s.Tally.Reveals, Claimed: s.Claimed,
				})
			}
			sort.Slice(v.Entries, func(i, j int) bool { return v.Entries[i].Contributor.String() < v.Entries[j].Contributor.String() })
			return e.Session.Out.Print(v)
		},
	}
}
