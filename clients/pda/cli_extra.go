package pda

import (
	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/inference_meter"
)

// Per-key and per-operator derivations the CLI needs, added here (by the
// CLI) because meter.go did not have them yet; the mt_treasury ones moved to
// treasury.go. Seeds mirror programs/*/src/state/seeds.rs.

// inference_meter per-key and per-operator seeds.
var (
	SeedEscrow = []byte("escrow")
	SeedNode   = []byte("node")
)

// Escrow is the escrow of the API key whose SHA-256 is keyHash.
func Escrow(keyHash [32]byte) solana.PublicKey {
	return find(inference_meter.ProgramID, SeedEscrow, keyHash[:])
}

// Node is operator's node.
func Node(operator solana.PublicKey) solana.PublicKey {
	return find(inference_meter.ProgramID, SeedNode, operator[:])
}
