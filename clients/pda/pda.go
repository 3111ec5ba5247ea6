package pda

import "github.com/gagliardetto/solana-go"

func find(program solana.PublicKey, seeds ...[]byte) solana.PublicKey {
	addr, _, err := solana.FindProgramAddress(seeds, program)
	if err != nil {
		// Only possible with a seed over 32 bytes, which no caller passes.
		panic("pda: " + err.Error())
	}
	return addr
}

// EventAuthority is the emit_cpi! signer of program.
func EventAuthority(program solana.PublicKey) solana.PublicKey {
	return find(program, SeedEventAuthority)
}
