package dao

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/clients/amount"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// ProposalView is a proposal as the commands print it.
type ProposalView struct {
	Model        uint64           `json:"model"`
	Index        uint64           `json:"index"`
	Address      solana.PublicKey `json:"address"`
	Proposer     solana.PublicKey `json:"proposer"`
	Action       string           `json:"action"`
	ActionDetail any              `json:"action_detail"`
	ContentHash  string           `json:"content_hash,omitempty"`
	URI          string           `json:"uri,omitempty"`
	State        string           `json:"state"`
	VotingEnds   time.Time        `json:"voting_ends"`
	ExecuteAfter *time.Time       `json:"execute_after,omitempty"`
	Yes          amount.Tokens    `json:"yes"`
	No           amount.Tokens    `json:"no"`
	Abstain      amount.Tokens    `json:"abstain"`
	Votes        uint32           `json:"votes"`
	Circulating  amount.Tokens    `json:"circulating"`
	QuorumBps    uint16           `json:"quorum_bps"`
	ThresholdBps uint16           `json:"threshold_bps"`
	QuorumMet    bool             `json:"quorum_met"`
	ThresholdMet bool             `json:"threshold_met"`
	// Next says what can be done with the proposal now.
	Next      string `json:"next"`
	Signature string `json:"signature,omitempty"`
}

// Text renders the proposal.
func (v ProposalView) Text() string {
	fs := output.Fields{
		{Label: "Proposal", Value: fmt.Sprintf("%d of model %d (%s)", v.Index, v.Model, v.Address)},
		{Label: "Proposer", Value: v.Proposer},
		{Label: "Action", Value: v.Action},
	}
	if v.URI != "" || v.ContentHash != "" {
		fs = append(fs, output.Field{Label: "Document", Value: strings.TrimSpace(v.URI + " " + v.ContentHash)})
	}
	fs = append(fs,
		output.Field{Label: "State", Value: v.State},
		output.Field{Label: "Votes", Value: fmt.Sprintf("yes %s, no %s, abstain %s MT (%d votes)", v.Yes, v.No, v.Abstain, v.Votes)},
		output.Field{Label: "Quorum", Value: fmt.Sprintf("%d bps of %s circulating MT: %v", v.QuorumBps, v.Circulating, map[bool]string{true: "met", false: "not met"}[v.QuorumMet])},
		output.Field{Label: "Threshold", Value: fmt.Sprintf("%d bps of yes+no: %v", v.ThresholdBps, map[bool]string{true: "met", false: "not met"}[v.ThresholdMet])},
		output.Field{Label: "Voting ends", Value: v.VotingEnds.Format(time.RFC3339)},
	)
	if v.ExecuteAfter != nil {
		fs = append(fs, output.Field{Label: "Executable from", Value: v.ExecuteAfter.Format(time.RFC3339)})
	}
	fs = append(fs, output.Field{Label: "Next", Value: v.Next})
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	return fs.Text()
}

func stateName(s mt.ProposalState) string { return strings.ToLower(s.String()) }

