package pda

import (
	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func find(program solana.PublicKey, seeds ...[]byte) solana.PublicKey {
	addr, _, err := solana.FindProgramAddress(seeds, program)
	if err != nil {
		// Only possible with seeds over 32 bytes, which no caller passes.
		panic("pda: " + err.Error())
	}
	return addr
}

// EventAuthority is the emit_cpi! signer of program.
func EventAuthority(program solana.PublicKey) solana.PublicKey {
	return find(program, SeedEventAuthority)
}

// Protocol is mt_treasury's singleton configuration.
func Protocol() solana.PublicKey { return find(mt_treasury.ProgramID, SeedProtocol) }

// FeeVault is the protocol's native-token fee account.
func FeeVault() solana.PublicKey { return find(mt_treasury.ProgramID, SeedFeeVault) }

// Meter is inference_meter's singleton configuration.
func Meter() solana.PublicKey { return find(inference_meter.ProgramID, SeedMeter) }

// EscrowVault holds every escrow's native tokens.
func EscrowVault() solana.PublicKey { return find(inference_meter.ProgramID, SeedEscrowVault) }

// StakeVault holds every node's stake.
func StakeVault() solana.PublicKey { return find(inference_meter.ProgramID, SeedStakeVault) }
