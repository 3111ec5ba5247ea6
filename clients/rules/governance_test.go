package rules

import (
	"testing"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func TestVoteWeight(t *testing.T) {
	v := &mt.Voter{Deposited: 150, Recent: 50, SettledVotesFrom: 100, RecentVotesFrom: 200}
	for _, tc := range []struct {
		created int64
		want    uint64
	}{{99, 0}, {100, 100}, {199, 100}, {200, 150}, {1_000, 150}} {
		if got := VoteWeight(v, tc.created); got != tc.want {
			t.Errorf("VoteWeight(created %d) = %d, want %d", tc.created, got, tc.want)
		}
	}
	if VoteWeight(nil, 5) != 0 {
		t.Error("no record, no weight")
	}
	if VotesFrom(v) != 200 || VotesFrom(&mt.Voter{Deposited: 5, SettledVotesFrom: 7}) != 7 {
		t.Error("VotesFrom")
	}
}
