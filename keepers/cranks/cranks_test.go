package cranks

import (
	"testing"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
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
