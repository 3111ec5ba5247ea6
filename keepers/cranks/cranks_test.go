package cranks

import (
	"testing"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// A model the rule cannot compute (a zero price) is never cranked.
func TestRaiseWithZeroPriceIsNotDue(t *testing.T) {
	m := &mt.Model{Stage: mt.Stage_Funding, Supply: mt.SupplySplit{Crowdfund: 5}, Crowdfund: mt.Crowdfund{HardCap: 10, End: 100}}
	if raiseDue(m, 50) || !raiseDue(m, 100) {
		t.Fatal("raise due rule")
	}
}

func TestVoterDue(t *testing.T) {
	if VoterDue(&mt.Voter{Warming: 0, WarmAt: 10}, 20) || VoterDue(&mt.Voter{Warming: 5, WarmAt: 30}, 20) || !VoterDue(&mt.Voter{Warming: 5, WarmAt: 20}, 20) {
		t.Fatal("voter due rule")
	}
}

func TestBountyDueRules(t *testing.T) {
	b := &mt.Bounty{RevealEnds: 100, Submissions: 2, Finalized: 1}
	pending := &mt.Submission{Outcome: mt.SubmissionOutcome_Pending}
	done := &mt.Submission{Outcome: mt.SubmissionOutcome_Accepted}
	if rules.SubmissionDue(b, pending, 99) || !rules.SubmissionDue(b, pending, 100) || rules.SubmissionDue(b, done, 100) {
		t.Fatal("submission due rule")
	}
	if rules.BountySettleDue(b, 100) {
		t.Fatal("a bounty with a submission still pending is not due")
	}
	b.Finalized = 2
	if rules.BountySettleDue(b, 99) || !rules.BountySettleDue(b, 100) {
		t.Fatal("settle due at reveal_ends")
	}
	b.Settled = true
	if rules.BountySettleDue(b, 100) {
		t.Fatal("settled once")
	}
}
