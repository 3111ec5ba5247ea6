package dao

import (
	"testing"

	"github.com/gagliardetto/solana-go"

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
	if CanFinalize(&p, 99) || !CanFinalize(&p, 100) {
		t.Error("CanFinalize at the end of voting")
	}
}

// The generated builder encodes the Signal variant as Borsh does: its index alone.
func TestSignalData(t *testing.T) {
	args := mt.CreateProposalArgs{Action: &mt.ProposalAction_Signal{}, Uri: "x"}
	args.ContentHash[0] = 0xab
	ix, err := mt.NewCreateProposalInstruction(args, solana.PublicKey{}, solana.PublicKey{}, solana.PublicKey{}, solana.PublicKey{}, solana.PublicKey{},
		solana.PublicKey{}, solana.PublicKey{}, solana.PublicKey{}, solana.PublicKey{}, mt.ProgramID)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := ix.Data()
	want := append(append([]byte{}, mt.Instruction_CreateProposal[:]...), 5, 0xab)
	want = append(want, make([]byte, 31)...)
	want = append(want, 1, 0, 0, 0, 'x')
	if string(data) != string(want) {
		t.Fatalf("data = %x\nwant   %x", data, want)
	}
}
