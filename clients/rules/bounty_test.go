package rules

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

const native = 1_000_000

func bountyTerms() mt.BountyTerms {
	return mt.BountyTerms{Reward: 900 * native, ReviewFee: 30 * native, SubmissionBond: 10 * native, ReviewBond: 4 * native,
		MaxSubmissions: 3, MinReviewers: 3, ThresholdBps: 6_000}
}

// The spam submission of the program's lifecycle test
// (tests/programs/tests/bounty_lifecycle.rs), to the base unit.
func TestSpamSubmissionPaysWinnersProRata(t *testing.T) {
	tally := mt.ReviewTally{Commits: 5, Reveals: 5, ApproveWeight: 4_000, RejectWeight: 5_000, SpamWeight: 21_000,
		Approvals: 1, Rejections: 1, SpamCalls: 3}
	st, err := SettleReviews(tally, bountyTerms())
	if err != nil {
		t.Fatal(err)
	}
	if st.Outcome != mt.SubmissionOutcome_Spam || !st.Clear || st.FeePool != 42*native || st.Winners != 4 {
		t.Fatalf("settlement %+v", st)
	}
	s := &mt.Submission{Outcome: st.Outcome, FeePool: st.FeePool, WinningWeight: st.WinningWeight, Clear: st.Clear, Slash: st.Slash, Bond: 10 * native}
	for _, c := range []struct {
		weight uint64
		choice mt.ReviewChoice
		want   uint64
	}{
		{10_000, mt.ReviewChoice_Spam, 4*native + 16_153_846},
		{5_000, mt.ReviewChoice_Reject, 4*native + 8_076_923},
		{4_000, mt.ReviewChoice_Approve, 2 * native},
	} {
		p, err := PayReview(&mt.Review{Revealed: true, Weight: c.weight, Bond: 4 * native, Choice: c.choice}, s)
		if err != nil || p.Amount != c.want {
			t.Errorf("weight %d %v: paid %d (%v), want %d", c.weight, c.choice, p.Amount, err, c.want)
		}
	}
	if got, _ := ContributorPayout(s, 450*native); got != 0 {
		t.Errorf("spam pays the contributor %d", got)
	}
	if p, _ := PayReview(&mt.Review{Revealed: false, Bond: 4 * native}, s); p.Amount != 0 {
		t.Errorf("a no-show is paid %d", p.Amount)
	}
}

func TestThresholdsAreInclusive(t *testing.T) {
	cases := []struct {
		tally mt.ReviewTally
		want  mt.SubmissionOutcome
	}{
		{mt.ReviewTally{Reveals: 3, ApproveWeight: 60, RejectWeight: 40}, mt.SubmissionOutcome_Accepted},
		{mt.ReviewTally{Reveals: 3, ApproveWeight: 59, RejectWeight: 41}, mt.SubmissionOutcome_Rejected},
		{mt.ReviewTally{Reveals: 3, ApproveWeight: 10, SpamWeight: 60, RejectWeight: 30}, mt.SubmissionOutcome_Spam},
		{mt.ReviewTally{Reveals: 2, ApproveWeight: 100}, mt.SubmissionOutcome_Unreviewed},
	}
	for _, c := range cases {
		if got := SubmissionOutcome(c.tally, 3, 6_000); got != c.want {
			t.Errorf("%+v: %v, want %v", c.tally, got, c.want)
		}
	}
}

func TestReservationAndSettlement(t *testing.T) {
	if r, err := Reservation(bountyTerms()); err != nil || r != 990*native {
		t.Fatalf("reservation %d %v", r, err)
	}
	if _, err := Reservation(mt.BountyTerms{Reward: 1, ReviewFee: ^uint64(0), MaxSubmissions: 2}); err != ErrOverflow {
		t.Fatalf("overflow: %v", err)
	}
	award, owed, released, err := BountySettlement(&mt.Bounty{Terms: bountyTerms(), Submissions: 2, Accepted: 0})
	if err != nil || award != 0 || owed != 0 || released != 930*native {
		t.Fatalf("nothing accepted: %d %d %d %v", award, owed, released, err)
	}
	b := &mt.Bounty{Terms: bountyTerms(), Submissions: 3, Accepted: 2}
	b.Terms.Reward = 901
	if award, owed, released, _ = BountySettlement(b); award != 450 || owed != 900 || released != 1 {
		t.Fatalf("two accepted: %d %d %d", award, owed, released)
	}
}

func TestReviewCommitmentBindsEveryInput(t *testing.T) {
	sub, rev := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	base := ReviewCommitment(mt.ReviewChoice_Approve, [32]byte{9}, sub, rev)
	for name, other := range map[string][32]byte{
		"choice":   ReviewCommitment(mt.ReviewChoice_Reject, [32]byte{9}, sub, rev),
		"salt":     ReviewCommitment(mt.ReviewChoice_Approve, [32]byte{8}, sub, rev),
		"reviewer": ReviewCommitment(mt.ReviewChoice_Approve, [32]byte{9}, sub, sub),
	} {
		if other == base {
			t.Errorf("changing the %s keeps the commitment", name)
		}
	}
}
