package cranks

import (
	"testing"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func TestRaiseDue(t *testing.T) {
	model := func(end int64, raised, sold uint64) *mt.Model {
		return &mt.Model{
			Stage:     mt.Stage_Funding,
			Supply:    mt.SupplySplit{Crowdfund: 50_000 * mtUnit},
			Crowdfund: mt.Crowdfund{Price: 2 * mtUnit, HardCap: 100_000 * mtUnit, End: end, Raised: raised, Sold: sold},
		}
	}
	cases := []struct {
		name string
		m    *mt.Model
		now  int64
		want bool
	}{
		{"open, room left", model(100, 10_000*mtUnit, 5_000*mtUnit), 99, false},
		{"window closed (end exclusive)", model(100, 10_000*mtUnit, 5_000*mtUnit), 100, true},
		{"sale allocation sold", model(100, 100_000*mtUnit, 50_000*mtUnit), 50, true},
		{"room buys nothing", model(100, 100_000*mtUnit-1, 49_999*mtUnit), 50, true},
		{"room buys one base unit", model(100, 100_000*mtUnit-2, 49_999*mtUnit), 50, false},
	}
	for _, c := range cases {
		if got := RaiseDue(c.m, c.now); got != c.want {
			t.Errorf("%s: due %v, want %v", c.name, got, c.want)
		}
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

func TestVoterDue(t *testing.T) {
	if VoterDue(&mt.Voter{Warming: 0, WarmAt: 10}, 20) || VoterDue(&mt.Voter{Warming: 5, WarmAt: 30}, 20) || !VoterDue(&mt.Voter{Warming: 5, WarmAt: 20}, 20) {
		t.Fatal("voter due rule")
	}
}
