package rules

import (
	"testing"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func TestTally(t *testing.T) {
	// 1000 circulating, 20% quorum, 50% threshold, 1000 max weight.
	base := mt.Proposal{QuorumBps: 2000, ThresholdBps: 5000, CirculatingSupply: 1000, MaxVoteWeight: 1000}
	tests := []struct {
		yes, no, abstain uint64
		now              Outcome
		decided          Outcome
	}{
		{0, 0, 0, FailedQuorum, ""},
		{100, 99, 0, FailedQuorum, ""},
		{100, 100, 0, Passed, ""},        // boundaries are inclusive
		{0, 0, 200, FailedThreshold, ""}, // abstentions alone never pass
		{501, 0, 0, Passed, Passed},      // the other 499 voting no cannot stop it
		{500, 0, 0, Passed, Passed},      // 500 vs 500 still meets 50%
		{0, 501, 0, FailedThreshold, FailedThreshold},
		{499, 1, 0, Passed, ""},
	}
	for _, tt := range tests {
		p := base
		p.Yes, p.No, p.Abstain = tt.yes, tt.no, tt.abstain
		if got := OutcomeNow(&p); got != tt.now {
			t.Errorf("%d/%d/%d: outcome %q, want %q", tt.yes, tt.no, tt.abstain, got, tt.now)
		}
		if got := Decided(&p); got != tt.decided {
			t.Errorf("%d/%d/%d: decided %q, want %q", tt.yes, tt.no, tt.abstain, got, tt.decided)
		}
	}
	p := base
	p.VotingEnds = 100
	if ProposalDue(&p, 99) || !ProposalDue(&p, 100) {
		t.Error("ProposalDue at the end of voting")
	}
}

// The cases of mt_treasury's Tally::decided, with circulating 1 000,
// max weight 2 000, quorum 10%, threshold 50%.
func TestProposalDue(t *testing.T) {
	p := func(yes, no, abstain uint64) *mt.Proposal {
		return &mt.Proposal{State: mt.ProposalState_Voting, VotingEnds: 100, Yes: yes, No: no, Abstain: abstain,
			CirculatingSupply: 1_000, MaxVoteWeight: 2_000, QuorumBps: 1_000, ThresholdBps: 5_000}
	}
	cases := []struct {
		name string
		p    *mt.Proposal
		now  int64
		want bool
	}{
		{"undecided, voting open", p(100, 100, 0), 99, false},
		{"voting ended (exclusive end)", p(100, 100, 0), 100, true},
		{"passed early: no remaining vote can stop it", p(1_500, 0, 0), 50, true},
		{"failed early: yes cannot reach the threshold", p(0, 1_500, 0), 50, true},
		{"abstentions alone decide nothing yet", p(0, 0, 500), 50, false},
		{"not voting any more", &mt.Proposal{State: mt.ProposalState_Passed, VotingEnds: 100}, 200, false},
	}
	for _, c := range cases {
		if got := ProposalDue(c.p, c.now); got != c.want {
			t.Errorf("%s: due %v, want %v", c.name, got, c.want)
		}
	}
}
