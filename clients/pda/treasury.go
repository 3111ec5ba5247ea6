package pda

import (
	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// mt_treasury seeds (programs/mt-treasury/src/state/seeds.rs).
var (
	SeedProtocol = []byte("protocol")
	SeedFeeVault = []byte("fee_vault")
)

// Protocol is mt_treasury's singleton configuration.
func Protocol() solana.PublicKey { return find(mt_treasury.ProgramID, SeedProtocol) }

// FeeVault is the protocol's native-token fee account.
func FeeVault() solana.PublicKey { return find(mt_treasury.ProgramID, SeedFeeVault) }
