package rules

// The bounty review rule of mt_treasury (programs/mt-treasury/src/state/
// review_rule.rs, bounty.rs, submission.rs and review.rs; BOUNTIES.md):
// what a bounty reserves, how revealed reviews decide a submission, what
// each reviewer and contributor is paid, and what settling a bounty
// releases.

import (
	"crypto/sha256"
	"math/big"
	"math/bits"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// reviewCommitmentTag is the program's REVIEW_COMMITMENT_TAG.
var reviewCommitmentTag = []byte("mt-review")

// ReviewCommitment is the hash a reviewer commits to (review_commitment):
// sha256("mt-review" ‖ choice ‖ salt ‖ submission ‖ reviewer).
func ReviewCommitment(choice mt.ReviewChoice, salt [32]byte, submission, reviewer solana.PublicKey) [32]byte {
	h := sha256.New()
	h.Write(reviewCommitmentTag)
	h.Write([]byte{byte(choice)})
	h.Write(salt[:])
	h.Write(submission[:])
	h.Write(reviewer[:])
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Reservation is what creating a bounty with terms takes from the pool:
// reward + review_fee × max_submissions (BountyTerms::reservation).
func Reservation(t mt.BountyTerms) (uint64, error) {
	hi, lo := bits.Mul64(t.ReviewFee, uint64(t.MaxSubmissions))
	sum, carry := bits.Add64(lo, t.Reward, 0)
	if hi != 0 || carry != 0 {
		return 0, ErrOverflow
	}
	return sum, nil
}

func meets(part uint64, whole *big.Int, rate uint16) bool {
	l := new(big.Int).Mul(u(part), u(bps))
	r := new(big.Int).Mul(big.NewInt(int64(rate)), whole)
	return l.Cmp(r) >= 0
}

func revealedWeight(t mt.ReviewTally) *big.Int {
	w := new(big.Int).Add(u(t.ApproveWeight), u(t.RejectWeight))
	return w.Add(w, u(t.SpamWeight))
}

// SubmissionOutcome is ReviewTally::outcome: unreviewed below minReviewers
// reveals, accepted when approvals reach thresholdBps of the revealed
// weight, spam when spam calls do, rejected otherwise.
func SubmissionOutcome(t mt.ReviewTally, minReviewers, thresholdBps uint16) mt.SubmissionOutcome {
	total := revealedWeight(t)
	switch {
	case t.Reveals < minReviewers || total.Sign() == 0:
		return mt.SubmissionOutcome_Unreviewed
	case meets(t.ApproveWeight, total, thresholdBps):
		return mt.SubmissionOutcome_Accepted
	case meets(t.SpamWeight, total, thresholdBps):
		return mt.SubmissionOutcome_Spam
	}
	return mt.SubmissionOutcome_Rejected
}

// ReviewSettlement is what finalize_submission records.
type ReviewSettlement struct {
	Outcome       mt.SubmissionOutcome
	FeePool       uint64
	WinningWeight uint64
	Winners       uint16
	Clear         bool
	Slash         uint64
}

func sat16(a, b uint16) uint16 {
	if s := uint32(a) + uint32(b); s <= 0xffff {
		return uint16(s)
	}
	return 0xffff
}

func satAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return ^uint64(0)
	}
	return s
}

func add64(a, b uint64) (uint64, error) {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return 0, ErrOverflow
	}
	return s, nil
}

