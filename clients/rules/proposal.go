package rules

// The proposal tally of mt_treasury (programs/mt-treasury/src/state/proposal.rs):
// quorum, approval threshold, the early decision and when finalize_proposal
// accepts a proposal.

import (
	"math/big"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// Outcome of a proposal's tally, as the program decides it
// (programs/mt-treasury/src/state/proposal.rs).
type Outcome string

const (
	Passed          Outcome = "passed"
	FailedQuorum    Outcome = "failed: quorum not reached"
	FailedThreshold Outcome = "failed: approval threshold not reached"
)

// bps is one whole in basis points (the program's BPS_DENOMINATOR).
const bps = mt.BPS_DENOMINATOR

func u(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

// QuorumMet: turnout × 10 000 ≥ quorum_bps × circulating, exactly.
func QuorumMet(p *mt.Proposal) bool {
	turnout := new(big.Int).Add(u(p.Yes), u(p.No))
	turnout.Add(turnout, u(p.Abstain))
	l := turnout.Mul(turnout, u(bps))
	r := new(big.Int).Mul(big.NewInt(int64(p.QuorumBps)), u(p.CirculatingSupply))
	return l.Cmp(r) >= 0
}

// QuorumNeeded is the smallest turnout that meets p's quorum,
// ⌈quorum_bps × circulating / 10 000⌉: QuorumMet is exactly turnout ≥ it.
func QuorumNeeded(p *mt.Proposal) *big.Int {
	need := new(big.Int).Mul(big.NewInt(int64(p.QuorumBps)), u(p.CirculatingSupply))
	need.Add(need, u(bps-1))
	return need.Quo(need, u(bps))
}

// thresholdMet: yes > 0 and yes × 10 000 ≥ threshold_bps × (yes + no).
func thresholdMet(yes, no *big.Int, thresholdBps uint16) bool {
	if yes.Sign() == 0 {
		return false
	}
	l := new(big.Int).Mul(yes, u(bps))
	r := new(big.Int).Mul(big.NewInt(int64(thresholdBps)), new(big.Int).Add(yes, no))
	return l.Cmp(r) >= 0
}

// ThresholdMet reports whether yes reaches the approval threshold of yes + no.
func ThresholdMet(p *mt.Proposal) bool { return thresholdMet(u(p.Yes), u(p.No), p.ThresholdBps) }

// OutcomeNow is the outcome if voting ended now.
func OutcomeNow(p *mt.Proposal) Outcome {
	switch {
	case !QuorumMet(p):
		return FailedQuorum
	case !ThresholdMet(p):
		return FailedThreshold
	}
	return Passed
}

// Decided is the outcome when it can no longer change whatever the
// remaining MT votes, or "" when it still can (the program's Tally::decided).
func Decided(p *mt.Proposal) Outcome {
	turnout := new(big.Int).Add(u(p.Yes), u(p.No))
	turnout.Add(turnout, u(p.Abstain))
	remaining := new(big.Int).Sub(u(p.MaxVoteWeight), turnout)
	if remaining.Sign() < 0 {
		remaining.SetInt64(0)
	}
	capU64 := func(v *big.Int) *big.Int {
		if v.IsUint64() {
			return v
		}
		return u(^uint64(0))
	}
	if QuorumMet(p) && thresholdMet(u(p.Yes), capU64(new(big.Int).Add(u(p.No), remaining)), p.ThresholdBps) {
		return Passed
	}
	if !thresholdMet(capU64(new(big.Int).Add(u(p.Yes), remaining)), u(p.No), p.ThresholdBps) {
		return FailedThreshold
	}
	return ""
}

// ProposalDue reports whether finalize_proposal would accept the proposal
// now: it is voting, and either the window has ended or no remaining vote
// could change the outcome.
func ProposalDue(p *mt.Proposal, now int64) bool {
	if p.State != mt.ProposalState_Voting {
		return false
	}
	return now >= p.VotingEnds || Decided(p) != ""
}