// describeAction names an action for people and gives its fields for JSON.
func (e *env) describeAction(a mt.ProposalAction) (string, any) {
	switch x := a.(type) {
	case *mt.ProposalAction_TransferNative:
		return fmt.Sprintf("transfer %s native tokens from the treasury to %s", e.Native(x.Amount), x.Destination), map[string]any{"kind": "transfer-native", "destination": x.Destination, "amount": e.Native(x.Amount)}
	case *mt.ProposalAction_TransferMt:
		return fmt.Sprintf("transfer %s MT from the rewards vault to %s", model.MT(x.Amount), x.Destination), map[string]any{"kind": "transfer-mt", "destination": x.Destination, "amount": model.MT(x.Amount)}
	case *mt.ProposalAction_SetGovernance:
		r := x.Rules
		return fmt.Sprintf("set governance: quorum %d bps, threshold %d bps, voting %s, hold-up %s, minimum to propose %s MT",
				r.QuorumBps, r.ThresholdBps, duration.Format(r.VotingPeriodSecs), duration.Format(r.HoldUpSecs), model.MT(r.MinProposeMt)),
			map[string]any{"kind": "set-governance", "quorum_bps": r.QuorumBps, "threshold_bps": r.ThresholdBps, "voting_period_secs": r.VotingPeriodSecs, "hold_up_secs": r.HoldUpSecs, "min_propose": model.MT(r.MinProposeMt)}
	case *mt.ProposalAction_SetRevenueRules:
		return fmt.Sprintf("set revenue rules: %d bps to depositors, warm-up %s", x.DepositorShareBps, duration.Format(x.WarmupSecs)),
			map[string]any{"kind": "set-revenue-rules", "depositor_share_bps": x.DepositorShareBps, "warmup_secs": x.WarmupSecs}
	case *mt.ProposalAction_SetPrice:
		return fmt.Sprintf("set the query price: %s per 1k input tokens, %s per 1k output tokens", e.Native(x.InputPer1k), e.Native(x.OutputPer1k)),
			map[string]any{"kind": "set-price", "input_per_1k": e.Native(x.InputPer1k), "output_per_1k": e.Native(x.OutputPer1k)}
	case *mt.ProposalAction_FundBountyPool:
		return fmt.Sprintf("fund the bounty pool with %s native tokens from the treasury", e.Native(x.Amount)), map[string]any{"kind": "fund-bounty-pool", "amount": e.Native(x.Amount)}
	case *mt.ProposalAction_CreateBounty:
		t := x.Terms
		return fmt.Sprintf("create a bounty: reward %s, review fee %s, bonds %s/%s, up to %d submissions, %d reviewers at %d bps",
				e.Native(t.Reward), e.Native(t.ReviewFee), e.Native(t.SubmissionBond), e.Native(t.ReviewBond), t.MaxSubmissions, t.MinReviewers, t.ThresholdBps),
			map[string]any{"kind": "create-bounty", "reward": e.Native(t.Reward), "review_fee": e.Native(t.ReviewFee), "submission_bond": e.Native(t.SubmissionBond),
				"review_bond": e.Native(t.ReviewBond), "max_submissions": t.MaxSubmissions, "min_reviewers": t.MinReviewers, "threshold_bps": t.ThresholdBps,
				"min_reputation": t.MinReputation, "submit_secs": t.SubmitSecs, "review_secs": t.ReviewSecs}
	}
	return "signal (the document is the decision)", map[string]any{"kind": "signal"}
}

func (e *env) proposalView(ctx context.Context, index uint64) (ProposalView, *mt.Proposal, error) {
	p, err := e.proposal(ctx, index)
	if err != nil {
		return ProposalView{}, nil, err
	}
	action, detail := e.describeAction(p.Action)
	v := ProposalView{
		Model: e.ID, Index: index, Address: pda.Proposal(e.Addr, index), Proposer: p.Proposer, Action: action, ActionDetail: detail,
		URI: p.Uri, State: stateName(p.State), VotingEnds: time.Unix(p.VotingEnds, 0).UTC(),
		Yes: model.MT(p.Yes), No: model.MT(p.No), Abstain: model.MT(p.Abstain), Votes: p.Votes,
		Circulating: model.MT(p.CirculatingSupply), QuorumBps: p.QuorumBps, ThresholdBps: p.ThresholdBps,
		QuorumMet: rules.QuorumMet(p), ThresholdMet: rules.ThresholdMet(p),
	}
	if p.ContentHash != [32]byte{} {
		v.ContentHash = hex.EncodeToString(p.ContentHash[:])
	}
	if p.ExecuteAfter != 0 {
		t := time.Unix(p.ExecuteAfter, 0).UTC()
		v.ExecuteAfter = &t
	}
	now := e.Now.Unix()
	id, ix := e.ID, index
	switch p.State {
	case mt.ProposalState_Voting:
		switch {
		case now < p.VotingEnds && rules.Decided(p) == "":
			v.Next = fmt.Sprintf("voting open until %s: `mt dao vote %d %d yes|no|abstain`", at(p.VotingEnds), id, ix)
		default:
			outcome := rules.OutcomeNow(p)
			if d := rules.Decided(p); d != "" && now < p.VotingEnds {
				outcome = d
			}
			v.Next = fmt.Sprintf("decided (%s): anyone may finalise it: `mt dao finalize %d %d`", outcome, id, ix)
		}
	case mt.ProposalState_Passed:
		expires := p.ExecuteAfter + mt.EXECUTION_WINDOW_SECS
		switch {
		case now < p.ExecuteAfter:
			v.Next = fmt.Sprintf("passed; executable from %s until %s: `mt dao execute %d %d`", at(p.ExecuteAfter), at(expires), id, ix)
		case now < expires:
			v.Next = fmt.Sprintf("passed; anyone may execute it until %s: `mt dao execute %d %d`", at(expires), id, ix)
		default:
			v.Next = fmt.Sprintf("expired: passed but not executed by %s; propose it again", at(expires))
		}
	case mt.ProposalState_Executed:
		v.Next = "executed at " + at(p.ExecutedAt)
	case mt.ProposalState_Failed:
		v.Next = "failed: nothing to do"
	case mt.ProposalState_Cancelled:
		v.Next = "cancelled by its proposer"
	}
	return v, p, nil
}