// SettleReviews is ReviewTally::settle: the outcome, the winners, whether
// it is clear (winners ≥ CLEAR_OUTCOME_BPS of the revealed weight) and the
// fee pool (review fee + no-shows' bonds + losers' slashes if clear + the
// contributor's bond if spam).
func SettleReviews(t mt.ReviewTally, terms mt.BountyTerms) (ReviewSettlement, error) {
	s := ReviewSettlement{Outcome: SubmissionOutcome(t, terms.MinReviewers, terms.ThresholdBps)}
	switch s.Outcome {
	case mt.SubmissionOutcome_Accepted:
		s.WinningWeight, s.Winners = t.ApproveWeight, t.Approvals
	case mt.SubmissionOutcome_Rejected, mt.SubmissionOutcome_Spam:
		s.WinningWeight, s.Winners = satAdd(t.RejectWeight, t.SpamWeight), sat16(t.Rejections, t.SpamCalls)
	}
	losers := uint64(t.Reveals - s.Winners)
	s.Clear = s.Winners > 0 && meets(s.WinningWeight, revealedWeight(t), mt.CLEAR_OUTCOME_BPS)
	s.Slash = bpsCeil(terms.ReviewBond, mt.SLASH_BPS)
	noShows, err := mulDiv(terms.ReviewBond, uint64(t.Commits-t.Reveals), 1, false)
	if err != nil {
		return s, err
	}
	if s.FeePool, err = add64(terms.ReviewFee, noShows); err != nil {
		return s, err
	}
	if s.Clear {
		slashed, err := mulDiv(s.Slash, losers, 1, false)
		if err != nil {
			return s, err
		}
		if s.FeePool, err = add64(s.FeePool, slashed); err != nil {
			return s, err
		}
	}
	if s.Outcome == mt.SubmissionOutcome_Spam {
		if s.FeePool, err = add64(s.FeePool, terms.SubmissionBond); err != nil {
			return s, err
		}
	}
	return s, nil
}

// ReviewPayout is what claim_review pays (review_payout).
type ReviewPayout struct {
	Amount, Fee     uint64
	Winner, Slashed bool
}

// PayReview is review_payout for r on its finalised submission s.
func PayReview(r *mt.Review, s *mt.Submission) (ReviewPayout, error) {
	if !r.Revealed {
		return ReviewPayout{}, nil
	}
	var winner bool
	switch s.Outcome {
	case mt.SubmissionOutcome_Accepted:
		winner = r.Choice == mt.ReviewChoice_Approve
	case mt.SubmissionOutcome_Rejected, mt.SubmissionOutcome_Spam:
		winner = r.Choice != mt.ReviewChoice_Approve
	}
	if winner {
		fee, err := mulDiv(s.FeePool, r.Weight, s.WinningWeight, false)
		if err != nil {
			return ReviewPayout{}, err
		}
		amount, err := add64(r.Bond, fee)
		return ReviewPayout{Amount: amount, Fee: fee, Winner: true}, err
	}
	if s.Clear && s.Outcome != mt.SubmissionOutcome_Unreviewed {
		if s.Slash > r.Bond {
			return ReviewPayout{}, ErrOverflow
		}
		return ReviewPayout{Amount: r.Bond - s.Slash, Slashed: true}, nil
	}
	return ReviewPayout{Amount: r.Bond}, nil
}

// ContributorPayout is Submission::contributor_payout: award + bond if
// accepted, the bond if rejected or unreviewed, nothing for spam.
func ContributorPayout(s *mt.Submission, award uint64) (uint64, error) {
	switch s.Outcome {
	case mt.SubmissionOutcome_Accepted:
		return add64(award, s.Bond)
	case mt.SubmissionOutcome_Rejected, mt.SubmissionOutcome_Unreviewed:
		return s.Bond, nil
	}
	return 0, nil
}

// BountySettlement is Bounty::settlement: each accepted submission's award,
// the awards' total, and what settling releases to the pool.
func BountySettlement(b *mt.Bounty) (award, owed, released uint64, err error) {
	t := b.Terms
	if b.Accepted > 0 {
		award = t.Reward / uint64(b.Accepted)
	}
	owed = award * uint64(b.Accepted) // ≤ reward
	if b.Submissions > t.MaxSubmissions {
		return 0, 0, 0, ErrOverflow
	}
	unused, err := mulDiv(t.ReviewFee, uint64(t.MaxSubmissions-b.Submissions), 1, false)
	if err != nil {
		return 0, 0, 0, err
	}
	released, err = add64(t.Reward-owed, unused)
	return award, owed, released, err
}

// SubmissionDue: finalize_submission accepts s of bounty b at now (its
// reveal window is over and it is not finalised yet).
func SubmissionDue(b *mt.Bounty, s *mt.Submission, now int64) bool {
	return s.Outcome == mt.SubmissionOutcome_Pending && now >= b.RevealEnds
}

// BountySettleDue: settle_bounty accepts b at now (its reveal window is
// over, every submission is finalised and it is not settled yet).
func BountySettleDue(b *mt.Bounty, now int64) bool {
	return !b.Settled && now >= b.RevealEnds && b.Finalized == b.Submissions
}
