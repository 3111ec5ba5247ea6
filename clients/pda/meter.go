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
	SeedEscrow      = []byte("escrow")
	SeedNode        = []byte("node")
	SeedDomain      = []byte("domain")
	SeedMember      = []byte("member")
)

func meter(seeds ...[]byte) solana.PublicKey { return find(inference_meter.ProgramID, seeds...) }

// Meter is inference_meter's singleton configuration; it is also the
// authority of the escrow and stake vaults.
func Meter() solana.PublicKey { return meter(SeedMeter) }

// EscrowVault holds every escrow's native tokens.
func EscrowVault() solana.PublicKey { return meter(SeedEscrowVault) }

// StakeVault holds every node's stake.
func StakeVault() solana.PublicKey { return meter(SeedStakeVault) }

// Escrow is the escrow of the API key whose id (clients/apikey.ID) is keyID.
func Escrow(keyID solana.PublicKey) solana.PublicKey { return meter(SeedEscrow, keyID[:]) }

// Node is the node registered by operator.
func Node(operator solana.PublicKey) solana.PublicKey { return meter(SeedNode, operator[:]) }

// Domain is the domain operator runs under name (1..=32 bytes).
func Domain(operator solana.PublicKey, name string) solana.PublicKey {
	return meter(SeedDomain, operator[:], []byte(name))
}

// Membership is node's membership of domain (node is the node account, not its operator).
func Membership(domain, node solana.PublicKey) solana.PublicKey {
	return meter(SeedMember, domain[:], node[:])
}
