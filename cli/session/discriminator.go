package session

import "github.com/gagliardetto/solana-go"

// WithDiscriminator returns ix with its instruction data set to disc when
// the data is empty. anchor-go v1.0.0 generates builders for instructions
// without arguments that leave the data nil — no Anchor discriminator — so
// the program rejects them (InstructionFallbackNotFound). Builders that do
// write data (every instruction with arguments, or a fixed generator) pass
// through unchanged.
func WithDiscriminator(ix solana.Instruction, disc [8]byte) solana.Instruction {
	data, err := ix.Data()
	if err == nil && len(data) > 0 {
		return ix
	}
	return solana.NewInstruction(ix.ProgramID(), ix.Accounts(), disc[:])
}
