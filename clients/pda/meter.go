package pda

import (
	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/inference_meter"
)

// inference_meter seeds (programs/inference-meter/src/state/seeds.rs).
var (
	SeedMeter       = []byte("meter")
	SeedEscrowVault = []byte("escrow_vault")
	SeedStakeVault  = []byte("stake_vault")
)

// Meter is inference_meter's singleton configuration.
func Meter() solana.PublicKey { return find(inference_meter.ProgramID, SeedMeter) }

// EscrowVault holds every escrow's native tokens.
func EscrowVault() solana.PublicKey { return find(inference_meter.ProgramID, SeedEscrowVault) }

// StakeVault holds every node's stake.
func StakeVault() solana.PublicKey { return find(inference_meter.ProgramID, SeedStakeVault) }
