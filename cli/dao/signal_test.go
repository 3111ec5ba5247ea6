package dao

import (
	"testing"

	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

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
