package rules

import (
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// VoteWeight is Voter::vote_weight: the MT v votes with on a proposal
// created at createdAt. Only MT deposited and warmed up by then (deposited
// at least the model's warm-up before) and still deposited counts: the
// settled tranche (deposited − recent) from SettledVotesFrom, the recent one
// from RecentVotesFrom.
func VoteWeight(v *mt.Voter, createdAt int64) uint64 {
	if v == nil {
		return 0
	}
	var w uint64
	if v.SettledVotesFrom <= createdAt && v.Deposited >= v.Recent {
		w += v.Deposited - v.Recent
	}
	if v.RecentVotesFrom <= createdAt {
		w += v.Recent
	}
	return w
}

// VotesFrom is the creation time from which every MT in v votes: proposals
// created earlier count less (or nothing) of it.
func VotesFrom(v *mt.Voter) int64 {
	switch {
	case v == nil:
		return 0
	case v.Recent == 0:
		return v.SettledVotesFrom
	default:
		return max(v.SettledVotesFrom, v.RecentVotesFrom)
	}
}
