package dao

import (
	"context"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/clients/amount"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// VoterView is a holder's voter record as the commands print it.
type VoterView struct {
	Model     uint64           `json:"model"`
	Owner     solana.PublicKey `json:"owner"`
	Address   solana.PublicKey `json:"address"`
	Deposited amount.Tokens    `json:"deposited"`
	Warming   amount.Tokens    `json:"warming"`
	WarmAt    *time.Time       `json:"warm_at,omitempty"`
	// VoteWeightNow is what the record votes with on a proposal created
	// now (MT deposited and warmed up; see rules.VoteWeight); VotesFrom is
	// when all of it votes, if that is later.
	VoteWeightNow  amount.Tokens `json:"vote_weight_now"`
	VotesFrom      *time.Time    `json:"votes_from,omitempty"`
	LockedUntil    *time.Time    `json:"locked_until,omitempty"`
	RewardsOwed    amount.Tokens `json:"rewards_owed"`
	RewardsPending amount.Tokens `json:"rewards_pending"`
	RewardsClaimed amount.Tokens `json:"rewards_claimed"`
	Signature      string        `json:"signature,omitempty"`
}

// Text renders the voter record.
func (v VoterView) Text() string {
	fs := output.Fields{
		{Label: "Model", Value: v.Model},
		{Label: "Holder", Value: v.Owner},
		{Label: "Deposited", Value: v.Deposited.String() + " MT"},
		{Label: "Vote weight", Value: v.VoteWeightNow.String() + " MT on proposals created now (deposited and warmed up)"},
	}
	if v.VotesFrom != nil {
		fs = append(fs, output.Field{Label: "Votes fully", Value: "on proposals created from " + v.VotesFrom.Format(time.RFC3339)})
	}
	if v.Warming.Base > 0 && v.WarmAt != nil {
		fs = append(fs, output.Field{Label: "Warming up", Value: fmt.Sprintf("%s MT, earning from %s", v.Warming, v.WarmAt.Format(time.RFC3339))})
	}
	if v.LockedUntil != nil {
		fs = append(fs, output.Field{Label: "Locked until", Value: v.LockedUntil.Format(time.RFC3339) + " (a vote or proposal of yours is open)"})
	}
	fs = append(fs,
		output.Field{Label: "Rewards", Value: fmt.Sprintf("%s claimable, %s claimed (native tokens)", amount.Of(v.RewardsOwed.Base+v.RewardsPending.Base, v.RewardsOwed.Decimals), v.RewardsClaimed)},
	)
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	return fs.Text()
}

// VoterViewOf builds the view of owner's record (zero when none).
func (e *env) VoterViewOf(ctx context.Context, owner solana.PublicKey) (VoterView, *mt.Voter, error) {
	v := VoterView{Model: e.ID, Owner: owner, Address: pda.Voter(e.Addr, owner), Deposited: model.MT(0), Warming: model.MT(0), VoteWeightNow: model.MT(0),
		RewardsOwed: e.Native(0), RewardsPending: e.Native(0), RewardsClaimed: e.Native(0)}
	m, err := e.Reader.Model(ctx, e.ID)
	if err != nil {
		return v, nil, err
	}
	rec, ok, err := e.Reader.Voter(ctx, e.Addr, owner)
	if err != nil || !ok {
		return v, nil, err
	}
	v.Deposited, v.Warming = model.MT(rec.Deposited), model.MT(rec.Warming)
	v.VoteWeightNow = model.MT(rules.VoteWeight(rec, e.Now.Unix()))
	if from := rules.VotesFrom(rec); from > e.Now.Unix() {
		t := time.Unix(from, 0).UTC()
		v.VotesFrom = &t
	}
	if rec.Warming > 0 {
		t := time.Unix(rec.WarmAt, 0).UTC()
		v.WarmAt = &t
	}
	if rec.LockedUntil > e.Now.Unix() {
		t := time.Unix(rec.LockedUntil, 0).UTC()
		v.LockedUntil = &t
	}
	v.RewardsOwed, v.RewardsClaimed = e.Native(rec.RewardsOwed), e.Native(rec.RewardsClaimed)
	pending := rules.Pending(m.Revenue, rec)
	// MT that has finished warming up starts earning at its next checkpoint;
	// until then it has earned nothing, exactly as on chain.
	v.RewardsPending = e.Native(pending)
	return v, rec, nil
}

// voterResult is the result of a command that changed owner's voter
// record: the record as it is now.
